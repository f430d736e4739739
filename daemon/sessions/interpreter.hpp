// One interpreter of a session: a long-lived jail (jail_process.hpp) whose program is a
// language's session driver (policy/drivers/), spoken to over a socketpair that is the driver's
// stdin (driver_protocol.hpp). Between calls the jail's cgroup is frozen, so an idle
// interpreter uses no CPU; a call thaws it, sends the code, waits for the reply within the
// call's wall-clock and CPU limits, reads the output the call wrote, and freezes it again.
//
// An interpreter is cattle: a call past its limits, a driver that dies or breaks the protocol,
// or the kernel's OOM killer ends the whole jail, and the call's result says the state was lost.
// The session (session.hpp) then starts another.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "daemon/jail/jail_process.hpp"
#include "daemon/jail/runtime.hpp"
#include "daemon/jail/workspace.hpp"
#include "daemon/sessions/driver_protocol.hpp"
#include "protocol/messages.hpp"

namespace sbx::sessions {

// Where the drivers directory is bound (read-only) inside every session jail: a path of its own,
// since the policy binds /usr and the like read-only.
inline constexpr const char* kDriversMount = "/sandboxd/drivers";

struct InterpreterSpec {
    std::string name;  // unique among jails: names the cgroup and the workspace
    std::shared_ptr<const jail::JailTemplate> jail;
    std::vector<std::string> argv;
    std::vector<std::string> env;
    policy::Limits limits;                 // of the jail: memory, pids, cores, tmpfs, rlimits
    std::vector<jail::ResolvedBind> binds;  // read-only, beyond the policy's: the language's, the drivers
};

struct CallLimits {
    policy::Duration wall_time{};
    policy::Duration cpu_time{};
    std::uint64_t output_bytes = 0;  // kept per stream; the rest is dropped (the call goes on)
};

class Interpreter : public std::enable_shared_from_this<Interpreter> {
public:
    using Started = std::function<void(Status)>;
    // The call's result; `lost` when the jail ended with it (the state is gone).
    using Finished = std::function<void(protocol::SessionExecResult result, bool lost)>;

    Interpreter(boost::asio::io_context& io, jail::JailRuntime& runtime, InterpreterSpec spec);
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    // Launches the jail and waits for the driver's "ready". `started` runs once: ok, or why the
    // driver did not start (with what it wrote on stderr).
    void start(Started started);
    // Runs one chunk of code; only while idle (one call at a time).
    void call(const std::string& code, const CallLimits& limits, Finished finished);
    // Runs once if the jail ends while idle (nothing is waiting for it then).
    void on_lost(std::function<void()> lost) { lost_ = std::move(lost); }
    // Kills the jail; `done` runs once every process is gone and the cgroup and workspace are
    // removed. Nothing else is reported after this.
    void stop(std::function<void()> done = {});

    bool idle() const { return state_ == State::idle; }
    bool ended() const { return state_ == State::ended; }
    double cpu_ms() const;
    std::uint64_t memory_peak_bytes() const;

private:
    enum class State { created, starting, idle, busy, stopping, ended };
    enum class Kill { none, start_timeout, wall_time, cpu_time, protocol, driver_exit };

    Status launch();
    void read_control();
    void on_frame(std::string payload);
    void on_ready(const std::string& payload);
    void on_reply(const std::string& payload);
    void kill(Kill why, std::string detail = {});
    void on_jail_ended();
    void capture(jail::OutputStream s, std::string_view data);
    void freeze(bool frozen);
    protocol::SessionExecResult lost_result(const std::optional<jail::CgroupUsage>& usage) const;
    std::string stderr_excerpt() const;

    boost::asio::io_context& io_;
    jail::JailRuntime& runtime_;
    InterpreterSpec spec_;
    std::unique_ptr<jail::Workspace> workspace_;
    std::shared_ptr<jail::JailProcess> process_;
    boost::asio::posix::stream_descriptor control_;
    DriverFrameDecoder decoder_;
    std::array<char, 65536> read_buffer_{};
    std::string outgoing_;

    State state_ = State::created;
    Kill kill_ = Kill::none;
    std::string kill_detail_;
    Started started_;
    std::function<void()> lost_;
    std::function<void()> stopped_;

    // The call in progress.
    Finished finished_;
    CallLimits limits_;
    protocol::SessionExecResult result_;
    std::chrono::steady_clock::time_point call_started_{};
    std::uint64_t call_cpu_baseline_us_ = 0;
    std::string startup_stderr_;  // what the driver said before it was ready (or failed)
};

}  // namespace sbx::sessions
