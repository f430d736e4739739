// Test helper: fully populated protocol messages (every field away from its default) and
// field-by-field comparisons, for the codec, client and fuzz tests.
#pragma once

#include <gtest/gtest.h>

#include <tuple>

#include "protocol/messages.hpp"

namespace sbx::protocol::samples {

using namespace std::chrono_literals;

inline policy::LimitRequest all_limits(std::uint64_t scale) {
    policy::LimitRequest l;
    l.memory_bytes = (128ull << 20) * scale;
    l.pids = static_cast<std::uint32_t>(16 * scale);
    l.wall_time = policy::Duration(2'500'000 * static_cast<std::int64_t>(scale));
    l.cpu_time = policy::Duration(1'250'001 * static_cast<std::int64_t>(scale));
    l.cpu_cores = 0.5 * static_cast<double>(scale);
    l.output_bytes = (64ull << 10) * scale;
    l.tmpfs_bytes = (32ull << 20) * scale;
    l.open_files = static_cast<std::uint32_t>(100 * scale);
    l.file_size_bytes = (8ull << 20) * scale;
    l.stack_bytes = (4ull << 20) * scale;
    return l;
}

inline RunRequest full_run() {
    RunRequest r;
    r.policy = "strict";
    r.language = "python";
    r.argv = {"/usr/bin/env", "python3", "-c", "print(1)"};
    r.source = std::string("print(input())\n\0\xff\xfe", 19);
    r.files = {{"data/in.txt", std::string("1 2 3\n\0", 7), false}, {"run.sh", "#!/bin/sh\n", true}};
    r.args = {"--fast", "", "x y"};
    r.stdin_data = std::string("stdin\0bytes\x80", 12);
    r.env = {{"LANG", "C.UTF-8"}, {"EMPTY", ""}};
    r.limits = all_limits(1);
    r.compile_limits = all_limits(2);
    r.stream = true;
    TestCase t1;
    t1.stdin_data = "1\n";
    t1.expected_output = "1\n";
    TestCase t2;
    t2.stdin_data = std::string("\0", 1);
    t2.expected_output = "";
    t2.limits.wall_time = 1s;
    t2.limits.memory_bytes = 1ull << 20;
    r.tests = {t1, t2};
    r.compare = CompareMode::float_tolerance;
    r.float_tolerance = 0.25;
    r.stop_on_failure = true;
    return r;
}

inline void expect_same(const RunRequest& a, const RunRequest& b) {
    EXPECT_EQ(a.policy, b.policy);
    EXPECT_EQ(a.language, b.language);
    EXPECT_EQ(a.argv, b.argv);
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.files, b.files);
    EXPECT_EQ(a.args, b.args);
    EXPECT_EQ(a.stdin_data, b.stdin_data);
    EXPECT_EQ(a.env, b.env);
    EXPECT_TRUE(a.limits == b.limits);
    EXPECT_TRUE(a.compile_limits == b.compile_limits);
    EXPECT_EQ(a.stream, b.stream);
    ASSERT_EQ(a.tests.size(), b.tests.size());
    for (std::size_t i = 0; i < a.tests.size(); ++i) {
        EXPECT_EQ(a.tests[i].stdin_data, b.tests[i].stdin_data) << "test " << i;
        EXPECT_EQ(a.tests[i].expected_output, b.tests[i].expected_output) << "test " << i;
        EXPECT_TRUE(a.tests[i].limits == b.tests[i].limits) << "test " << i;
    }
    EXPECT_EQ(a.compare, b.compare);
    EXPECT_EQ(a.float_tolerance, b.float_tolerance);
    EXPECT_EQ(a.stop_on_failure, b.stop_on_failure);
}

inline ExecutionReport report(const std::string& status, int seed) {
    ExecutionReport r;
    r.status = status;
    r.exit_code = -seed;
    r.signal = seed + 8;
    r.wall_ms = 12.5 * seed;
    r.cpu_ms = 3.25 * seed;
    r.memory_peak_bytes = (5ull << 30) + static_cast<std::uint64_t>(seed);
    r.stdout_data = std::string("out\0\xff", 5) + std::to_string(seed);
    r.stderr_data = "err" + std::to_string(seed);
    r.stdout_truncated = seed % 2 == 0;
    r.stderr_truncated = seed % 2 == 1;
    r.message = "message " + std::to_string(seed);
    return r;
}

inline auto tie(const ExecutionReport& r) {
    return std::tie(r.status, r.exit_code, r.signal, r.wall_ms, r.cpu_ms, r.memory_peak_bytes, r.stdout_data,
                    r.stderr_data, r.stdout_truncated, r.stderr_truncated, r.message);
}

inline RunResult full_run_result() {
    RunResult r;
    r.job_id = "j-42";
    r.policy = "default";
    r.language = "cpp";
    r.run = report("runtime_error", 1);
    r.compile = report("ok", 2);
    r.tests = {{"accepted", report("ok", 3)}, {"wrong_answer", report("ok", 4)}, {"skipped", report("cancelled", 5)}};
    r.passed = 1;
    r.total = 3;
    return r;
}

inline void expect_same(const RunResult& a, const RunResult& b) {
    EXPECT_EQ(a.job_id, b.job_id);
    EXPECT_EQ(a.policy, b.policy);
    EXPECT_EQ(a.language, b.language);
    EXPECT_EQ(tie(a.run), tie(b.run));
    ASSERT_EQ(a.compile.has_value(), b.compile.has_value());
    if (a.compile) {
        EXPECT_EQ(tie(*a.compile), tie(*b.compile));
    }
    ASSERT_EQ(a.tests.size(), b.tests.size());
    for (std::size_t i = 0; i < a.tests.size(); ++i) {
        EXPECT_EQ(a.tests[i].verdict, b.tests[i].verdict);
        EXPECT_EQ(tie(a.tests[i].run), tie(b.tests[i].run));
    }
    EXPECT_EQ(a.passed, b.passed);
    EXPECT_EQ(a.total, b.total);
}

inline StatusResult full_status() {
    StatusResult s;
    s.server = "sandboxd 0.1.0";
    s.uptime_s = 3600.5;
    s.cgroup_backend = "v2";
    s.max_jobs = 8;
    s.max_queue = 64;
    s.running = 2;
    s.queued = 1;
    s.jobs = {{"j-1", 1000, "default", "python", "running", 12.5},
              {"j-2", 0, "strict", "", "queued", 0.75}};
    return s;
}

inline auto tie(const JobInfo& j) { return std::tie(j.job_id, j.uid, j.policy, j.language, j.state, j.elapsed_ms); }

inline void expect_same(const StatusResult& a, const StatusResult& b) {
    EXPECT_EQ(std::tie(a.server, a.uptime_s, a.cgroup_backend, a.max_jobs, a.max_queue, a.running, a.queued),
              std::tie(b.server, b.uptime_s, b.cgroup_backend, b.max_jobs, b.max_queue, b.running, b.queued));
    ASSERT_EQ(a.jobs.size(), b.jobs.size());
    for (std::size_t i = 0; i < a.jobs.size(); ++i) EXPECT_EQ(tie(a.jobs[i]), tie(b.jobs[i]));
}

inline PoliciesResult full_policies() {
    policy::LimitBounds b;
    b.memory_bytes = {256ull << 20, 1ull << 30};
    b.pids = {64, 128};
    b.wall_time = {10s, policy::Duration(60'000'001)};
    b.cpu_time = {5s, 30s};
    b.cpu_cores = {1.0, 2.5};
    b.output_bytes = {1ull << 20, 8ull << 20};
    b.tmpfs_bytes = {64ull << 20, 256ull << 20};
    b.open_files = {256, 1024};
    b.file_size_bytes = {64ull << 20, 128ull << 20};
    b.stack_bytes = {8ull << 20, 16ull << 20};
    PoliciesResult r;
    r.policies = {{"default", "The usual limits", "none", b}, {"net", "With egress", "egress", policy::LimitBounds{}}};
    return r;
}

inline void expect_same(const PoliciesResult& a, const PoliciesResult& b) {
    ASSERT_EQ(a.policies.size(), b.policies.size());
    for (std::size_t i = 0; i < a.policies.size(); ++i) {
        EXPECT_EQ(a.policies[i].name, b.policies[i].name);
        EXPECT_EQ(a.policies[i].description, b.policies[i].description);
        EXPECT_EQ(a.policies[i].network, b.policies[i].network);
        EXPECT_TRUE(a.policies[i].limits == b.policies[i].limits) << "policy " << i;
    }
}

inline LanguagesResult full_languages() {
    LanguagesResult r;
    r.languages = {{"python", "Python 3", {"py", "python3"}, {".py"}, false, "3.11.2", true, ""},
                   {"cpp", "C++", {"c++"}, {".cpp", ".cc"}, true, "", false, "g++ not installed"}};
    return r;
}

inline auto tie(const LanguageInfo& l) {
    return std::tie(l.name, l.display_name, l.aliases, l.extensions, l.compiled, l.version, l.available, l.reason);
}

inline void expect_same(const LanguagesResult& a, const LanguagesResult& b) {
    ASSERT_EQ(a.languages.size(), b.languages.size());
    for (std::size_t i = 0; i < a.languages.size(); ++i) EXPECT_EQ(tie(a.languages[i]), tie(b.languages[i]));
}

inline StatsResult full_stats() {
    StatsResult s;
    s.uptime_s = 99.5;
    s.jobs_total = 1ull << 40;
    s.by_status = {{"ok", 10}, {"time_limit", 2}};
    s.by_language = {{"python", 11}, {"cpp", 1}};
    s.running = 3;
    s.queued = 4;
    s.rejected_busy = 5;
    s.latency_bounds_ms = {1, 5, 10.5, 100};
    s.latency_counts = {0, 3, 7, 12};
    s.latency_sum_ms = 432.25;
    return s;
}

inline auto tie(const StatsResult& s) {
    return std::tie(s.uptime_s, s.jobs_total, s.by_status, s.by_language, s.running, s.queued, s.rejected_busy,
                    s.latency_bounds_ms, s.latency_counts, s.latency_sum_ms);
}

inline auto tie(const Event& e) {
    return std::tie(e.event, e.job_id, e.stage, e.test, e.stream, e.data, e.queue_position);
}

inline auto tie(const ServerHello& h) {
    return std::tie(h.protocol, h.server, h.capabilities, h.max_frame, h.max_inflight);
}

}  // namespace sbx::protocol::samples
