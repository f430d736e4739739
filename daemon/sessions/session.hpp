// One stateful session: who owns it, what it may use, and its interpreter (interpreter.hpp).
// Calls are answered one at a time, in order; more wait in a short queue. When the interpreter
// is lost (a call past its limits, a crash, the memory limit) a fresh one is started at once,
// and the result of the call that lost it, or of the next call when it was lost while idle,
// says `state_lost`.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/jobs/registry.hpp"
#include "daemon/sessions/interpreter.hpp"
#include "protocol/messages.hpp"

namespace sbx::sessions {

struct SessionSpec {
    std::string id;
    uid_t uid = 0;
    std::string owner;  // within the uid (sandbox-http: one per token)
    std::shared_ptr<const jobs::Registry> registry;  // keeps the policy and language alive
    const policy::Policy* policy = nullptr;
    const policy::Language* language = nullptr;
    policy::LimitBounds bounds;  // the policy's, with the language's defaults ([limits])
    policy::Limits limits;       // the jail's, and each call's defaults (wall, CPU, output)
    policy::LimitRequest requested_limits;  // what session.open asked for: calls start from it
    policy::Duration idle_timeout{};
    policy::Duration max_lifetime{};
    std::vector<std::string> env;  // the language's and the request's, "KEY=VALUE"
    std::string drivers_dir;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    using Opened = std::function<void(Status)>;
    using Answer = std::function<void(protocol::SessionExecResult)>;

    Session(boost::asio::io_context& io, jail::JailRuntime& runtime, SessionSpec spec);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Starts the first interpreter; `opened` says whether it came up.
    void open(Opened opened);
    // Queues a call; false when the queue is full.
    bool exec(std::string code, const CallLimits& limits, Answer answer);
    // Ends the session: waiting calls are answered `cancelled` with `reason`; `closed` runs once
    // the jail is gone.
    void close(const std::string& reason, std::function<void()> closed = {});

    const SessionSpec& spec() const { return spec_; }
    bool belongs_to(uid_t uid, const std::string& owner) const { return uid == spec_.uid && owner == spec_.owner; }
    // When it is due for reaping: its idle deadline while nothing runs or waits, and its end of life.
    bool expired(std::chrono::steady_clock::time_point now, std::string& why) const;
    protocol::SessionInfo info() const;

private:
    struct Call {
        std::string code;
        CallLimits limits;
        Answer answer;
    };

    void start_interpreter();
    void on_started(Status status);
    void pump();
    void finished(protocol::SessionExecResult result, bool lost);
    void on_lost();
    void refuse_waiting(const std::string& status, const std::string& message);

    boost::asio::io_context& io_;
    jail::JailRuntime& runtime_;
    SessionSpec spec_;
    std::shared_ptr<Interpreter> interpreter_;
    std::deque<Call> queue_;
    Opened opened_;
    bool running_call_ = false;
    bool closed_ = false;
    bool state_lost_ = false;  // lost while idle: the next answer says so
    std::uint32_t restarts_ = 0;
    std::uint32_t generation_ = 0;
    std::uint64_t calls_ = 0;
    std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_active_ = created_;
};

}  // namespace sbx::sessions
