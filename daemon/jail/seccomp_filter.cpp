#include "daemon/jail/seccomp_filter.hpp"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "common/unique_fd.hpp"
#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

namespace {

// Namespace creation through clone(2); CLONE_NEWTIME shares its bit with CSIGNAL there and
// is only reachable through clone3 and unshare, which are denied whole.
constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
                                             CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};

struct ContextDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

Error rule_error(const std::string& what, int rc) { return Error::system("seccomp rule " + what, -rc); }

}  // namespace

const std::vector<std::string>& default_denied_syscalls() {
    static const std::vector<std::string> names = {
        // debugging and reading other processes
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
        // mounts and namespaces
        "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsconfig",
        "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
        // kernel attack surface rarely needed by programs
        "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
        "io_uring_register", "keyctl", "add_key", "request_key", "lookup_dcookie",
        // whole-machine operations
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup",
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
        "nfsservctl", "uselib", "_sysctl",
        // file handles bypass path permissions
        "open_by_handle_at", "name_to_handle_at",
    };
    return names;
}

Result<std::unique_ptr<SeccompProgram>> compile_seccomp(const policy::SeccompPolicy& policy) {
    Context ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx) return Error::invalid("seccomp_init", "failed");
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
        return rule_error("bad-architecture action", rc);

    std::vector<std::string> denied = default_denied_syscalls();
    for (const auto& name : policy.deny)
        if (std::find(denied.begin(), denied.end(), name) == denied.end()) denied.push_back(name);
    std::erase_if(denied, [&](const std::string& name) {
        return std::find(policy.allow.begin(), policy.allow.end(), name) != policy.allow.end();
    });
    auto allowed = [&](const char* name) {
        return std::find(policy.allow.begin(), policy.allow.end(), name) != policy.allow.end();
    };

    for (const auto& name : denied) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) return Error::invalid("seccomp", "unknown system call '" + name + "'");
        if (nr < 0) continue;  // not a call on this architecture (e.g. _sysctl): nothing to deny
        if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0); rc < 0) return rule_error(name, rc);
    }
    if (!allowed("clone")) {
        for (unsigned long flag : kNamespaceFlags) {
            int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                      SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
            if (rc < 0) return rule_error("clone namespace flags", rc);
        }
    }
    if (!allowed("clone3")) {
        if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc < 0)
            return rule_error("clone3", rc);
    }
    if (!allowed("ioctl")) {
        // Pushing bytes into the terminal's input queue (TIOCSTI) or console control (TIOCLINUX).
        // The command is an int: compare its low 32 bits only, so high bits cannot dodge the rule.
        for (unsigned long cmd : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
            int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, cmd));
            if (rc < 0) return rule_error("ioctl", rc);
        }
    }

    // libseccomp 2.5 exports BPF only to a file descriptor.
    UniqueFd mem(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
    if (!mem) return Error::system("memfd_create for seccomp export");
    if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0) return rule_error("export", rc);
    off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        return Error::invalid("seccomp export", "unexpected program size");
    std::vector<sock_filter> code(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), code.data(), static_cast<size_t>(size), 0) != size)
        return Error::system("read exported seccomp program");
    return std::make_unique<SeccompProgram>(std::move(code));
}

bool install_seccomp(const sock_fprog* program, StepError* e) noexcept {
    if (program == nullptr) return true;
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, program, 0, 0) != 0) return fail_step(e, SetupStep::seccomp);
    return true;
}

}  // namespace sbx::jail
