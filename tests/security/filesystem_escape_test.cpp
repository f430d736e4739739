// Attacks on the jail's view of the host: writing the system, reading secrets, seeing other
// processes, inheriting the daemon's fds.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/jail_harness.hpp"

namespace sbx::testing {
namespace {

using jail::JobStatus;

// Runs a Python snippet that prints one line per probe; returns stdout.
std::string probe(const std::string& code) {
    auto r = JailHarness::get().py("import errno, os\n" + code);
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    return r.stdout_data;
}

TEST(FilesystemEscape, WritingUsrFailsWithErofs) {
    // New files fail with EROFS; existing root-owned files fail their permission check first.
    EXPECT_EQ(probe(R"(
for path in ['/usr/evil', '/usr/bin/python3', '/etc/alternatives/evil', '/evil', '/etc/passwd']:
    try:
        open(path, 'a').close()
        print(path, 'written')
    except OSError as e:
        print(path, errno.errorcode[e.errno])
)"),
              "/usr/evil EROFS\n/usr/bin/python3 EACCES\n/etc/alternatives/evil EROFS\n/evil EROFS\n/etc/passwd EACCES\n");
}

TEST(FilesystemEscape, ShadowAndHostFilesAreNotVisible) {
    EXPECT_EQ(probe(R"(
for path in ['/etc/shadow', '/root', '/home', '/var', '/sys', '/run', '/boot', '/etc/ssh']:
    print(path, os.path.exists(path))
)"),
              "/etc/shadow False\n/root False\n/home False\n/var False\n/sys False\n/run False\n/boot False\n"
              "/etc/ssh False\n");
}

TEST(FilesystemEscape, ProcShowsOnlyTheJobsProcesses) {
    // The supervisor (pid 1) is not dumpable, so hidepid hides it too.
    EXPECT_EQ(probe(R"(
import subprocess
child = subprocess.Popen(['/bin/sleep', '5'])
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
print(pids, os.getpid(), child.pid)
child.kill()
)"),
              "[2, 3] 2 3\n");
}

TEST(FilesystemEscape, SupervisorIsOutOfReach) {
    // PID 1 runs as the box uid too, but it is not dumpable: hidepid=invisible hides it from
    // /proc entirely, and signals from inside the namespace do not reach it.
    EXPECT_EQ(probe(R"(
import signal
for path in ['/proc/1/mem', '/proc/1/environ', '/proc/1/fd/0', '/proc/1/root/etc']:
    try:
        open(path, 'rb').close()
        print(path, 'opened')
    except OSError as e:
        print(path, errno.errorcode[e.errno])
os.kill(1, signal.SIGKILL)
os.kill(1, signal.SIGTERM)
print('still here')
)"),
              "/proc/1/mem ENOENT\n/proc/1/environ ENOENT\n/proc/1/fd/0 ENOENT\n/proc/1/root/etc ENOENT\nstill here\n");
}

TEST(FilesystemEscape, DeviceNodesCannotBeCreatedOrAbused) {
    EXPECT_EQ(probe(R"(
import stat
for path in ['/tmp/sda', '/work/mem']:
    try:
        os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(8, 0))
        print(path, 'created')
    except OSError as e:
        print(path, errno.errorcode[e.errno])
print(sorted(os.listdir('/dev')))
)"),
              "/tmp/sda EPERM\n/work/mem EPERM\n['fd', 'full', 'null', 'random', 'stderr', 'stdin', 'stdout', 'urandom', "
              "'zero']\n");
}

TEST(FilesystemEscape, SecretFdOfTheParentIsNotInherited) {
    // Not close-on-exec on purpose: the jail must close it anyway.
    int secret = memfd_create("secret", 0);
    ASSERT_GE(secret, 0);
    ASSERT_EQ(write(secret, "hunter2", 7), 7);
    int plain = open("/etc/hostname", O_RDONLY);
    ASSERT_GE(plain, 0);
    std::string out = probe("print(sorted(os.listdir('/proc/self/fd')))");
    // 0-2, and the fd listdir itself has open.
    EXPECT_EQ(out, "['0', '1', '2', '3']\n");
    auto r = JailHarness::get().sh("cat /proc/self/fd/" + std::to_string(secret) + " /proc/self/fd/" +
                                   std::to_string(plain));
    EXPECT_EQ(r.stdout_data.find("hunter2"), std::string::npos);
    EXPECT_EQ(r.status, JobStatus::runtime_error);
    close(secret);
    close(plain);
}

TEST(FilesystemEscape, WorkspaceRefusesPlantedSymlinks) {
    auto& h = JailHarness::get();
    auto ws = h.make_workspace(h.default_template()->box_ids, 1 << 20);
    ASSERT_TRUE(ws);
    jail::ExecRequest req;
    req.name = h.next_name();
    // The job plants links pointing at host paths, hoping the daemon writes or reads through.
    req.argv = {"/bin/sh", "-c", "ln -s /etc/cron.d out; ln -s /etc/shadow result.txt; mkdir d; ln -s / d/up"};
    req.limits = h.default_limits();
    auto r = jail::execute(h.runtime(), h.default_template(), *ws, req);
    ASSERT_EQ(r.status, JobStatus::ok) << r.stderr_data;
    EXPECT_FALSE(ws->write_file("out/evil", "x"));
    EXPECT_FALSE(ws->write_file("result.txt", "x"));
    EXPECT_FALSE(ws->read_file("result.txt", 1 << 20));
    EXPECT_FALSE(ws->read_file("d/up/etc/shadow", 1 << 20));
    EXPECT_FALSE(ws->write_file("../escape", "x"));
    EXPECT_FALSE(ws->write_file("/etc/evil", "x"));
    EXPECT_TRUE(ws->write_file("d/ok.txt", "fine"));
    EXPECT_EQ(*ws->read_file("d/ok.txt", 100), "fine");
}

TEST(FilesystemEscape, TmpAndWorkAreNosuidAndNodev) {
    auto r = JailHarness::get().sh("grep -E ' /(tmp|work) ' /proc/self/mounts");
    ASSERT_EQ(r.status, JobStatus::ok) << r.stderr_data;
    EXPECT_NE(r.stdout_data.find("/tmp tmpfs rw,nosuid,nodev"), std::string::npos) << r.stdout_data;
    EXPECT_NE(r.stdout_data.find("/work tmpfs rw,nosuid,nodev"), std::string::npos) << r.stdout_data;
}

}  // namespace
}  // namespace sbx::testing
