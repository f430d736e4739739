// Basic behaviour of one jailed program: exit codes, stdio, timings, environment.
#include <gtest/gtest.h>

#include "tests/support/jail_harness.hpp"

namespace sbx::testing {
namespace {

using jail::JobStatus;

TEST(JailBasics, TrueExitsOk) {
    auto r = JailHarness::get().run({"/bin/true"});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message;
    EXPECT_EQ(r.exit_code, 0);
}

TEST(JailBasics, ExitCodeIsRuntimeError) {
    auto r = JailHarness::get().sh("exit 7");
    EXPECT_EQ(r.status, JobStatus::runtime_error) << r.message;
    EXPECT_EQ(r.exit_code, 7);
}

TEST(JailBasics, StdinIsEchoed) {
    auto r = JailHarness::get().run({"/bin/cat"}, {.stdin_data = std::string("hello\0world\n", 12)});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message;
    EXPECT_EQ(r.stdout_data, std::string("hello\0world\n", 12));
}

TEST(JailBasics, StderrSeparate) {
    auto r = JailHarness::get().sh("echo out; echo err >&2");
    EXPECT_EQ(r.stdout_data, "out\n");
    EXPECT_EQ(r.stderr_data, "err\n");
}

TEST(JailBasics, PythonRuns) {
    auto r = JailHarness::get().run({"/usr/bin/python3", "-c", "print(sum(range(10)))"});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "45\n");
}

TEST(JailBasics, MissingProgramIsInternalErrorNamingIt) {
    auto r = JailHarness::get().run({"/usr/bin/no-such-program"});
    EXPECT_EQ(r.status, JobStatus::internal_error);
    EXPECT_NE(r.message.find("execve /usr/bin/no-such-program"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("No such file"), std::string::npos) << r.message;
}

TEST(JailBasics, KilledBySignal) {
    auto r = JailHarness::get().sh("kill -SEGV $$");
    EXPECT_EQ(r.status, JobStatus::signaled) << r.message;
    EXPECT_EQ(r.signal, SIGSEGV);
}

TEST(JailBasics, WorkDirIsCwdAndWritable) {
    auto r = JailHarness::get().sh("pwd; echo x > f && cat f; echo $HOME");
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "/work\nx\n/work\n");
}

}  // namespace
}  // namespace sbx::testing
