#include "daemon/jail/jail_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>

#include "daemon/jail/child_steps.hpp"
#include "daemon/jail/launcher.hpp"
#include "daemon/jail/pidfd.hpp"

namespace sbx::jail {

namespace asio = boost::asio;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// After the supervisor is reaped every process of the jail is gone, so the pipes reach EOF at
// once; this only bounds a wait that should never happen.
constexpr milliseconds kDrainAllowance{2000};
constexpr microseconds kMinCpuCheck{2000};

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Result<Pipe> make_pipe(const char* what) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Error::system(std::string("pipe for ") + what);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
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

}  // namespace

JailProcess::JailProcess(asio::io_context& io, JailRuntime& runtime, std::shared_ptr<const JailTemplate> jail,
                         const Workspace& workspace, JailEvents events)
    : io_(io),
      runtime_(runtime),
      jail_(std::move(jail)),
      workspace_(workspace),
      events_(std::move(events)),
      pidfd_(io),
      stdout_(io),
      stderr_(io),
      status_(io),
      wall_timer_(io),
      cpu_timer_(io),
      drain_timer_(io) {}

JailProcess::~JailProcess() {
    // Only reached before the end when the event loop was torn down mid-job.
    if (pidfd_.is_open() && !reaped_) {
        pidfd_signal(pidfd_.native_handle(), SIGKILL);
        siginfo_t info{};
        ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.native_handle()), &info, WEXITED);
    }
}

void JailProcess::launch(JailSpec spec) {
    spec_ = std::move(spec);
    if (spec_.netns_fd >= 0) return clone_jail();
    if (jail_->network.mode == policy::NetworkMode::egress) {
        if (!runtime_.network)
            return fail(Error::invalid("policy " + jail_->policy_name, "egress networking is not set up"));
        // Prepared by the namespace pool's thread; the jail waits for it without blocking the
        // loop (the owner's setup allowance bounds the wait: kill() abandons it).
        waiting_network_ = true;
        runtime_.network->take_egress(io_, jail_->nft_chains, [self = shared_from_this()](Result<JailNetwork> n) {
            self->on_network(std::move(n));
        });
        return;
    }
    if (runtime_.network) {
        if (auto ready = runtime_.network->take_isolated()) network_.emplace(std::move(*ready));
    }  // else the clone makes a fresh namespace (CLONE_NEWNET)
    clone_jail();
}

void JailProcess::on_network(Result<JailNetwork> network) {
    waiting_network_ = false;
    if (abandoned_ || ended_) {  // killed while waiting
        if (network) runtime_.network->retire(std::move(*network));
        return;
    }
    if (!network) return fail(std::move(network).error().within("egress network"));
    network_.emplace(std::move(*network));
    clone_jail();
}

void JailProcess::clone_jail() {
    auto s = prepare_and_launch();
    spec_.stdin_fd.reset();  // the jail has its copy (or never will)
    if (!s) return fail(std::move(s).error());
    launched_ = true;
    read_output(OutputStream::stdout_stream);
    read_output(OutputStream::stderr_stream);
    read_status();
    wait_for_exit();
    if (events_.launched) events_.launched();
}

void JailProcess::fail(Error error) {
    launch_error_ = std::move(error);
    spec_.stdin_fd.reset();
    asio::post(io_, [self = shared_from_this()] { self->end(); });
}

Status JailProcess::prepare_and_launch() {
    JailSpec& spec = spec_;
    auto cgroup = runtime_.cgroups->create_job(spec.name);
    if (!cgroup) return std::move(cgroup).error();
    cgroup_ = std::move(*cgroup);
    const policy::Limits& l = spec.limits;
    if (auto s = cgroup_->set_limits({l.memory_bytes, l.pids, l.cpu_cores}); !s) return s;
    if (spec.argv.empty()) return Error::invalid("run", "empty argv");
    program_ = spec.argv.front();

    mounts_.emplace(*jail_, MountPlanInput{runtime_.staging_root, workspace_.path(), l.tmpfs_bytes,
                                           workspace_.uid(), workspace_.gid(), spec.extra_binds});
    env_ = merge_env(jail_->base_env, spec.env);
    argv_strings_ = std::move(spec.argv);
    for (const auto& a : argv_strings_) argv_.push_back(a.c_str());
    argv_.push_back(nullptr);
    for (const auto& e : env_) envp_.push_back(e.c_str());
    envp_.push_back(nullptr);
    rlimits_ = make_rlimits(l);

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
    plan_.netns_fd = network_ ? network_->netns_fd() : spec.netns_fd;
    plan_.argv = argv_.data();
    plan_.envp = envp_.data();
    plan_.cwd = jail_->filesystem.work_dir.c_str();
    plan_.rlimits = rlimits_.data();
    plan_.rlimit_count = rlimits_.size();
    plan_.uid = workspace_.uid();
    plan_.gid = workspace_.gid();
    plan_.last_capability = runtime_.last_capability;
    plan_.seccomp = jail_->seccomp ? jail_->seccomp->fprog() : nullptr;
    plan_.stdin_fd = spec.stdin_fd.get();
    plan_.stdout_fd = out->write.get();
    plan_.stderr_fd = err->write.get();
    plan_.status_fd = status->write.get();

    auto launched = launch_jail(plan_);
    if (!launched) return std::move(launched).error();
    // The child's ends close here as the locals go out of scope (the spec's stdin in clone_jail);
    // ours go to the loop.
    pidfd_.assign(launched->pidfd.release());
    // Non-blocking, so that drain_output() can read until "empty".
    for (int fd : {out->read.get(), err->read.get()}) ::fcntl(fd, F_SETFL, O_NONBLOCK);
    stdout_.assign(out->read.release());
    stderr_.assign(err->read.release());
    status_.assign(status->read.release());
    return {};
}

void JailProcess::kill() {
    if (reaped_ || ended_) return;
    if (!launched_) {
        if (waiting_network_ && !abandoned_) {
            abandoned_ = true;
            asio::post(io_, [self = shared_from_this()] { self->end(); });
        }
        return;
    }
    if (pidfd_.is_open()) pidfd_signal(pidfd_.native_handle(), SIGKILL);
    if (cgroup_) (void)cgroup_->kill_all();
}

void JailProcess::read_output(OutputStream s) {
    reading_[static_cast<int>(s)] = true;
    stream(s).async_read_some(asio::buffer(buffer(s)),
                              [self = shared_from_this(), s](const boost::system::error_code& ec, std::size_t n) {
                                  self->on_output(s, ec, n);
                              });
}

void JailProcess::on_output(OutputStream s, const boost::system::error_code& ec, std::size_t n) {
    const int i = static_cast<int>(s);
    reading_[i] = false;
    if (n > 0 && events_.output) events_.output(s, std::string_view(buffer(s).data(), n));
    // Cancelled for a drain, the stream stays open; closed by the drain timer, it is done.
    const bool paused = ec == asio::error::operation_aborted && drain_done_ && stream(s).is_open();
    if (ec && !paused) {
        at_eof_[i] = true;
        ++streams_closed_;
    }
    if (drain_done_) {
        if (--drain_pending_ == 0) finish_drain();
        return;
    }
    if (at_eof_[i]) {
        maybe_end();
        return;
    }
    if (!ec) read_output(s);
}

void JailProcess::drain_output(std::function<void()> done) {
    drain_done_ = std::move(done);
    // A read the loop already completed still delivers its bytes (its handler runs before the
    // cancelled state is seen); after the pending reads return, the rest is read directly.
    drain_pending_ = 0;
    for (OutputStream s : {OutputStream::stdout_stream, OutputStream::stderr_stream}) {
        if (!reading_[static_cast<int>(s)]) continue;
        ++drain_pending_;
        boost::system::error_code ignored;
        stream(s).cancel(ignored);
    }
    if (drain_pending_ == 0) asio::post(io_, [self = shared_from_this()] { self->finish_drain(); });
}

void JailProcess::finish_drain() {
    for (OutputStream s : {OutputStream::stdout_stream, OutputStream::stderr_stream}) {
        const int i = static_cast<int>(s);
        if (at_eof_[i] || !stream(s).is_open()) continue;
        // Asio put the descriptor in non-blocking mode for its reads: this stops at "empty".
        for (;;) {
            ssize_t n = ::read(stream(s).native_handle(), buffer(s).data(), buffer(s).size());
            if (n > 0) {
                if (events_.output) events_.output(s, std::string_view(buffer(s).data(), static_cast<std::size_t>(n)));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) {
                at_eof_[i] = true;
                ++streams_closed_;
            }
            break;
        }
    }
    auto done = std::move(drain_done_);
    drain_done_ = nullptr;
    for (OutputStream s : {OutputStream::stdout_stream, OutputStream::stderr_stream})
        if (!at_eof_[static_cast<int>(s)] && stream(s).is_open()) read_output(s);
    done();
    maybe_end();
}

void JailProcess::read_status() {
    status_.async_read_some(asio::buffer(status_buf_),
                            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                self->on_status(ec, n);
                            });
}

void JailProcess::on_status(const boost::system::error_code& ec, std::size_t n) {
    status_bytes_.append(status_buf_.data(), n);
    while (status_bytes_.size() >= sizeof(StatusRecord)) {
        StatusRecord r;
        std::memcpy(&r, status_bytes_.data(), sizeof r);
        status_bytes_.erase(0, sizeof r);
        handle_record(r);
    }
    if (ec) {
        ++streams_closed_;
        maybe_end();
        return;
    }
    read_status();
}

void JailProcess::handle_record(const StatusRecord& r) {
    switch (r.kind) {
        case RecordKind::started:
            started_ = true;
            started_ns_ = r.monotonic_ns;
            setup_cpu_us_ = r.cpu_us;
            if (events_.started) events_.started();
            break;
        case RecordKind::exited:
            exited_ = r;
            break;
        case RecordKind::failed:
            if (!failure_) failure_ = r;
            break;
    }
}

void JailProcess::watch_limits(steady_clock::time_point deadline, std::optional<CpuWatch> cpu,
                               std::function<void(LimitHit)> hit) {
    stop_watch();
    if (reaped_) return;
    hit_ = std::move(hit);
    wall_timer_.expires_at(deadline);
    wall_timer_.async_wait([self = shared_from_this(), watch = watch_](const boost::system::error_code& ec) {
        if (!ec && watch == self->watch_) self->limit_hit(LimitHit::wall_time);
    });
    if (!cpu) return;
    cpu_ = *cpu;
    cpu_.cores = std::max(cpu_.cores, 0.01);
    // CPU time cannot grow faster than the cgroup's bandwidth, so the next look is due no
    // sooner than (budget - used) / cores: no polling while far from the limit.
    schedule_cpu_check(cpu_.budget);
}

void JailProcess::stop_watch() {
    // A handler already queued when its timer is cancelled still runs: the generation tells it
    // that its watch is over.
    ++watch_;
    hit_ = nullptr;
    wall_timer_.cancel();
    cpu_timer_.cancel();
}

void JailProcess::limit_hit(LimitHit what) {
    if (!hit_ || reaped_) return;
    auto hit = std::move(hit_);
    stop_watch();
    hit(what);
}

void JailProcess::schedule_cpu_check(microseconds remaining) {
    auto wait = std::chrono::duration_cast<microseconds>(remaining / cpu_.cores);
    cpu_timer_.expires_after(std::max(wait, kMinCpuCheck));
    cpu_timer_.async_wait([self = shared_from_this(), watch = watch_](const boost::system::error_code& ec) {
        if (!ec && watch == self->watch_) self->check_cpu();
    });
}

void JailProcess::check_cpu() {
    if (reaped_ || !hit_) return;
    auto total = cgroup_->cpu_usage_us();
    if (!total) return;  // the cgroup is going away: the pidfd will tell
    std::uint64_t used = *total - std::min(*total, cpu_.baseline_us);
    auto budget = static_cast<std::uint64_t>(cpu_.budget.count());
    if (used >= budget) {
        limit_hit(LimitHit::cpu_time);
        return;
    }
    schedule_cpu_check(microseconds(budget - used));
}

void JailProcess::wait_for_exit() {
    pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                          if (ec == asio::error::operation_aborted) return;
                          self->on_supervisor_exit();
                      });
}

void JailProcess::on_supervisor_exit() {
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
    reaped_ns_ = monotonic_ns();
    supervisor_code_ = info.si_code;
    supervisor_status_ = info.si_status;
    stop_watch();
    // Everything in the pid namespace died with its init; pipes will report EOF now.
    drain_timer_.expires_after(kDrainAllowance);
    drain_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        boost::system::error_code ignored;
        self->stdout_.close(ignored);
        self->stderr_.close(ignored);
        self->status_.close(ignored);
    });
    maybe_end();
}

void JailProcess::maybe_end() {
    if (!reaped_ || streams_closed_ < 3) return;
    end();
}

void JailProcess::end() {
    if (ended_) return;
    ended_ = true;
    stop_watch();
    drain_timer_.cancel();
    boost::system::error_code ignored;
    pidfd_.close(ignored);
    // Every process of the jail is gone (or none ever ran): its veth and rules can go, off the
    // event loop (the namespace itself is freed by the kernel, asynchronously).
    if (network_) {
        runtime_.network->retire(std::move(*network_));
        network_.reset();
    }
    // The owner's handlers usually hold the owner itself: drop them to break the cycle.
    auto events = std::move(events_);
    events_ = {};
    if (events.ended) events.ended();
}

JailRelease JailProcess::release() {
    JailRelease r;
    if (!cgroup_) return r;
    if (auto u = cgroup_->usage()) r.usage = *u;
    if (auto s = cgroup_->remove(); !s) r.error = std::move(s).error();
    cgroup_.reset();
    return r;
}

std::string JailProcess::describe_failure(const StatusRecord& r) const {
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
            what += " " + program_;
            break;
        case SetupStep::join_cgroup:
            if (cgroup_) what += " " + cgroup_->path();
            break;
        default:
            break;
    }
    return Error::system(what, r.err).message();
}

}  // namespace sbx::jail
