// Every limit ends the job with the status that names it, and holds where it is enforced by
// the kernel (pids, tmpfs size, file size).
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <gtest/gtest.h>
#include <thread>

#include "tests/support/jail_harness.hpp"

extern char** environ;

namespace sbx::testing {
namespace {

using jail::JobStatus;
using namespace std::chrono_literals;

policy::Limits limits() { return JailHarness::get().default_limits(); }

TEST(JailLimits, GigabyteAllocationUnder64MiBEndsMemoryLimit) {
    auto l = limits();
    l.memory_bytes = 64ull << 20;
    auto r = JailHarness::get().py("s = b'x' * (1 << 30)\nprint('survived')", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::memory_limit) << r.message << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "");
    EXPECT_LE(r.memory_peak_bytes, 64ull << 20);
    EXPECT_GT(r.memory_peak_bytes, 32ull << 20);
}

TEST(JailLimits, MemoryUnderTheLimitIsFine) {
    auto l = limits();
    l.memory_bytes = 128ull << 20;
    auto r = JailHarness::get().py("s = b'x' * (32 << 20)\nprint(len(s))", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    EXPECT_EQ(r.stdout_data, std::to_string(32 << 20) + "\n");
    EXPECT_GE(r.memory_peak_bytes, 32ull << 20);
}

TEST(JailLimits, ForkBombStopsAtPidsLimit) {
    auto l = limits();
    l.pids = 32;
    // Forks until the kernel refuses; children wait so they all count at once.
    auto r = JailHarness::get().py(R"(
import os, time, errno
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError as e:
    print(n, errno.errorcode[e.errno])
)",
                                   {.limits = l});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    // 32 pids: the supervisor and python itself take two.
    EXPECT_EQ(r.stdout_data, "30 EAGAIN\n");
}

TEST(JailLimits, ShellForkBombIsContainedAndHostStaysResponsive) {
    auto& h = JailHarness::get();
    auto l = limits();
    l.pids = 32;
    l.wall_time = 3s;
    jail::ExecResult result;
    std::thread bomb([&] { result = h.run({"/bin/bash", "-c", "bomb() { bomb | bomb & }; bomb; sleep 10"}, {.limits = l}); });
    std::this_thread::sleep_for(500ms);
    // While the bomb runs, the host can still start processes, and promptly.
    for (int i = 0; i < 10; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        pid_t pid = 0;
        char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
        ASSERT_EQ(posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ), 0);
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    }
    bomb.join();
    EXPECT_EQ(result.status, JobStatus::time_limit) << result.message;
    EXPECT_NE(result.stderr_data.find("Resource temporarily unavailable"), std::string::npos) << result.stderr_data;
}

TEST(JailLimits, BusyLoopEndsAtWallLimit) {
    auto l = limits();
    l.wall_time = 1s;
    l.cpu_time = 10s;
    auto r = JailHarness::get().sh("while :; do :; done", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::time_limit);
    EXPECT_NE(r.message.find("wall-clock"), std::string::npos) << r.message;
    EXPECT_GE(r.wall_ms, 1000);
    EXPECT_LT(r.wall_ms, 1300);
}

TEST(JailLimits, SleepEndsAtWallLimitWithoutCpu) {
    auto l = limits();
    l.wall_time = 500ms;
    auto r = JailHarness::get().run({"/bin/sleep", "5"}, {.limits = l});
    EXPECT_EQ(r.status, JobStatus::time_limit);
    EXPECT_GE(r.wall_ms, 500);
    EXPECT_LT(r.wall_ms, 800);
    EXPECT_LT(r.cpu_ms, 100);
}

TEST(JailLimits, BusyLoopEndsAtCpuLimit) {
    auto l = limits();
    l.wall_time = 10s;
    l.cpu_time = 1s;
    auto r = JailHarness::get().sh("while :; do :; done", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::time_limit);
    EXPECT_NE(r.message.find("CPU"), std::string::npos) << r.message;
    EXPECT_GE(r.cpu_ms, 1000);
    EXPECT_LT(r.cpu_ms, 1200);
    // Ended by the CPU check, long before the wall clock. (How much wall time 1 s of CPU takes
    // depends on how busy the machine is, so no tighter bound here.)
    EXPECT_LT(r.wall_ms, 9000);
}

TEST(JailLimits, CpuLimitCountsEveryProcessOfTheJob) {
    auto l = limits();
    l.wall_time = 10s;
    l.cpu_time = 1s;
    l.cpu_cores = 2;
    // Two busy children: together they reach 1 s of CPU in about half a second.
    auto r = JailHarness::get().sh("(while :; do :; done) & (while :; do :; done) & wait", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::time_limit);
    EXPECT_GE(r.cpu_ms, 1000);
    EXPECT_LT(r.cpu_ms, 1300);
}

TEST(JailLimits, CpuBandwidthHoldsAHalfCore) {
    auto l = limits();
    l.wall_time = 1s;
    l.cpu_cores = 0.5;
    auto r = JailHarness::get().sh("while :; do :; done", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::time_limit);
    EXPECT_LT(r.cpu_ms, 650);
    EXPECT_GT(r.cpu_ms, 350);
}

TEST(JailLimits, FillingTmpGivesEnospc) {
    auto l = limits();
    l.tmpfs_bytes = 8ull << 20;
    auto r = JailHarness::get().py(R"(
import errno
try:
    with open('/tmp/fill', 'wb') as f:
        f.write(b'x' * (20 << 20))
    print('wrote it all')
except OSError as e:
    print(errno.errorcode[e.errno])
)",
                                   {.limits = l});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "ENOSPC\n");
}

TEST(JailLimits, WorkDirHasItsOwnSizeLimit) {
    auto l = limits();
    l.tmpfs_bytes = 4ull << 20;
    auto r = JailHarness::get().sh("head -c 8M /dev/zero > big; echo $?", {.limits = l});
    EXPECT_EQ(r.stdout_data, "1\n");
    EXPECT_NE(r.stderr_data.find("No space left on device"), std::string::npos) << r.stderr_data;
}

TEST(JailLimits, OutputFloodEndsOutputLimitWithExactlyTheCap) {
    auto l = limits();
    l.output_bytes = 1000;
    auto r = JailHarness::get().run({"/usr/bin/yes"}, {.limits = l});
    EXPECT_EQ(r.status, JobStatus::output_limit) << r.message;
    ASSERT_EQ(r.stdout_data.size(), 1000u);
    EXPECT_TRUE(r.stdout_truncated);
    EXPECT_FALSE(r.stderr_truncated);
    std::string expected;
    while (expected.size() < 1000) expected += "y\n";
    EXPECT_EQ(r.stdout_data, expected.substr(0, 1000));
}

TEST(JailLimits, OutputExactlyAtTheCapIsNotTruncated) {
    auto l = limits();
    l.output_bytes = 4096;
    auto r = JailHarness::get().sh("head -c 4096 /dev/zero; head -c 5000 /dev/urandom >&2", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::output_limit);
    EXPECT_EQ(r.stdout_data, std::string(4096, '\0'));
    EXPECT_FALSE(r.stdout_truncated);
    EXPECT_EQ(r.stderr_data.size(), 4096u);
    EXPECT_TRUE(r.stderr_truncated);
}

TEST(JailLimits, BinaryOutputIsKeptByteForByte) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    auto r = JailHarness::get().run({"/bin/cat"}, {.stdin_data = all + all});
    EXPECT_EQ(r.status, JobStatus::ok);
    EXPECT_EQ(r.stdout_data, all + all);
}

TEST(JailLimits, FileSizeLimitEndsOutputLimit) {
    auto l = limits();
    l.file_size_bytes = 1 << 20;
    auto r = JailHarness::get().run({"/bin/dd", "if=/dev/zero", "of=big", "bs=1M", "count=2"}, {.limits = l});
    EXPECT_EQ(r.status, JobStatus::output_limit) << r.message;
    EXPECT_EQ(r.signal, SIGXFSZ);
}

TEST(JailLimits, OpenFilesLimit) {
    auto l = limits();
    l.open_files = 32;
    auto r = JailHarness::get().py(R"(
import os
fds = []
try:
    while True:
        fds.append(os.open('/dev/null', os.O_RDONLY))
except OSError as e:
    print(len(fds) + 3, e.strerror)
)",
                                   {.limits = l});
    EXPECT_EQ(r.stdout_data, "32 Too many open files\n") << r.stderr_data;
}

TEST(JailLimits, NoCoreDumps) {
    auto r = JailHarness::get().sh("ulimit -c");
    EXPECT_EQ(r.stdout_data, "0\n");
}

}  // namespace
}  // namespace sbx::testing
