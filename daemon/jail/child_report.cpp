#include "daemon/jail/child_report.hpp"

namespace sbx::jail {

const char* step_name(SetupStep step) {
    switch (step) {
        case SetupStep::none: return "none";
        case SetupStep::signals: return "reset signals";
        case SetupStep::join_cgroup: return "join cgroup";
        case SetupStep::unshare_cgroupns: return "create cgroup namespace";
        case SetupStep::mount_private: return "make mounts private";
        case SetupStep::mount_root: return "mount root tmpfs";
        case SetupStep::mount_step: return "mount";
        case SetupStep::pivot_root: return "pivot_root";
        case SetupStep::remount_root: return "remount root read-only";
        case SetupStep::hostname: return "sethostname";
        case SetupStep::loopback: return "bring up lo";
        case SetupStep::clone_payload: return "fork payload";
        case SetupStep::setsid: return "setsid";
        case SetupStep::stdio: return "set up stdin/stdout/stderr";
        case SetupStep::close_fds: return "close inherited fds";
        case SetupStep::chdir: return "chdir to work dir";
        case SetupStep::rlimit: return "setrlimit";
        case SetupStep::no_new_privs: return "set no_new_privs";
        case SetupStep::drop_bounding_caps: return "drop bounding capabilities";
        case SetupStep::setgroups: return "setgroups";
        case SetupStep::setresgid: return "setresgid";
        case SetupStep::setresuid: return "setresuid";
        case SetupStep::clear_caps: return "clear capabilities";
        case SetupStep::seccomp: return "load seccomp filter";
        case SetupStep::execve: return "execve";
        case SetupStep::supervisor_identity: return "drop supervisor privileges";
        case SetupStep::join_netns: return "join network namespace";
    }
    return "unknown step";
}

}  // namespace sbx::jail
