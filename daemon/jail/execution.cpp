#include "daemon/jail/execution.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <optional>

#include "common/unique_fd.hpp"
#include "daemon/jail/child_report.hpp"
#include "daemon/jail/launcher.hpp"
#include "daemon/jail/mount_plan.hpp"
#include "daemon/jail/network_runtime.hpp"
#include "daemon/jail/pidfd.hpp"
#include "daemon/jail/rlimits.hpp"

namespace sbx::jail {

namespace asio = boost::asio;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::steady_clock;

namespace {

// Time for the jail's own setup before the wall clock of the payload starts counting.
constexpr milliseconds kSetupAllowance{2000};
// After the supervisor is reaped every process of the job is gone, so the pipes reach EOF at
// once; this only bounds a wait that should never happen.
constexpr milliseconds kDrainAllowance{2000};
constexpr microseconds kMinCpuCheck{2000};

enum class KillReason { none, wall_time, cpu_time, output, cancelled, setup_timeout };

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Result<Pipe> make_pipe(const char* what) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Error::system(std::string("pipe for ") + what);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

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

std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& extra) {
    std::vector<std::string> env = base;
    for (const auto& kv : extra) {
        auto key = kv.substr(0, kv.find('=') + 1);
        auto same = std::find_if(env.begin(), env.end(), [&](const std::string& e) { return e.rfind(key, 0) == 0; });
        if (same != env.end())
            *same = kv;
        else
            env.push_back(kv);
    }
    return env;
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
          done_(std::move(done)),
          pidfd_(io),
          stdout_(io),
          stderr_(io),
          status_(io),
          wall_timer_(io),
          cpu_timer_(io) {}

    ExecutionImpl(const ExecutionImpl&) = delete;
    ExecutionImpl& operator=(const ExecutionImpl&) = delete;

    ~ExecutionImpl() override {
        // Only reached without a result when the event loop was torn down mid-job.
        if (pidfd_.is_open() && !reaped_) {
            pidfd_signal(pidfd_.native_handle(), SIGKILL);
            siginfo_t info{};
            ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.native_handle()), &info, WEXITED);
        }
    }

    void begin() {
        if (request_.netns_fd >= 0) {
            launch();
            return;
        }
        if (jail_->network.mode == policy::NetworkMode::egress) {
            if (!runtime_.network) {
                setup_error_ = Error::invalid("policy " + jail_->policy_name, "egress networking is not set up");
                asio::post(io_, [self = shared_from_this()] { self->finish(); });
                return;
            }
            // Prepared by the namespace pool's thread; the job waits here without blocking the
            // loop, within the same allowance as the jail's own setup (launch() re-arms the timer).
            waiting_network_ = true;
            runtime_.network->take_egress(io_, jail_->nft_chains, [self = shared_from_this()](Result<JailNetwork> n) {
                self->on_network(std::move(n));
            });
            wall_timer_.expires_after(request_.limits.wall_time + kSetupAllowance);
            wall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
                if (!ec) self->kill(KillReason::setup_timeout);
            });
            return;
        }
        if (runtime_.network) {
            if (auto ready = runtime_.network->take_isolated()) network_.emplace(std::move(*ready));
        }  // else CLONE_NEWNET
        launch();
    }

    void cancel() override { kill(KillReason::cancelled); }

private:
    void on_network(Result<JailNetwork> network) {
        waiting_network_ = false;
        if (finished_) {  // cancelled while waiting
            if (network) runtime_.network->retire(std::move(*network));
            return;
        }
        if (!network) {
            setup_error_ = std::move(network).error().within("egress network");
            finish();
            return;
        }
        network_.emplace(std::move(*network));
        launch();
    }

    void launch() {
        if (auto s = prepare_and_launch(); !s) {
            setup_error_ = std::move(s).error();
            asio::post(io_, [self = shared_from_this()] { self->finish(); });
            return;
        }
        read_output(OutputStream::stdout_stream);
        read_output(OutputStream::stderr_stream);
        read_status();
        wait_for_exit();
        wall_timer_.expires_after(request_.limits.wall_time + kSetupAllowance);
        wall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->kill(self->started_ ? KillReason::wall_time : KillReason::setup_timeout);
        });
    }

    Status prepare_and_launch() {
        auto cgroup = runtime_.cgroups->create_job(request_.name);
        if (!cgroup) return std::move(cgroup).error();
        cgroup_ = std::move(*cgroup);
        const policy::Limits& l = request_.limits;
        if (auto s = cgroup_->set_limits({l.memory_bytes, l.pids, l.cpu_cores}); !s) return s;
        if (request_.argv.empty()) return Error::invalid("run", "empty argv");

        mounts_.emplace(*jail_, MountPlanInput{runtime_.staging_root, workspace_.path(), l.tmpfs_bytes,
                                               workspace_.uid(), workspace_.gid(), request_.extra_binds});
        env_ = merge_env(jail_->base_env, request_.env);
        for (const auto& a : request_.argv) argv_.push_back(a.c_str());
        argv_.push_back(nullptr);
        for (const auto& e : env_) envp_.push_back(e.c_str());
        envp_.push_back(nullptr);
        rlimits_ = make_rlimits(l);

        auto in = make_stdin(request_.stdin_data);
        if (!in) return std::move(in).error();
        auto out = make_pipe("stdout");
        if (!out) return std::move(out).error();
        auto err = make_pipe("stderr");
        if (!err) return std::move(err).error();
        auto status = make_pipe("status");
        if (!status) return std::move(status).error();

        plan_.cgroup_clone_fd = cgroup_->clone_into_fd();
        auto join = cgroup_->join_fds();
        plan_.cgroup_join_fds = join.data();
        plan_.cgroup_join_count = join.size();
        plan_.staging_root = runtime_.staging_root.c_str();
        plan_.root_tmpfs_options = mounts_->root_tmpfs_options();
        plan_.mount_steps = mounts_->steps();
        plan_.mount_step_count = mounts_->size();
        plan_.hostname = jail_->filesystem.hostname.c_str();
        plan_.hostname_len = jail_->filesystem.hostname.size();
        plan_.netns_fd = network_ ? network_->netns_fd() : request_.netns_fd;
        plan_.argv = argv_.data();
        plan_.envp = envp_.data();
        plan_.cwd = jail_->filesystem.work_dir.c_str();
        plan_.rlimits = rlimits_.data();
        plan_.rlimit_count = rlimits_.size();
        plan_.uid = workspace_.uid();
        plan_.gid = workspace_.gid();
        plan_.last_capability = runtime_.last_capability;
        plan_.seccomp = jail_->seccomp ? jail_->seccomp->fprog() : nullptr;
        plan_.stdin_fd = in->get();
        plan_.stdout_fd = out->write.get();
        plan_.stderr_fd = err->write.get();
        plan_.status_fd = status->write.get();

        auto launched = launch_jail(plan_);
        if (!launched) return std::move(launched).error();
        // The child's ends close here as the locals go out of scope; ours go to the loop.
        pidfd_.assign(launched->pidfd.release());
        stdout_.assign(out->read.release());
        stderr_.assign(err->read.release());
        status_.assign(status->read.release());
        return {};
    }

    asio::posix::stream_descriptor& stream(OutputStream s) { return s == OutputStream::stdout_stream ? stdout_ : stderr_; }
    std::string& data(OutputStream s) {
        return s == OutputStream::stdout_stream ? result_.stdout_data : result_.stderr_data;
    }
    bool& truncated(OutputStream s) {
        return s == OutputStream::stdout_stream ? result_.stdout_truncated : result_.stderr_truncated;
    }
    std::array<char, 65536>& buffer(OutputStream s) { return s == OutputStream::stdout_stream ? out_buf_ : err_buf_; }

    void read_output(OutputStream s) {
        stream(s).async_read_some(asio::buffer(buffer(s)),
                                  [self = shared_from_this(), s](const boost::system::error_code& ec, size_t n) {
                                      self->on_output(s, ec, n);
                                  });
    }

    void on_output(OutputStream s, const boost::system::error_code& ec, size_t n) {
        if (n > 0) {
            std::string& kept = data(s);
            size_t room = request_.limits.output_bytes - std::min<size_t>(kept.size(), request_.limits.output_bytes);
            size_t take = std::min(n, room);
            kept.append(buffer(s).data(), take);
            if (take > 0 && request_.on_output) request_.on_output(s, std::string_view(buffer(s).data(), take));
            if (take < n) {
                truncated(s) = true;
                kill(KillReason::output);
            }
        }
        if (ec) {
            ++streams_closed_;
            maybe_finish();
            return;
        }
        read_output(s);
    }

    void read_status() {
        status_.async_read_some(asio::buffer(status_buf_),
                                [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                                    self->on_status(ec, n);
                                });
    }

    void on_status(const boost::system::error_code& ec, size_t n) {
        status_bytes_.append(status_buf_.data(), n);
        while (status_bytes_.size() >= sizeof(StatusRecord)) {
            StatusRecord r;
            std::memcpy(&r, status_bytes_.data(), sizeof r);
            status_bytes_.erase(0, sizeof r);
            handle_record(r);
        }
        if (ec) {
            ++streams_closed_;
            maybe_finish();
            return;
        }
        read_status();
    }

    void handle_record(const StatusRecord& r) {
        switch (r.kind) {
            case RecordKind::started:
                started_ = true;
                started_ns_ = r.monotonic_ns;
                setup_cpu_us_ = r.cpu_us;
                arm_limits();
                break;
            case RecordKind::exited:
                exited_ = r;
                break;
            case RecordKind::failed:
                if (!failure_) failure_ = r;
                break;
        }
    }

    void arm_limits() {
        if (reaped_ || kill_reason_ != KillReason::none) return;
        wall_timer_.expires_at(steady_clock::time_point(nanoseconds(started_ns_)) + request_.limits.wall_time);
        wall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->kill(KillReason::wall_time);
        });
        // CPU time cannot grow faster than the cgroup's bandwidth, so the next look is due no
        // sooner than (limit - used) / cores: no polling while far from the limit.
        schedule_cpu_check(request_.limits.cpu_time);
    }

    void schedule_cpu_check(microseconds remaining) {
        auto wait = std::chrono::duration_cast<microseconds>(remaining / std::max(request_.limits.cpu_cores, 0.01));
        cpu_timer_.expires_after(std::max(wait, kMinCpuCheck));
        cpu_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->check_cpu();
        });
    }

    void check_cpu() {
        if (reaped_ || kill_reason_ != KillReason::none) return;
        auto used = payload_cpu_us();
        if (!used) return;  // the cgroup is going away: the pidfd will tell
        auto limit = static_cast<std::uint64_t>(request_.limits.cpu_time.count());
        if (*used >= limit) {
            kill(KillReason::cpu_time);
            return;
        }
        schedule_cpu_check(microseconds(limit - *used));
    }

    Result<std::uint64_t> payload_cpu_us() const {
        auto total = cgroup_->cpu_usage_us();
        if (!total) return total;
        return *total - std::min(*total, setup_cpu_us_);
    }

    void wait_for_exit() {
        pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                              if (ec == asio::error::operation_aborted) return;
                              self->on_supervisor_exit();
                          });
    }

    void on_supervisor_exit() {
        siginfo_t info{};
        if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.native_handle()), &info,
                     WEXITED | WNOHANG) != 0) {
            if (errno == EINTR || errno == EAGAIN) {
                wait_for_exit();
                return;
            }
        } else if (info.si_pid == 0) {  // spurious wake-up: not exited yet
            wait_for_exit();
            return;
        }
        reaped_ = true;
        reaped_ns_ = now_ns();
        supervisor_code_ = info.si_code;
        supervisor_status_ = info.si_status;
        wall_timer_.cancel();
        cpu_timer_.cancel();
        // Everything in the pid namespace died with its init; pipes will report EOF now.
        wall_timer_.expires_after(kDrainAllowance);
        wall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            boost::system::error_code ignored;
            self->stdout_.close(ignored);
            self->stderr_.close(ignored);
            self->status_.close(ignored);
        });
        maybe_finish();
    }

    void kill(KillReason reason) {
        if (reaped_ || finished_) return;
        if (kill_reason_ == KillReason::none) {
            kill_reason_ = reason;
            killed_ns_ = now_ns();
        }
        if (waiting_network_) {  // nothing runs yet
            asio::post(io_, [self = shared_from_this()] { self->finish(); });
            return;
        }
        if (pidfd_.is_open()) pidfd_signal(pidfd_.native_handle(), SIGKILL);
        if (cgroup_) (void)cgroup_->kill_all();
    }

    void maybe_finish() {
        if (reaped_ && streams_closed_ == 3) finish();
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        wall_timer_.cancel();
        cpu_timer_.cancel();
        std::optional<CgroupUsage> usage;
        if (cgroup_) {
            if (auto u = cgroup_->usage()) usage = *u;
            if (auto s = cgroup_->remove(); !s && !setup_error_) setup_error_ = std::move(s).error();
        }
        // Every process of the jail is gone: its veth and rules can go, off the event loop (the
        // namespace itself is freed by the kernel, asynchronously).
        if (network_) {
            runtime_.network->retire(std::move(*network_));
            network_.reset();
        }
        decide(usage);
        boost::system::error_code ignored;
        pidfd_.close(ignored);
        auto done = std::move(done_);
        done(std::move(result_));
    }

    std::string describe_failure(const StatusRecord& r) const {
        std::string what = step_name(r.step);
        switch (r.step) {
            case SetupStep::mount_step:
                what = mounts_ ? mounts_->describe(static_cast<size_t>(r.index)) : what;
                break;
            case SetupStep::rlimit:
                if (r.index >= 0 && static_cast<size_t>(r.index) < rlimits_.size())
                    what += std::string(" ") + rlimit_name(rlimits_[static_cast<size_t>(r.index)].resource);
                break;
            case SetupStep::execve:
                what += " " + request_.argv.front();
                break;
            case SetupStep::join_cgroup:
                what += " " + cgroup_->path();
                break;
            default:
                break;
        }
        return Error::system(what, r.err).message();
    }

    void decide(const std::optional<CgroupUsage>& usage) {
        ExecResult& r = result_;
        std::uint64_t end_ns = exited_ ? exited_->monotonic_ns : (killed_ns_ ? killed_ns_ : reaped_ns_);
        if (started_ && end_ns > started_ns_) r.wall_ms = static_cast<double>(end_ns - started_ns_) / 1e6;
        if (usage) {
            std::uint64_t cpu = usage->cpu_usage_us - std::min(usage->cpu_usage_us, setup_cpu_us_);
            r.cpu_ms = static_cast<double>(cpu) / 1e3;
            r.memory_peak_bytes = usage->memory_peak_bytes;
        }
        const policy::Limits& l = request_.limits;
        auto internal = [&](std::string message) {
            r.status = JobStatus::internal_error;
            r.message = std::move(message);
        };
        if (setup_error_) return internal(setup_error_->message());
        if (failure_) return internal(describe_failure(*failure_));
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
        if (!exited_) {
            if (oom) {
                r.status = JobStatus::memory_limit;
                r.signal = SIGKILL;
                r.message = "memory limit of " + policy::format_size(l.memory_bytes) + " exceeded";
                return;
            }
            return internal("jail supervisor ended without a report (code " + std::to_string(supervisor_code_) +
                            ", status " + std::to_string(supervisor_status_) + ")");
        }
        int ws = exited_->wait_status;
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

    std::unique_ptr<JobCgroup> cgroup_;
    std::optional<JailNetwork> network_;
    bool waiting_network_ = false;
    std::optional<MountPlan> mounts_;
    std::vector<std::string> env_;
    std::vector<const char*> argv_;
    std::vector<const char*> envp_;
    RlimitTable rlimits_{};
    LaunchPlan plan_;

    asio::posix::stream_descriptor pidfd_;
    asio::posix::stream_descriptor stdout_;
    asio::posix::stream_descriptor stderr_;
    asio::posix::stream_descriptor status_;
    asio::steady_timer wall_timer_;
    asio::steady_timer cpu_timer_;
    std::array<char, 65536> out_buf_{};
    std::array<char, 65536> err_buf_{};
    std::array<char, 256> status_buf_{};
    std::string status_bytes_;

    std::optional<Error> setup_error_;
    std::optional<StatusRecord> failure_;
    std::optional<StatusRecord> exited_;
    bool started_ = false;
    bool reaped_ = false;
    bool finished_ = false;
    int streams_closed_ = 0;
    int supervisor_code_ = 0;
    int supervisor_status_ = 0;
    std::uint64_t started_ns_ = 0;
    std::uint64_t setup_cpu_us_ = 0;
    std::uint64_t killed_ns_ = 0;
    std::uint64_t reaped_ns_ = 0;
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
