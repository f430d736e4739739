// Test-case judging through a real daemon: every verdict from its own cause, per-case limits,
// each case in a fresh jail after one compile, the comparison modes, and stopping at the first
// failure.
#include <gtest/gtest.h>

#include "tests/e2e/daemon_process.hpp"

namespace sbx::testing {
namespace {

using protocol::CompareMode;
using protocol::TestCase;

TestCase test_case(std::string in, std::string expected) {
    TestCase t;
    t.stdin_data = std::move(in);
    t.expected_output = std::move(expected);
    return t;
}

// One program whose input says how it misbehaves.
constexpr const char* kActor = R"(import sys
what = sys.stdin.readline().split()
if what[0] == "double":
    print(int(what[1]) * 2)
elif what[0] == "loop":
    while True:
        pass
elif what[0] == "hog":
    block = bytearray(400 << 20)
    print(len(block))
elif what[0] == "crash":
    sys.exit(3)
elif what[0] == "flood":
    sys.stdout.write("x" * (1 << 20))
)";

TEST(JudgingE2E, EveryVerdictFromItsOwnCauseWithPerCaseLimits) {
    DaemonProcess daemon;
    protocol::RunRequest req;
    req.language = "python";
    req.source = kActor;
    req.tests = {test_case("double 2\n", "4\n"),  test_case("double 5\n", "11\n"), test_case("loop\n", ""),
                 test_case("hog\n", ""),          test_case("crash\n", ""),        test_case("flood\n", ""),
                 test_case("double 21\n", "42\n")};
    req.tests[2].limits.wall_time = std::chrono::milliseconds(1500);
    req.tests[2].limits.cpu_time = std::chrono::milliseconds(500);
    req.tests[3].limits.memory_bytes = 64u << 20;
    req.tests[5].limits.output_bytes = 4096;
    auto r = run_job(daemon, req);
    ASSERT_EQ(r.tests.size(), 7u);
    const char* expected[] = {"accepted",      "wrong_answer", "time_limit", "memory_limit",
                              "runtime_error", "output_limit", "accepted"};
    for (size_t i = 0; i < 7; ++i) EXPECT_EQ(r.tests[i].verdict, expected[i]) << "case " << i;
    EXPECT_EQ(r.passed, 2u);
    EXPECT_EQ(r.total, 7u);
    EXPECT_EQ(r.run.status, "ok") << "every case ran; the verdicts say how each fared";
    // Each case reports its own run: its output, exit code and timings.
    EXPECT_EQ(r.tests[1].run.stdout_data, "10\n");
    EXPECT_EQ(r.tests[4].run.exit_code, 3);
    EXPECT_TRUE(r.tests[5].run.stdout_truncated);
    EXPECT_EQ(r.tests[5].run.stdout_data.size(), 4096u);
    EXPECT_LT(r.tests[2].run.wall_ms, 5000.0) << "the looping case ended at its own limits, not the default 10 s";
    EXPECT_LT(r.tests[0].run.cpu_ms, r.tests[2].run.cpu_ms);
    EXPECT_GT(r.tests[3].run.memory_peak_bytes, 32u << 20);
    EXPECT_LE(r.tests[3].run.memory_peak_bytes, 64u << 20);
}

TEST(JudgingE2E, CompiledOnceThenEachCaseInAFreshJail) {
    DaemonProcess daemon;
    protocol::RunRequest req;
    req.language = "c";
    // A case that found the previous case's file would print "seen".
    req.source = R"(#include <stdio.h>
#include <unistd.h>
int main(void) {
    int x;
    if (scanf("%d", &x) != 1) return 1;
    if (access("marker", F_OK) == 0 || access("/tmp/marker", F_OK) == 0) { puts("seen"); return 0; }
    FILE *f = fopen("marker", "w"), *g = fopen("/tmp/marker", "w");
    if (!f || !g) return 2;
    printf("%d\n", x + 1);
    return 0;
})";
    req.tests = {test_case("1\n", "2\n"), test_case("2\n", "3\n"), test_case("3\n", "4\n")};
    auto r = run_job(daemon, req);
    ASSERT_TRUE(r.compile);
    EXPECT_EQ(r.compile->status, "ok");
    ASSERT_EQ(r.tests.size(), 3u);
    for (const auto& t : r.tests) EXPECT_EQ(t.verdict, "accepted") << t.run.stdout_data;
    EXPECT_EQ(r.passed, 3u);

    // A compile error judges nothing: the job is compile_error with the compiler's message.
    req.source = "int main(void) { return y; }";
    r = run_job(daemon, req);
    EXPECT_EQ(r.run.status, "compile_error");
    ASSERT_TRUE(r.compile);
    EXPECT_NE(r.compile->stderr_data.find("undeclared"), std::string::npos) << r.compile->stderr_data;
    EXPECT_EQ(r.passed, 0u);
}

TEST(JudgingE2E, ComparisonModes) {
    DaemonProcess daemon;
    protocol::RunRequest req;
    req.language = "python";
    req.source = "print('1  2', 1/3, end=' \\n\\n')\n";  // "1  2 0.3333333333333333 \n\n"
    auto verdict = [&](CompareMode mode, std::string expected, double tolerance = 1e-6) {
        req.compare = mode;
        req.float_tolerance = tolerance;
        req.tests = {test_case("", std::move(expected))};
        auto r = run_job(daemon, req);
        return r.tests.empty() ? std::string("no case") : r.tests[0].verdict;
    };
    EXPECT_EQ(verdict(CompareMode::exact, "1  2 0.3333333333333333 \n\n"), "accepted");
    EXPECT_EQ(verdict(CompareMode::exact, "1  2 0.3333333333333333\n"), "wrong_answer");
    EXPECT_EQ(verdict(CompareMode::trailing_whitespace, "1  2 0.3333333333333333\n"), "accepted");
    EXPECT_EQ(verdict(CompareMode::trailing_whitespace, "1 2 0.3333333333333333\n"), "wrong_answer");
    EXPECT_EQ(verdict(CompareMode::tokens, "1 2\n0.3333333333333333"), "accepted");
    EXPECT_EQ(verdict(CompareMode::tokens, "1 2 0.333333"), "wrong_answer");
    EXPECT_EQ(verdict(CompareMode::float_tolerance, "1 2 0.333", 1e-3), "accepted");
    EXPECT_EQ(verdict(CompareMode::float_tolerance, "1 2 0.333", 1e-6), "wrong_answer");
}

TEST(JudgingE2E, StopOnFailureSkipsTheRest) {
    DaemonProcess daemon;
    protocol::RunRequest req;
    req.language = "python";
    req.source = "print(int(input()) * 2)\n";
    req.tests = {test_case("1\n", "2\n"), test_case("2\n", "5\n"), test_case("3\n", "6\n"), test_case("4\n", "8\n")};
    req.stop_on_failure = true;
    auto r = run_job(daemon, req);
    ASSERT_EQ(r.tests.size(), 4u);
    EXPECT_EQ(r.tests[0].verdict, "accepted");
    EXPECT_EQ(r.tests[1].verdict, "wrong_answer");
    EXPECT_EQ(r.tests[2].verdict, "skipped");
    EXPECT_EQ(r.tests[3].verdict, "skipped");
    EXPECT_EQ(r.passed, 1u);
    EXPECT_EQ(r.total, 4u);
    // Without it every case runs.
    req.stop_on_failure = false;
    r = run_job(daemon, req);
    ASSERT_EQ(r.tests.size(), 4u);
    EXPECT_EQ(r.tests[3].verdict, "accepted");
    EXPECT_EQ(r.passed, 3u);
}

}  // namespace
}  // namespace sbx::testing
