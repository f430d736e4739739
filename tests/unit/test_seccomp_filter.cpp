// The compiled filter, installed in a forked child (seccomp needs no privileges once
// no_new_privs is set), denies what it should and nothing else.
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "daemon/jail/child_steps.hpp"
#include "daemon/jail/seccomp_filter.hpp"

namespace sbx::jail {
namespace {

// Runs `probe` in a child under the filter; returns the child's exit code.
int under_filter(const SeccompProgram& program, int (*probe)()) {
    pid_t pid = fork();
    if (pid == 0) {
        StepError e;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !install_seccomp(program.fprog(), &e)) _exit(100);
        _exit(probe());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return 200 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

// Exit codes: 0 = call succeeded, 1 = EPERM, 2 = ENOSYS, 3 = another error.
int classify(long rc) {
    if (rc >= 0) return 0;
    return errno == EPERM ? 1 : errno == ENOSYS ? 2 : 3;
}

TEST(SeccompFilter, DefaultDeniesPtraceUnshareAndNamespaceClones) {
    auto program = compile_seccomp({});
    ASSERT_TRUE(program) << program.error().message();
    EXPECT_GT((*program)->instructions(), 20u);
    EXPECT_EQ(under_filter(**program, [] { return classify(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }), 1);
    EXPECT_EQ(under_filter(**program, [] { return classify(unshare(CLONE_NEWUSER)); }), 1);
    EXPECT_EQ(under_filter(**program, [] { return classify(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0)); }), 1);
    EXPECT_EQ(under_filter(**program, [] { return classify(syscall(SYS_clone3, nullptr, 0)); }), 2);
    EXPECT_EQ(under_filter(**program, [] { return classify(syscall(SYS_io_uring_setup, 8, nullptr)); }), 1);
    // Allowed calls keep working, plain fork included.
    EXPECT_EQ(under_filter(**program, [] { return classify(getpid()); }), 0);
    EXPECT_EQ(under_filter(**program, [] {
                  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
                  if (pid == 0) _exit(0);
                  return classify(pid);
              }),
              0);
}

TEST(SeccompFilter, PolicyCanAllowAndDenyMore) {
    policy::SeccompPolicy p;
    p.allow = {"ptrace"};
    p.deny = {"getcpu"};
    auto program = compile_seccomp(p);
    ASSERT_TRUE(program) << program.error().message();
    EXPECT_EQ(under_filter(**program, [] { return classify(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }), 0);
    EXPECT_EQ(under_filter(**program, [] { return classify(syscall(SYS_getcpu, nullptr, nullptr, nullptr)); }), 1);
}

TEST(SeccompFilter, UnknownSystemCallIsAnError) {
    policy::SeccompPolicy p;
    p.deny = {"no_such_call"};
    auto program = compile_seccomp(p);
    ASSERT_FALSE(program);
    EXPECT_NE(program.error().message().find("unknown system call 'no_such_call'"), std::string::npos);
}

TEST(SeccompFilter, DefaultListHasTheRequiredCalls) {
    const auto& list = default_denied_syscalls();
    for (const char* name : {"ptrace", "mount", "umount2", "pivot_root", "unshare", "setns", "bpf", "perf_event_open",
                             "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module",
                             "finit_module", "delete_module", "io_uring_setup", "io_uring_enter",
                             "io_uring_register", "userfaultfd", "swapon", "swapoff", "reboot", "acct", "quotactl",
                             "open_by_handle_at"})
        EXPECT_NE(std::find(list.begin(), list.end(), name), list.end()) << name;
}

}  // namespace
}  // namespace sbx::jail
