#include "daemon/jail/execution.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <optional>

#include "common/unique_fd.hpp"
#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

namespace asio = boost::asio;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::steady_clock;

namespace {

// Time for the jail's own setup before the wall clock of the payload starts counting.
constexpr milliseconds kSetupAllowance{2000};

enum class KillReason { none, wall_time, cpu_time, output, cancelled, setup_timeout };

// stdin as a sealed memfd: the payload reads it like a file, cannot change it, and the
// daemon never blocks writing into a pipe nobody reads.
Result<UniqueFd> make_stdin(const std::string& data) {
    UniqueFd fd(::memfd_create("stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) return Error::system("memfd_create stdin");
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("write stdin");
        }
        done += static_cast<size_t>(n);
    }
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
        return Error::system("seal stdin");
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Error::system("rewind stdin");
    return fd;
}

class ExecutionImpl final : public Execution, public std::enable_shared_from_this<ExecutionImpl> {
public:
    ExecutionImpl(asio::io_context& io, JailRuntime& runtime, std::shared_ptr<const JailTemplate> jail,
                  const Workspace& workspace, ExecRequest request, ExecDone done)
        : io_(io),
          runtime_(runtime),
          jail_(std::move(jail)),
          workspace_(workspace),
          request_(std::move(request)),
          done_(std::move(done)) {}

    ExecutionImpl(const ExecutionImpl&) = delete;
    ExecutionImpl& operator=(const ExecutionImpl&) = delete;

    void begin() {
        JailEvents events;
        events.launched = [self = shared_from_this()] { self->arm_setup_allowance(); };
        events.started = [self = shared_from_this()] { self->arm_limits(); };
        events.output = [self = shared_from_this()](OutputStream s, std::string_view data) { self->on_output(s, data); };
        events.ended = [self = shared_from_this()] { self->finish(); };
        process_ = std::make_shared<JailProcess>(io_, runtime_, jail_, workspace_, std::move(events));
        auto in = make_stdin(request_.stdin_data);
        if (!in) {
            setup_error_ = std::move(in).error();
            asio::post(io_, [self = shared_from_this()] { self->finish(); });
            return;
        }
        // An egress jail may first wait for its network: that wait gets the same allowance as
        // the jail's own setup, which starts again once the jail is cloned.
        arm_setup_allowance();
        process_->launch(JailSpec{request_.name, request_.argv, request_.env, request_.limits, std::move(*in),
                                  request_.extra_binds, request_.netns_fd});
    }

    void cancel() override { kill(KillReason::cancelled); }

private:
    // Until the payload starts, the setup gets its allowance on top of the wall clock.
    void arm_setup_allowance() {
        if (kill_reason_ != KillReason::none) return;
        process_->watch_limits(steady_clock::now() + request_.limits.wall_time + kSetupAllowance, std::nullopt,
                               [self = shared_from_this()](LimitHit) {
                                   self->kill(self->process_->started() ? KillReason::wall_time
                                                                        : KillReason::setup_timeout);
                               });
    }

    void arm_limits() {
        if (kill_reason_ != KillReason::none) return;
        const policy::Limits& l = request_.limits;
        process_->watch_limits(steady_clock::time_point(nanoseconds(process_->started_ns())) + l.wall_time,
                               CpuWatch{process_->setup_cpu_us(), l.cpu_time, l.cpu_cores}, [self = shared_from_this()](LimitHit hit) {
                                   self->kill(hit == LimitHit::wall_time ? KillReason::wall_time
                                                                         : KillReason::cpu_time);
                               });
    }

    void on_output(OutputStream s, std::string_view chunk) {
        std::string& kept = s == OutputStream::stdout_stream ? result_.stdout_data : result_.stderr_data;
        size_t room = request_.limits.output_bytes - std::min<size_t>(kept.size(), request_.limits.output_bytes);
        size_t take = std::min(chunk.size(), room);
        kept.append(chunk.data(), take);
        if (take > 0 && request_.on_output) request_.on_output(s, chunk.substr(0, take));
        if (take < chunk.size()) {
            (s == OutputStream::stdout_stream ? result_.stdout_truncated : result_.stderr_truncated) = true;
            kill(KillReason::output);
        }
    }

    void kill(KillReason reason) {
        if (finished_ || process_->reaped()) return;
        if (kill_reason_ == KillReason::none) {
            kill_reason_ = reason;
            killed_ns_ = monotonic_ns();
        }
        process_->kill();
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        process_->stop_watch();
        if (process_->launch_error() && !setup_error_) setup_error_ = process_->launch_error();
        JailRelease released = process_->release();
        if (released.error && !setup_error_) setup_error_ = std::move(released.error);
        decide(released.usage);
        auto done = std::move(done_);
        done(std::move(result_));
    }

    void decide(const std::optional<CgroupUsage>& usage) {
        ExecResult& r = result_;
        const JailProcess& p = *process_;
        const auto& exited = p.exit_record();
        std::uint64_t end_ns = exited ? exited->monotonic_ns : (killed_ns_ ? killed_ns_ : p.reaped_ns());
        if (p.started() && end_ns > p.started_ns()) r.wall_ms = static_cast<double>(end_ns - p.started_ns()) / 1e6;
        if (usage) {
            std::uint64_t cpu = usage->cpu_usage_us - std::min(usage->cpu_usage_us, p.setup_cpu_us());
            r.cpu_ms = static_cast<double>(cpu) / 1e3;
            r.memory_peak_bytes = usage->memory_peak_bytes;
        }
        const policy::Limits& l = request_.limits;
        auto internal = [&](std::string message) {
            r.status = JobStatus::internal_error;
            r.message = std::move(message);
        };
        if (setup_error_) return internal(setup_error_->message());
        if (p.failure()) return internal(p.describe_failure(*p.failure()));
        switch (kill_reason_) {
            case KillReason::wall_time:
                r.status = JobStatus::time_limit;
                r.message = "wall-clock limit of " + policy::format_duration(l.wall_time) + " exceeded";
                return;
            case KillReason::cpu_time:
                r.status = JobStatus::time_limit;
                r.message = "CPU-time limit of " + policy::format_duration(l.cpu_time) + " exceeded";
                return;
            case KillReason::output:
                r.status = JobStatus::output_limit;
                r.message = "output limit of " + policy::format_size(l.output_bytes) + " per stream exceeded";
                return;
            case KillReason::cancelled:
                r.status = JobStatus::cancelled;
                r.message = "cancelled";
                return;
            case KillReason::setup_timeout:
                return internal("jail setup did not finish within " +
                                std::to_string(kSetupAllowance.count()) + " ms");
            case KillReason::none:
                break;
        }
        bool oom = usage && usage->oom_kills > 0;
        if (!exited) {
            if (oom) {
                r.status = JobStatus::memory_limit;
                r.signal = SIGKILL;
                r.message = "memory limit of " + policy::format_size(l.memory_bytes) + " exceeded";
                return;
            }
            return internal("jail supervisor ended without a report (code " + std::to_string(p.supervisor_code()) +
                            ", status " + std::to_string(p.supervisor_status()) + ")");
        }
        int ws = exited->wait_status;
        if (WIFEXITED(ws)) r.exit_code = WEXITSTATUS(ws);
        if (WIFSIGNALED(ws)) r.signal = WTERMSIG(ws);
        bool clean = WIFEXITED(ws) && r.exit_code == 0;
        if (oom && !clean) {
            r.status = JobStatus::memory_limit;
            r.message = "memory limit of " + policy::format_size(l.memory_bytes) + " exceeded";
        } else if (r.signal == SIGXCPU) {
            r.status = JobStatus::time_limit;
            r.message = "per-process CPU limit (RLIMIT_CPU) reached";
        } else if (r.signal == SIGXFSZ) {
            r.status = JobStatus::output_limit;
            r.message = "file size limit of " + policy::format_size(l.file_size_bytes) + " exceeded";
        } else if (r.signal != 0) {
            r.status = JobStatus::signaled;
            r.message = std::string("killed by signal SIG") + sigabbrev_np(r.signal);
        } else {
            r.status = r.exit_code == 0 ? JobStatus::ok : JobStatus::runtime_error;
        }
    }

    asio::io_context& io_;
    JailRuntime& runtime_;
    std::shared_ptr<const JailTemplate> jail_;
    const Workspace& workspace_;
    ExecRequest request_;
    ExecDone done_;
    std::shared_ptr<JailProcess> process_;

    std::optional<Error> setup_error_;
    bool finished_ = false;
    std::uint64_t killed_ns_ = 0;
    KillReason kill_reason_ = KillReason::none;
    ExecResult result_;
};

}  // namespace

std::shared_ptr<Execution> start_execution(asio::io_context& io, JailRuntime& runtime,
                                           std::shared_ptr<const JailTemplate> jail, const Workspace& workspace,
                                           ExecRequest request, ExecDone done) {
    auto exec = std::make_shared<ExecutionImpl>(io, runtime, std::move(jail), workspace, std::move(request),
                                                std::move(done));
    exec->begin();
    return exec;
}

ExecResult execute(JailRuntime& runtime, std::shared_ptr<const JailTemplate> jail, const Workspace& workspace,
                   ExecRequest request) {
    asio::io_context io;
    ExecResult result;
    start_execution(io, runtime, std::move(jail), workspace, std::move(request),
                    [&result](ExecResult r) { result = std::move(r); });
    io.run();
    return result;
}

}  // namespace sbx::jail
