#include "daemon/jail/launcher.hpp"

#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

Result<LaunchedJail> launch_jail(const LaunchPlan& plan) {
    int pidfd = -1;
    clone_args args{};
    // The cgroup namespace comes later, from inside, once the child is in the job cgroup.
    args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD;
    // A prepared network namespace is joined from inside instead (netns_pool.hpp).
    if (plan.netns_fd < 0) args.flags |= CLONE_NEWNET;
    args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    if (plan.cgroup_clone_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<std::uint64_t>(plan.cgroup_clone_fd);
    }
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) return Error::system("clone3 jail");
    if (pid == 0) run_supervisor(plan);  // never returns
    LaunchedJail jail;
    jail.pidfd.reset(pidfd);
    jail.pid = static_cast<pid_t>(pid);
    return jail;
}

}  // namespace sbx::jail
