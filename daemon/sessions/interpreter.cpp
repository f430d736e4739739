#include "daemon/sessions/interpreter.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "policy/units.hpp"

namespace sbx::sessions {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

// A driver starts in well under a second (Python ~50 ms); this only bounds a broken one.
constexpr std::chrono::seconds kStartAllowance{15};
constexpr std::size_t kStartupStderrBytes = 4096;
// Between the driver's socket closing and its jail ending, when the driver exited.
constexpr std::chrono::milliseconds kExitGrace{1000};

double ms_since(steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(steady_clock::now() - t).count();
}

void append_capped(std::string& kept, std::string_view data, std::size_t cap, bool& truncated) {
    std::size_t room = cap - std::min(kept.size(), cap);
    kept.append(data.substr(0, room));
    if (data.size() > room) truncated = true;
}

}  // namespace

Interpreter::Interpreter(asio::io_context& io, jail::JailRuntime& runtime, InterpreterSpec spec)
    : io_(io), runtime_(runtime), spec_(std::move(spec)), control_(io) {}

void Interpreter::start(Started started) {
    started_ = std::move(started);
    state_ = State::starting;
    if (auto s = launch(); !s) {
        if (process_) (void)process_->release();
        workspace_.reset();
        state_ = State::ended;
        asio::post(io_, [self = shared_from_this(), error = std::move(s).error()]() mutable {
            if (auto callback = std::move(self->started_)) callback(std::move(error));
        });
        return;
    }
    read_control();
    process_->watch_limits(steady_clock::now() + kStartAllowance, std::nullopt,
                           [self = shared_from_this()](jail::LimitHit) { self->kill(Kill::start_timeout); });
}

Status Interpreter::launch() {
    auto box = runtime_.box_ids.acquire(spec_.jail->box_ids);
    if (!box) return std::move(box).error();
    auto ws = jail::Workspace::create(runtime_.jobs_dir, spec_.name, spec_.limits.tmpfs_bytes, std::move(*box));
    if (!ws) return std::move(ws).error();
    workspace_ = std::make_unique<jail::Workspace>(std::move(*ws));

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return Error::system("socketpair for a driver");
    UniqueFd ours(pair[0]);
    UniqueFd theirs(pair[1]);

    jail::JailEvents events;
    events.output = [self = shared_from_this()](jail::OutputStream s, std::string_view data) { self->capture(s, data); };
    events.ended = [self = shared_from_this()] { self->on_jail_ended(); };
    process_ = std::make_shared<jail::JailProcess>(io_, runtime_, spec_.jail, *workspace_, std::move(events));

    control_.assign(ours.release());
    process_->launch(jail::JailSpec{spec_.name, spec_.argv, spec_.env, spec_.limits, std::move(theirs), &spec_.binds});
    return {};
}

void Interpreter::read_control() {
    control_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](
                                                             const boost::system::error_code& ec, std::size_t n) {
        if (n > 0) {
            self->decoder_.feed(self->read_buffer_.data(), n);
            std::string payload;
            for (;;) {
                auto status = self->decoder_.next(payload);
                if (status == DriverFrameDecoder::Status::need_more) break;
                if (status == DriverFrameDecoder::Status::invalid) {
                    self->kill(Kill::protocol, "it sent " + self->decoder_.error());
                    return;
                }
                self->on_frame(std::move(payload));
                if (self->state_ == State::stopping || self->state_ == State::ended) return;
            }
        }
        if (ec) {
            // The driver exited (its jail ends now, with its exit status) or closed its end (then
            // it cannot be talked to any more and is killed after a moment).
            if (ec != asio::error::operation_aborted && self->process_ && !self->process_->reaped())
                self->process_->watch_limits(steady_clock::now() + kExitGrace, std::nullopt,
                                             [self](jail::LimitHit) { self->kill(Kill::driver_exit); });
            return;
        }
        self->read_control();
    });
}

void Interpreter::on_frame(std::string payload) {
    switch (state_) {
        case State::starting: return on_ready(payload);
        case State::busy: return on_reply(payload);
        default: return kill(Kill::protocol, "it sent a frame nobody asked for");
    }
}

void Interpreter::on_ready(const std::string& payload) {
    auto ready = parse_ready(payload);
    if (!ready) return kill(Kill::protocol, ready.error().message());
    process_->stop_watch();
    state_ = State::idle;
    freeze(true);
    if (auto started = std::move(started_)) started(Status{});
}

void Interpreter::call(const std::string& code, const CallLimits& limits, Finished finished) {
    finished_ = std::move(finished);
    limits_ = limits;
    result_ = {};
    state_ = State::busy;
    freeze(false);
    call_started_ = steady_clock::now();
    auto cpu = process_->cgroup()->cpu_usage_us();
    call_cpu_baseline_us_ = cpu ? *cpu : 0;
    process_->watch_limits(call_started_ + limits.wall_time,
                           jail::CpuWatch{call_cpu_baseline_us_, limits.cpu_time, spec_.limits.cpu_cores},
                           [self = shared_from_this()](jail::LimitHit hit) {
                               self->kill(hit == jail::LimitHit::wall_time ? Kill::wall_time : Kill::cpu_time);
                           });
    outgoing_ = encode_exec_request(code);
    // A write that fails means the driver is gone: the read side sees the end of the socket.
    asio::async_write(control_, asio::buffer(outgoing_),
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) {});
}

void Interpreter::on_reply(const std::string& payload) {
    ReplyCaps caps;
    caps.text_bytes = limits_.output_bytes;
    auto reply = parse_reply(payload, caps);
    if (!reply) return kill(Kill::protocol, reply.error().message());
    process_->stop_watch();
    // Everything the call printed is in the pipes by now (the driver flushed before replying).
    process_->drain_output([self = shared_from_this(), reply = std::move(*reply)]() mutable {
        if (self->state_ != State::busy) return;  // killed meanwhile: the jail's end reports
        auto& r = self->result_;
        r.run.status = reply.failed || reply.exit_code != 0 ? "runtime_error" : "ok";
        r.run.exit_code = reply.exit_code;
        r.run.wall_ms = ms_since(self->call_started_);
        auto cpu = self->process_->cgroup()->cpu_usage_us();
        if (cpu) r.run.cpu_ms = static_cast<double>(*cpu - std::min(*cpu, self->call_cpu_baseline_us_)) / 1e3;
        r.run.memory_peak_bytes = self->memory_peak_bytes();
        r.run.message = std::move(reply.notes);
        r.value = std::move(reply.value);
        r.error = std::move(reply.error);
        r.images = std::move(reply.images);
        self->freeze(true);
        self->state_ = State::idle;
        auto finished = std::move(self->finished_);
        finished(std::move(r), false);
    });
}

void Interpreter::capture(jail::OutputStream s, std::string_view data) {
    const bool out = s == jail::OutputStream::stdout_stream;
    if (state_ == State::busy) {
        append_capped(out ? result_.run.stdout_data : result_.run.stderr_data, data, limits_.output_bytes,
                      out ? result_.run.stdout_truncated : result_.run.stderr_truncated);
    } else if (state_ == State::starting && !out) {
        bool ignored = false;
        append_capped(startup_stderr_, data, kStartupStderrBytes, ignored);
    }
    // Output between calls (a background process of an earlier call) is dropped.
}

void Interpreter::freeze(bool frozen) {
    if (!process_ || !process_->cgroup()) return;
    if (auto s = process_->cgroup()->set_frozen(frozen); !s)
        spdlog::warn("session jail {}: {}: {}", spec_.name, frozen ? "freeze" : "thaw", s.error().message());
}

void Interpreter::kill(Kill why, std::string detail) {
    if (state_ == State::ended || !process_) return;
    if (kill_ == Kill::none) {
        kill_ = why;
        kill_detail_ = std::move(detail);
    }
    process_->stop_watch();
    process_->kill();
}

void Interpreter::stop(std::function<void()> done) {
    stopped_ = std::move(done);
    if (state_ == State::ended) {
        if (auto stopped = std::move(stopped_)) asio::post(io_, std::move(stopped));
        return;
    }
    state_ = State::stopping;
    started_ = nullptr;
    finished_ = nullptr;
    lost_ = nullptr;
    if (process_) {
        process_->stop_watch();
        process_->kill();
    }
}

void Interpreter::on_jail_ended() {
    State was = state_;
    state_ = State::ended;
    boost::system::error_code ignored;
    control_.close(ignored);
    jail::JailRelease released = process_->release();
    if (released.error) spdlog::warn("session jail {}: {}", spec_.name, released.error->message());
    if (workspace_) {
        if (auto s = workspace_->release(); !s) spdlog::warn("session jail {}: {}", spec_.name, s.error().message());
        workspace_.reset();
    }
    switch (was) {
        case State::starting: {
            std::string why = kill_ == Kill::start_timeout
                                  ? "did not start within " + std::to_string(kStartAllowance.count()) + " s"
                              : kill_ == Kill::protocol ? "broke the driver protocol: " + kill_detail_
                              : process_->launch_error() ? "could not be started: " + process_->launch_error()->message()
                              : process_->failure()     ? "could not be set up: " + process_->describe_failure(*process_->failure())
                                                        : "exited before it was ready";
            if (auto started = std::move(started_)) started(Error::invalid("session driver " + spec_.argv.back(), why + stderr_excerpt()));
            break;
        }
        case State::busy: {
            auto finished = std::move(finished_);
            if (finished) finished(lost_result(released.usage), true);
            break;
        }
        case State::idle:
            if (auto lost = std::move(lost_)) lost();
            break;
        default:
            break;
    }
    if (auto stopped = std::move(stopped_)) stopped();
}

protocol::SessionExecResult Interpreter::lost_result(const std::optional<jail::CgroupUsage>& usage) const {
    protocol::SessionExecResult r = result_;
    r.run.wall_ms = ms_since(call_started_);
    if (usage) {
        r.run.cpu_ms = static_cast<double>(usage->cpu_usage_us - std::min(usage->cpu_usage_us, call_cpu_baseline_us_)) / 1e3;
        r.run.memory_peak_bytes = usage->memory_peak_bytes;
    }
    const char* lost = "; the interpreter was replaced and its state is lost";
    switch (kill_) {
        case Kill::wall_time:
            r.run.status = "time_limit";
            r.run.message = "wall-clock limit of " + policy::format_duration(limits_.wall_time) + " exceeded" + lost;
            return r;
        case Kill::cpu_time:
            r.run.status = "time_limit";
            r.run.message = "CPU-time limit of " + policy::format_duration(limits_.cpu_time) + " exceeded" + lost;
            return r;
        case Kill::protocol:
            r.run.status = "runtime_error";
            r.run.message = "the code broke the driver protocol (" + kill_detail_ + ")" + lost;
            return r;
        default:
            break;
    }
    if (usage && usage->oom_kills > 0) {
        r.run.status = "memory_limit";
        r.run.signal = SIGKILL;
        r.run.message = "memory limit of " + policy::format_size(spec_.limits.memory_bytes) + " exceeded" + lost;
        return r;
    }
    const auto& exited = process_->exit_record();
    int ws = exited ? exited->wait_status : 0;
    if (exited && WIFSIGNALED(ws)) {
        r.run.status = "signaled";
        r.run.signal = WTERMSIG(ws);
        r.run.message = std::string("the interpreter was killed by signal SIG") + sigabbrev_np(r.run.signal) + lost;
    } else {
        r.run.status = "runtime_error";
        r.run.exit_code = exited && WIFEXITED(ws) ? WEXITSTATUS(ws) : 0;
        r.run.message = "the interpreter exited with code " + std::to_string(r.run.exit_code) + lost;
    }
    return r;
}

std::string Interpreter::stderr_excerpt() const {
    if (startup_stderr_.empty()) return {};
    return "; it wrote: " + startup_stderr_;
}

double Interpreter::cpu_ms() const {
    if (!process_ || !process_->cgroup()) return 0;
    auto cpu = process_->cgroup()->cpu_usage_us();
    return cpu ? static_cast<double>(*cpu) / 1e3 : 0;
}

std::uint64_t Interpreter::memory_peak_bytes() const {
    if (!process_ || !process_->cgroup()) return 0;
    auto usage = process_->cgroup()->usage();
    return usage ? usage->memory_peak_bytes : 0;
}

}  // namespace sbx::sessions
