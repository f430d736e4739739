// Attacks on identity: getting root back, capabilities, setuid binaries, and the system calls
// the seccomp filter denies.
#include <gtest/gtest.h>

#include "tests/support/jail_harness.hpp"

namespace sbx::testing {
namespace {

using jail::JobStatus;

std::string probe(const std::string& code) {
    auto r = JailHarness::get().py("import ctypes, errno, os\nlibc = ctypes.CDLL(None, use_errno=True)\n" + code);
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    return r.stdout_data;
}

TEST(PrivilegeEscape, RunsAsTheBoxUidWithNoGroups) {
    auto r = JailHarness::get().sh("id -u; id -g; id -G; id -un");
    ASSERT_EQ(r.status, JobStatus::ok) << r.stderr_data;
    auto range = JailHarness::get().default_template()->box_ids;
    int uid = std::stoi(r.stdout_data);
    EXPECT_GE(uid, static_cast<int>(range.first));
    EXPECT_LT(uid, static_cast<int>(range.first + range.count));
    std::string id = std::to_string(uid);
    EXPECT_EQ(r.stdout_data, id + "\n" + id + "\n" + id + "\nsandbox\n");
}

TEST(PrivilegeEscape, NoCapabilitiesNoNewPrivsSeccompFilter) {
    auto r = JailHarness::get().run({"/bin/grep", "-E", "^(Cap|NoNewPrivs|Seccomp:)", "/proc/self/status"});
    ASSERT_EQ(r.status, JobStatus::ok) << r.stderr_data;
    EXPECT_EQ(r.stdout_data,
              "CapInh:\t0000000000000000\n"
              "CapPrm:\t0000000000000000\n"
              "CapEff:\t0000000000000000\n"
              "CapBnd:\t0000000000000000\n"
              "CapAmb:\t0000000000000000\n"
              "NoNewPrivs:\t1\n"
              "Seccomp:\t2\n");
}

TEST(PrivilegeEscape, SetuidRootBinaryDoesNotElevate) {
    // /usr/bin/mount is setuid root on the host; in the jail it runs as the box uid.
    auto r = JailHarness::get().sh("test -u /usr/bin/mount && echo setuid-bit-present; "
                                   "/usr/bin/mount -t tmpfs none /tmp; echo exit=$?");
    EXPECT_NE(r.stdout_data.find("setuid-bit-present"), std::string::npos);
    EXPECT_EQ(r.stdout_data.find("exit=0"), std::string::npos) << r.stdout_data;
    EXPECT_NE(r.stderr_data.find("must be superuser"), std::string::npos) << r.stderr_data;
}

TEST(PrivilegeEscape, SetuidToRootFails) {
    EXPECT_EQ(probe(R"(
for name, call in [('setuid', lambda: os.setuid(0)), ('setgid', lambda: os.setgid(0)),
                   ('setgroups', lambda: os.setgroups([0])), ('chroot', lambda: os.chroot('/tmp'))]:
    try:
        call()
        print(name, 'succeeded')
    except OSError as e:
        print(name, errno.errorcode[e.errno])
)"),
              "setuid EPERM\nsetgid EPERM\nsetgroups EPERM\nchroot EPERM\n");
}

TEST(PrivilegeEscape, DeniedSystemCallsFail) {
    // Raw system calls by number (x86_64), so libc wrappers cannot hide anything.
    EXPECT_EQ(probe(R"(
CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET = 0x10000000, 0x20000, 0x40000000
calls = [
    ('ptrace_traceme', 101, (0, 0, 0, 0)),
    ('ptrace_attach_init', 101, (16, 1, 0, 0)),
    ('mount', 165, (b'none', b'/tmp', b'tmpfs', 0, 0)),
    ('umount2', 166, (b'/tmp', 2)),
    ('unshare_user', 272, (CLONE_NEWUSER,)),
    ('unshare_net', 272, (CLONE_NEWNET,)),
    ('setns', 308, (0, 0)),
    ('clone_newuser', 56, (CLONE_NEWUSER | 17, 0, 0, 0, 0)),
    ('clone_newns', 56, (CLONE_NEWNS | 17, 0, 0, 0, 0)),
    ('pivot_root', 155, (b'/tmp', b'/tmp')),
    ('io_uring_setup', 425, (8, 0)),
    ('bpf', 321, (0, 0, 0)),
    ('perf_event_open', 298, (0, 0, -1, -1, 0)),
    ('keyctl', 250, (0, 0)),
    ('add_key', 248, (b'user', b'x', 0, 0, 0)),
    ('userfaultfd', 323, (0,)),
    ('open_by_handle_at', 304, (0, 0, 0)),
    ('kexec_load', 246, (0, 0, 0, 0)),
    ('init_module', 175, (0, 0, 0)),
    ('reboot', 169, (0, 0, 0, 0)),
    ('swapon', 167, (b'/tmp/x', 0)),
    ('acct', 163, (0,)),
    ('process_vm_readv', 310, (1, 0, 0, 0, 0, 0)),
    ('fsopen', 430, (b'tmpfs', 0)),
    ('clone3', 435, (0, 0)),
]
for name, nr, args in calls:
    rc = libc.syscall(nr, *args)
    print(name, rc, errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()))
)"),
              "ptrace_traceme -1 EPERM\n"
              "ptrace_attach_init -1 EPERM\n"
              "mount -1 EPERM\n"
              "umount2 -1 EPERM\n"
              "unshare_user -1 EPERM\n"
              "unshare_net -1 EPERM\n"
              "setns -1 EPERM\n"
              "clone_newuser -1 EPERM\n"
              "clone_newns -1 EPERM\n"
              "pivot_root -1 EPERM\n"
              "io_uring_setup -1 EPERM\n"
              "bpf -1 EPERM\n"
              "perf_event_open -1 EPERM\n"
              "keyctl -1 EPERM\n"
              "add_key -1 EPERM\n"
              "userfaultfd -1 EPERM\n"
              "open_by_handle_at -1 EPERM\n"
              "kexec_load -1 EPERM\n"
              "init_module -1 EPERM\n"
              "reboot -1 EPERM\n"
              "swapon -1 EPERM\n"
              "acct -1 EPERM\n"
              "process_vm_readv -1 EPERM\n"
              "fsopen -1 EPERM\n"
              "clone3 -1 ENOSYS\n");
}

TEST(PrivilegeEscape, PlainForkAndThreadsStillWork) {
    // The clone filter only stops namespace flags: ordinary processes and threads are fine.
    EXPECT_EQ(probe(R"(
import threading, subprocess
t = threading.Thread(target=lambda: print('thread ran'))
t.start(); t.join()
print(subprocess.run(['/bin/echo', 'child ran'], capture_output=True, text=True).stdout.strip())
)"),
              "thread ran\nchild ran\n");
}

TEST(PrivilegeEscape, TiocstiCannotInjectTerminalInput) {
    // With the high bits set too: the filter compares the command's low 32 bits.
    EXPECT_EQ(probe(R"(
import fcntl
TIOCSTI = 0x5412
for cmd in [TIOCSTI, TIOCSTI | (1 << 32)]:
    rc = libc.ioctl(0, ctypes.c_ulong(cmd), ctypes.c_char_p(b'x'))
    print(rc, errno.errorcode.get(ctypes.get_errno()))
)"),
              "-1 EPERM\n-1 EPERM\n");
}

TEST(PrivilegeEscape, ForeignArchitectureSystemCallsKillTheProcess) {
    // int 0x80 enters the i386 table and 0x40000000|nr the x32 table: both bypass a filter
    // that only checks native numbers, so the filter kills on any foreign architecture.
    const char* source = R"(
#include <stdio.h>
#include <unistd.h>
int main(int argc, char** argv) {
    long rc;
    if (argv[1][0] == 'i') {
        __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory"); /* i386 getpid */
    } else {
        __asm__ volatile("syscall" : "=a"(rc) : "a"(0x40000000L | 39L) : "rcx", "r11", "memory"); /* x32 getpid */
    }
    printf("survived %ld\n", rc);
    return 0;
}
)";
    auto& h = JailHarness::get();
    for (std::string mode : {"i386", "x32"}) {
        auto r = h.sh("gcc -o arch arch.c && ./arch " + mode, {.files = {{"arch.c", source}}});
        EXPECT_EQ(r.status, JobStatus::runtime_error) << mode << ": " << r.message << r.stderr_data;
        EXPECT_EQ(r.stdout_data, "") << mode;
        EXPECT_NE(r.stderr_data.find("Bad system call"), std::string::npos) << mode << ": " << r.stderr_data;
    }
}

}  // namespace
}  // namespace sbx::testing
