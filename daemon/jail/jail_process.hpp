// One launched jail, watched on a Boost.Asio event loop: the part that one-shot executions
// (execution.hpp) and long-lived session jails (daemon/sessions/interpreter.hpp) share.
//
// launch() gets the jail its network as the policy says (an isolated namespace made ahead of
// time for "none"; for "egress" it waits, without blocking the loop, for a namespace with its
// veth and rules), makes and limits the job cgroup, builds the mount plan and clones the jail
// with the caller's stdin. From then on everything is asynchronous: stdout and stderr are read
// and handed to the owner chunk by chunk, the status pipe's records are kept, the supervisor's
// pidfd is watched, and on request the wall clock and the cgroup's CPU time are checked by
// timers. kill() ends every process of the cgroup. `ended` runs once, after the supervisor is
// reaped and the three pipes reached EOF (or when the jail could not be started); the cgroup is
// still there then, for release(). The network is retired just before `ended`: every process
// that could use it is gone.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "daemon/jail/cgroup.hpp"
#include "daemon/jail/child_report.hpp"
#include "daemon/jail/jail_template.hpp"
#include "daemon/jail/launch_plan.hpp"
#include "daemon/jail/mount_plan.hpp"
#include "daemon/jail/rlimits.hpp"
#include "daemon/jail/runtime.hpp"
#include "daemon/jail/workspace.hpp"
#include "policy/limits.hpp"

namespace sbx::jail {

enum class OutputStream { stdout_stream, stderr_stream };

struct JailSpec {
    std::string name;               // unique among running jails; names the cgroup
    std::vector<std::string> argv;  // argv[0] absolute, relative to the work dir, or looked up in PATH
    std::vector<std::string> env;   // "KEY=VALUE", added to (and overriding) the policy's
    policy::Limits limits;          // cgroup limits, rlimits and tmpfs sizes
    UniqueFd stdin_fd;              // becomes the payload's stdin; closed here after the clone
    // Read-only binds added to the policy's (a language's runtime files, a session's drivers);
    // may be null. The owner keeps them alive until `launched` or `ended`.
    const std::vector<ResolvedBind>* extra_binds = nullptr;
    // For benchmarks and tests only (the daemon never sets it): join this network namespace
    // instead of the one the policy's network mode calls for. The fd stays the caller's.
    int netns_fd = -1;
};

struct JailEvents {
    std::function<void()> launched;                                 // cloned (its network was ready)
    std::function<void()> started;                                  // the payload is being exec'd
    std::function<void(OutputStream, std::string_view)> output;     // each chunk read
    std::function<void()> ended;  // every process gone, pipes at EOF; or not started (launch_error)
};

enum class LimitHit { wall_time, cpu_time };

// A CPU-time budget: the cgroup's CPU time beyond `baseline_us` may reach `budget`.
struct CpuWatch {
    std::uint64_t baseline_us = 0;
    std::chrono::microseconds budget{};
    double cores = 1.0;  // the cgroup's bandwidth: how fast the budget can be used up
};

// What release() found: the cgroup's accounting (when it could be read) and a failure to
// remove the cgroup.
struct JailRelease {
    std::optional<CgroupUsage> usage;
    std::optional<Error> error;
};

class JailProcess : public std::enable_shared_from_this<JailProcess> {
public:
    // `runtime`, `jail` and `workspace` must outlive the jail.
    JailProcess(boost::asio::io_context& io, JailRuntime& runtime, std::shared_ptr<const JailTemplate> jail,
                const Workspace& workspace, JailEvents events);
    JailProcess(const JailProcess&) = delete;
    JailProcess& operator=(const JailProcess&) = delete;
    ~JailProcess();

    // Starts the jail, asynchronously: `ended` follows exactly once (never from within this
    // call), with launch_error() set when the jail could not be started.
    void launch(JailSpec spec);

    // SIGKILL to the supervisor and every process of the cgroup. Before the clone (waiting for
    // the network) nothing runs yet: the launch is abandoned and `ended` follows. No-op once reaped.
    void kill();

    // Arms the wall clock (until `deadline`) and, when given, a CPU-time budget; the first that
    // runs out calls `hit`, once. Replaces an earlier watch.
    void watch_limits(std::chrono::steady_clock::time_point deadline, std::optional<CpuWatch> cpu,
                      std::function<void(LimitHit)> hit);
    void stop_watch();

    // Hands everything stdout and stderr hold right now to `output`, then calls `done`: output
    // written before some other sign from the jail (a session driver's reply) is all delivered
    // when `done` runs, whatever order the loop would have read the descriptors in.
    void drain_output(std::function<void()> done);

    // Reads the accounting and removes the cgroup. Call after `ended` (or a failed launch).
    JailRelease release();

    bool launched() const { return launched_; }
    bool started() const { return started_; }
    // Why the jail could not be started (its network, the cgroup, the clone), if it could not.
    const std::optional<Error>& launch_error() const { return launch_error_; }
    // The network the jail joined (none when it cloned its own namespace).
    const JailNetwork* network() const { return network_ ? &*network_ : nullptr; }
    bool reaped() const { return reaped_; }
    std::uint64_t started_ns() const { return started_ns_; }
    std::uint64_t reaped_ns() const { return reaped_ns_; }
    std::uint64_t setup_cpu_us() const { return setup_cpu_us_; }
    const std::optional<StatusRecord>& exit_record() const { return exited_; }
    const std::optional<StatusRecord>& failure() const { return failure_; }
    int supervisor_code() const { return supervisor_code_; }
    int supervisor_status() const { return supervisor_status_; }
    JobCgroup* cgroup() const { return cgroup_.get(); }
    // "mount bind /usr on /usr: No such file or directory", for a failed setup step.
    std::string describe_failure(const StatusRecord& r) const;

private:
    void on_network(Result<JailNetwork> network);
    void clone_jail();
    Status prepare_and_launch();
    void fail(Error error);
    void end();
    boost::asio::posix::stream_descriptor& stream(OutputStream s) {
        return s == OutputStream::stdout_stream ? stdout_ : stderr_;
    }
    std::array<char, 65536>& buffer(OutputStream s) { return s == OutputStream::stdout_stream ? out_buf_ : err_buf_; }
    void read_output(OutputStream s);
    void on_output(OutputStream s, const boost::system::error_code& ec, std::size_t n);
    void finish_drain();
    void read_status();
    void on_status(const boost::system::error_code& ec, std::size_t n);
    void handle_record(const StatusRecord& r);
    void schedule_cpu_check(std::chrono::microseconds remaining);
    void check_cpu();
    void limit_hit(LimitHit what);
    void wait_for_exit();
    void on_supervisor_exit();
    void maybe_end();

    boost::asio::io_context& io_;
    JailRuntime& runtime_;
    std::shared_ptr<const JailTemplate> jail_;
    const Workspace& workspace_;
    JailEvents events_;
    JailSpec spec_;  // until the clone

    std::optional<JailNetwork> network_;
    std::string program_;  // argv[0], for messages
    std::unique_ptr<JobCgroup> cgroup_;
    std::optional<MountPlan> mounts_;
    std::vector<std::string> env_;
    std::vector<std::string> argv_strings_;
    std::vector<const char*> argv_;
    std::vector<const char*> envp_;
    RlimitTable rlimits_{};
    LaunchPlan plan_;

    boost::asio::posix::stream_descriptor pidfd_;
    boost::asio::posix::stream_descriptor stdout_;
    boost::asio::posix::stream_descriptor stderr_;
    boost::asio::posix::stream_descriptor status_;
    boost::asio::steady_timer wall_timer_;
    boost::asio::steady_timer cpu_timer_;
    boost::asio::steady_timer drain_timer_;
    std::array<char, 65536> out_buf_{};
    std::array<char, 65536> err_buf_{};
    std::array<char, 256> status_buf_{};
    std::string status_bytes_;
    std::array<bool, 2> reading_{};  // an asynchronous read is pending, per stream
    std::array<bool, 2> at_eof_{};
    int drain_pending_ = 0;           // reads still to complete before a drain reads the rest
    std::function<void()> drain_done_;

    std::function<void(LimitHit)> hit_;
    std::uint64_t watch_ = 0;  // generation of the current watch
    CpuWatch cpu_;

    std::optional<StatusRecord> failure_;
    std::optional<StatusRecord> exited_;
    std::optional<Error> launch_error_;
    bool waiting_network_ = false;
    bool abandoned_ = false;  // killed before the clone
    bool launched_ = false;
    bool started_ = false;
    bool reaped_ = false;
    bool ended_ = false;
    int streams_closed_ = 0;
    int supervisor_code_ = 0;
    int supervisor_status_ = 0;
    std::uint64_t started_ns_ = 0;
    std::uint64_t setup_cpu_us_ = 0;
    std::uint64_t reaped_ns_ = 0;
};

}  // namespace sbx::jail
