#include "daemon/sessions/session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cmath>

#include "policy/units.hpp"

namespace sbx::sessions {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

// Calls that may wait behind the one running.
constexpr std::size_t kMaxQueuedCalls = 16;

double seconds(steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Session::Session(asio::io_context& io, jail::JailRuntime& runtime, SessionSpec spec)
    : io_(io), runtime_(runtime), spec_(std::move(spec)) {}

void Session::open(Opened opened) {
    opened_ = std::move(opened);
    start_interpreter();
}

void Session::start_interpreter() {
    ++generation_;
    InterpreterSpec is;
    is.name = "s" + spec_.id.substr(0, 12) + "-" + std::to_string(generation_);
    is.jail = spec_.registry->jail_for(spec_.policy->name);
    is.argv = spec_.language->session_command(kDriversMount);
    is.env = spec_.env;
    is.limits = spec_.limits;
    // RLIMIT_CPU counts a process's whole life, and the driver lives as long as the session:
    // the per-call CPU limit is the cgroup check's; the rlimit only bounds the lifetime.
    is.limits.cpu_time = std::chrono::duration_cast<policy::Duration>(
        spec_.max_lifetime * std::max(1.0, std::ceil(spec_.limits.cpu_cores)));
    // The language's own binds, then the drivers (read-only, where the session command finds them).
    is.binds = spec_.registry->language_state(spec_.language->name).binds;
    jail::ResolvedBind drivers;
    drivers.kind = jail::ResolvedBind::Kind::directory;
    drivers.source = spec_.drivers_dir;
    drivers.target = kDriversMount;
    is.binds.push_back(std::move(drivers));
    interpreter_ = std::make_shared<Interpreter>(io_, runtime_, std::move(is));
    std::weak_ptr<Session> weak = shared_from_this();
    const std::uint32_t generation = generation_;
    interpreter_->on_lost([weak, generation] {
        if (auto self = weak.lock(); self && self->generation_ == generation) self->on_lost();
    });
    interpreter_->start([weak, generation](Status status) {
        if (auto self = weak.lock(); self && self->generation_ == generation) self->on_started(std::move(status));
    });
}

void Session::on_started(Status status) {
    if (auto opened = std::move(opened_)) {
        opened(status);
        if (!status) interpreter_.reset();
        return;
    }
    if (!status) {
        spdlog::error("session {}: the interpreter could not be restarted: {}", spec_.id, status.error().message());
        interpreter_.reset();
        refuse_waiting("internal_error", "the session's interpreter could not be restarted: " + status.error().message());
        return;
    }
    pump();
}

bool Session::exec(std::string code, const CallLimits& limits, Answer answer) {
    if (queue_.size() >= kMaxQueuedCalls) return false;
    queue_.push_back({std::move(code), limits, std::move(answer)});
    pump();
    return true;
}

void Session::pump() {
    if (closed_ || running_call_ || queue_.empty()) return;
    if (!interpreter_) {  // its restart failed: try again for this call
        start_interpreter();
        return;
    }
    if (!interpreter_->idle()) return;  // starting: on_started pumps
    running_call_ = true;
    Call& call = queue_.front();
    std::weak_ptr<Session> weak = shared_from_this();
    interpreter_->call(call.code, call.limits, [weak](protocol::SessionExecResult result, bool lost) {
        if (auto self = weak.lock()) self->finished(std::move(result), lost);
    });
}

void Session::finished(protocol::SessionExecResult result, bool lost) {
    running_call_ = false;
    last_active_ = steady_clock::now();
    Call call = std::move(queue_.front());
    queue_.pop_front();
    ++calls_;
    result.session_id = spec_.id;
    result.state_lost = lost || state_lost_;
    state_lost_ = false;
    if (lost) {
        ++restarts_;
        spdlog::info("session {}: {}; starting a fresh interpreter", spec_.id, result.run.message);
        start_interpreter();
    }
    result.restarts = restarts_;
    result.execution_count = calls_;
    call.answer(std::move(result));
    pump();
}

void Session::on_lost() {
    ++restarts_;
    state_lost_ = true;
    spdlog::warn("session {}: the interpreter ended between calls; starting a fresh one", spec_.id);
    start_interpreter();
}

void Session::refuse_waiting(const std::string& status, const std::string& message) {
    auto waiting = std::move(queue_);
    queue_.clear();
    running_call_ = false;
    for (Call& call : waiting) {
        protocol::SessionExecResult r;
        r.session_id = spec_.id;
        r.run.status = status;
        r.run.message = message;
        r.state_lost = true;
        r.restarts = restarts_;
        r.execution_count = calls_;
        call.answer(std::move(r));
    }
}

void Session::close(const std::string& reason, std::function<void()> closed) {
    if (closed_) {
        if (closed) asio::post(io_, std::move(closed));
        return;
    }
    closed_ = true;
    if (auto opened = std::move(opened_))
        asio::post(io_, [opened = std::move(opened), reason] { opened(Error::invalid("session", reason)); });
    // The running call (at the front of the queue) is answered too: its interpreter stops now.
    refuse_waiting("cancelled", reason);
    ++generation_;  // nothing the old interpreter still reports matters now
    if (interpreter_) {
        interpreter_->stop(std::move(closed));
        interpreter_.reset();
    } else if (closed) {
        asio::post(io_, std::move(closed));
    }
}

bool Session::expired(steady_clock::time_point now, std::string& why) const {
    if (closed_) return false;
    if (now >= created_ + spec_.max_lifetime) {
        why = "reached its maximum lifetime of " + policy::format_duration(spec_.max_lifetime);
        return true;
    }
    if (!running_call_ && queue_.empty() && now >= last_active_ + spec_.idle_timeout) {
        why = "was idle for " + policy::format_duration(spec_.idle_timeout);
        return true;
    }
    return false;
}

protocol::SessionInfo Session::info() const {
    protocol::SessionInfo i;
    auto now = steady_clock::now();
    i.session_id = spec_.id;
    i.policy = spec_.policy->name;
    i.language = spec_.language->name;
    i.state = running_call_ ? "busy" : (interpreter_ && interpreter_->idle() ? "idle" : "starting");
    i.age_s = seconds(now - created_);
    i.idle_s = running_call_ || !queue_.empty() ? 0 : seconds(now - last_active_);
    i.idle_timeout_s = seconds(spec_.idle_timeout);
    i.max_lifetime_s = seconds(spec_.max_lifetime);
    i.calls = calls_;
    i.restarts = restarts_;
    i.cpu_ms = interpreter_ ? interpreter_->cpu_ms() : 0;
    i.memory_peak_bytes = interpreter_ ? interpreter_->memory_peak_bytes() : 0;
    i.memory_limit_bytes = spec_.limits.memory_bytes;
    return i;
}

}  // namespace sbx::sessions
