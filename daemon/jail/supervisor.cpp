// PID 1 of the jail. It joins the job cgroup, builds the jail's filesystem, then forks the
// payload and waits: as init of the pid namespace it reaps every orphan, and when the payload
// is reaped it reports its wait status and exits, which makes the kernel kill whatever the
// payload left running in the namespace. It drops to the box uid before waiting, so nothing
// in the jail keeps root.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

namespace {

// The daemon may block or ignore signals; a jail starts from the defaults.
bool reset_signals(StepError* e) noexcept {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        ::sigaction(sig, &dfl, nullptr);  // glibc-internal signals answer EINVAL: harmless
    }
    sigset_t none;
    sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return fail_step(e, SetupStep::signals);
    return true;
}

bool join_cgroups(const LaunchPlan& p, StepError* e) noexcept {
    for (std::size_t i = 0; i < p.cgroup_join_count; ++i) {
        if (::write(p.cgroup_join_fds[i], "0", 1) != 1) return fail_step(e, SetupStep::join_cgroup, static_cast<int>(i));
    }
    return true;
}

// After joining, so the namespace's root is the job cgroup.
bool enter_cgroup_namespace(StepError* e) noexcept {
    if (::unshare(CLONE_NEWCGROUP) != 0) return fail_step(e, SetupStep::unshare_cgroupns);
    return true;
}

// A prepared namespace has its interfaces set up already; a fresh one (CLONE_NEWNET) needs lo.
bool set_up_network(const LaunchPlan& p, StepError* e) noexcept {
    if (p.netns_fd < 0) return bring_up_loopback(e);
    if (::setns(p.netns_fd, CLONE_NEWNET) != 0) return fail_step(e, SetupStep::join_netns);
    ::close(p.netns_fd);
    return true;
}

bool set_hostname(const LaunchPlan& p, StepError* e) noexcept {
    if (::sethostname(p.hostname, p.hostname_len) != 0) return fail_step(e, SetupStep::hostname);
    return true;
}

pid_t fork_payload() noexcept {
    // A raw clone: glibc's fork() would take locks that another daemon thread may have held
    // when the daemon cloned us.
    return static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

std::uint64_t cpu_used_us() noexcept {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto us = [](const timeval& tv) {
        return static_cast<std::uint64_t>(tv.tv_sec) * 1000000u + static_cast<std::uint64_t>(tv.tv_usec);
    };
    return us(ru.ru_utime) + us(ru.ru_stime);
}

}  // namespace

std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void send_record(int fd, const StatusRecord& record) noexcept {
    ssize_t n;
    do {
        n = ::write(fd, &record, sizeof record);
    } while (n < 0 && errno == EINTR);
}

void report_failure_and_exit(int status_fd, const StepError& error) noexcept {
    StatusRecord r{};
    r.kind = RecordKind::failed;
    r.step = error.step;
    r.err = error.err;
    r.index = error.index;
    send_record(status_fd, r);
    ::_exit(127);
}

void run_supervisor(const LaunchPlan& p) noexcept {
    StepError e;
    ::umask(0);
    bool ready = reset_signals(&e) && join_cgroups(p, &e) && enter_cgroup_namespace(&e) &&
                 build_root_filesystem(p, &e) && set_hostname(p, &e) && set_up_network(p, &e);
    if (!ready) report_failure_and_exit(p.status_fd, e);

    StatusRecord started{};
    started.kind = RecordKind::started;
    started.cpu_us = cpu_used_us();
    started.monotonic_ns = monotonic_ns();
    send_record(p.status_fd, started);

    pid_t payload = fork_payload();
    if (payload == 0) run_payload(p);
    if (payload < 0) {
        e.step = SetupStep::clone_payload;
        e.err = errno;
        report_failure_and_exit(p.status_fd, e);
    }

    // Keep only the status pipe: the payload's stdout/stderr must reach EOF when it and its
    // children are gone, and the cgroup fds are no use to anyone in the jail.
    if (p.status_fd > 0) ::close_range(0, static_cast<unsigned>(p.status_fd) - 1, 0);
    ::close_range(static_cast<unsigned>(p.status_fd) + 1, ~0u, 0);
    if (!drop_privileges(p, &e)) {
        e.step = SetupStep::supervisor_identity;
        ::kill(payload, SIGKILL);
        report_failure_and_exit(p.status_fd, e);
    }
    // After the uid change (which clears it): die with the daemon.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::prctl(PR_SET_DUMPABLE, 0);

    for (;;) {
        int status = 0;
        pid_t pid = ::wait4(-1, &status, 0, nullptr);
        if (pid == payload) {
            StatusRecord exited{};
            exited.kind = RecordKind::exited;
            exited.wait_status = status;
            exited.monotonic_ns = monotonic_ns();
            send_record(p.status_fd, exited);
            ::_exit(0);
        }
        if (pid < 0 && errno != EINTR) ::_exit(1);
    }
}

}  // namespace sbx::jail
