// A request may lower any limit of its policy, never raise it.
#include <gtest/gtest.h>

#include "policy/limits.hpp"

namespace sbx::policy {
namespace {

using namespace std::chrono_literals;

// A policy that lets requests choose: defaults below maximums.
LimitBounds choosable_bounds() {
    LimitBounds b = LimitBounds::exactly(Limits{});
    b.memory_bytes = {128ull << 20, 256ull << 20};
    b.wall_time = {5s, 10s};
    b.cpu_cores = {1.0, 2.0};
    return b;
}

std::string resolve_error(const LimitBounds& bounds, const LimitRequest& request) {
    auto r = resolve_limits(bounds, request);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().message();
}

TEST(LimitBounds, ExactlyAndDefaultsRoundTrip) {
    Limits l;
    l.memory_bytes = 1ull << 30;
    l.pids = 7;
    l.cpu_cores = 0.5;
    const LimitBounds b = LimitBounds::exactly(l);
    EXPECT_EQ(b.memory_bytes.default_value, 1ull << 30);
    EXPECT_EQ(b.memory_bytes.maximum, 1ull << 30);
    EXPECT_EQ(b.pids.maximum, 7u);
    EXPECT_EQ(b.stack_bytes.maximum, 8ull << 20);
    EXPECT_EQ(b.defaults(), l);
}

TEST(ResolveLimits, EmptyRequestGetsTheDefaults) {
    const LimitBounds b = choosable_bounds();
    auto r = resolve_limits(b, LimitRequest{});
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, b.defaults());
    EXPECT_EQ(r->memory_bytes, 128ull << 20);
}

TEST(ResolveLimits, RequestsMayLowerOrRaiseUpToTheMaximum) {
    LimitRequest request;
    request.memory_bytes = 64ull << 20;
    request.wall_time = 10s;   // above the default, at the maximum
    request.pids = 10;
    request.cpu_cores = 0.25;
    request.output_bytes = 1024;
    request.stack_bytes = 1ull << 20;
    auto r = resolve_limits(choosable_bounds(), request);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->memory_bytes, 64ull << 20);
    EXPECT_EQ(r->wall_time, 10s);
    EXPECT_EQ(r->pids, 10u);
    EXPECT_EQ(r->cpu_cores, 0.25);
    EXPECT_EQ(r->output_bytes, 1024u);
    EXPECT_EQ(r->stack_bytes, 1ull << 20);
    EXPECT_EQ(r->cpu_time, 5s);  // untouched: the default
}

TEST(ResolveLimits, RaisingAboveTheMaximumNamesFieldAndValues) {
    const LimitBounds b = LimitBounds::exactly(Limits{});
    LimitRequest memory;
    memory.memory_bytes = 1ull << 30;
    EXPECT_EQ(resolve_error(b, memory), "memory_limit: 1GiB exceeds the policy's maximum of 256MiB");

    LimitRequest wall;
    wall.wall_time = 20s;
    EXPECT_EQ(resolve_error(b, wall), "wall_time_limit: 20s exceeds the policy's maximum of 10s");

    LimitRequest cpu;
    cpu.cpu_time = Duration(5'500'000);
    EXPECT_EQ(resolve_error(b, cpu), "cpu_time_limit: 5.5s exceeds the policy's maximum of 5s");

    LimitRequest pids;
    pids.pids = 65;
    EXPECT_EQ(resolve_error(b, pids), "pids_limit: 65 exceeds the policy's maximum of 64");

    LimitRequest cores;
    cores.cpu_cores = 1.5;
    EXPECT_EQ(resolve_error(b, cores), "cpu_cores: 1.5 exceeds the policy's maximum of 1");

    LimitRequest output;
    output.output_bytes = (1ull << 20) + 1;
    EXPECT_EQ(resolve_error(b, output), "output_limit: 1048577B exceeds the policy's maximum of 1MiB");

    LimitRequest tmpfs;
    tmpfs.tmpfs_bytes = 1ull << 30;
    EXPECT_EQ(resolve_error(b, tmpfs), "tmpfs_limit: 1GiB exceeds the policy's maximum of 64MiB");

    LimitRequest files;
    files.open_files = 1000;
    EXPECT_EQ(resolve_error(b, files), "open_files_limit: 1000 exceeds the policy's maximum of 256");

    LimitRequest fsize;
    fsize.file_size_bytes = 128ull << 20;
    EXPECT_EQ(resolve_error(b, fsize), "file_size_limit: 128MiB exceeds the policy's maximum of 64MiB");

    LimitRequest stack;
    stack.stack_bytes = 16ull << 20;
    EXPECT_EQ(resolve_error(b, stack), "stack_limit: 16MiB exceeds the policy's maximum of 8MiB");
}

TEST(ResolveLimits, ZeroIsRejected) {
    const LimitBounds b = LimitBounds::exactly(Limits{});
    LimitRequest memory;
    memory.memory_bytes = 0;
    EXPECT_EQ(resolve_error(b, memory), "memory_limit: must be greater than 0, got 0B");
    LimitRequest wall;
    wall.wall_time = 0us;
    EXPECT_EQ(resolve_error(b, wall), "wall_time_limit: must be greater than 0, got 0s");
    LimitRequest pids;
    pids.pids = 0;
    EXPECT_EQ(resolve_error(b, pids), "pids_limit: must be greater than 0, got 0");
    LimitRequest cores;
    cores.cpu_cores = 0.0;
    EXPECT_EQ(resolve_error(b, cores), "cpu_cores: must be greater than 0, got 0");
    LimitRequest negative;
    negative.cpu_cores = -1.0;
    EXPECT_EQ(resolve_error(b, negative), "cpu_cores: must be greater than 0, got -1");
    LimitRequest nan;
    nan.cpu_cores = std::numeric_limits<double>::quiet_NaN();
    EXPECT_FALSE(resolve_limits(b, nan).ok());
    LimitRequest negative_time;
    negative_time.cpu_time = Duration(-1);
    EXPECT_FALSE(resolve_limits(b, negative_time).ok());
}

TEST(ResolveLimits, FirstFailingFieldIsReported) {
    LimitRequest request;
    request.memory_bytes = 1ull << 30;
    request.stack_bytes = 1ull << 30;
    EXPECT_EQ(resolve_error(LimitBounds::exactly(Limits{}), request),
              "memory_limit: 1GiB exceeds the policy's maximum of 256MiB");
}

}  // namespace
}  // namespace sbx::policy

namespace sbx::policy {
namespace {

TEST(LimitRequestOverride, FieldsSetByTheOtherWin) {
    LimitRequest run;
    run.memory_bytes = 128ull << 20;
    run.wall_time = std::chrono::seconds(5);
    LimitRequest test_case;
    test_case.wall_time = std::chrono::seconds(1);
    test_case.pids = 8;
    LimitRequest merged = run.overridden_by(test_case);
    EXPECT_EQ(merged.memory_bytes, 128ull << 20);
    EXPECT_EQ(merged.wall_time, std::chrono::seconds(1));
    EXPECT_EQ(merged.pids, 8u);
    EXPECT_FALSE(merged.cpu_time);
    EXPECT_EQ(run.overridden_by(LimitRequest{}), run);
}

}  // namespace
}  // namespace sbx::policy

namespace sbx::policy {
namespace {

// A language's stage defaults replace the policy's, capped at its maximums; the maximums
// still bound what a request may ask for.
TEST(LimitBoundsWithDefaults, LanguageDefaultsAreCappedAtThePolicysMaximum) {
    LimitBounds policy = LimitBounds::exactly(Limits{});
    policy.memory_bytes = {256ull << 20, 2ull << 30};
    policy.pids = {64, 512};
    policy.cpu_time = {std::chrono::seconds(5), std::chrono::seconds(60)};
    LimitRequest language;
    language.memory_bytes = 1ull << 30;             // within the maximum: taken
    language.pids = 1000;                           // above it: capped
    language.cpu_time = std::chrono::seconds(2);    // below the policy default: taken too
    const LimitBounds b = policy.with_defaults(language);
    EXPECT_EQ(b.memory_bytes.default_value, 1ull << 30);
    EXPECT_EQ(b.memory_bytes.maximum, 2ull << 30);
    EXPECT_EQ(b.pids.default_value, 512u);
    EXPECT_EQ(b.cpu_time.default_value, std::chrono::seconds(2));
    EXPECT_EQ(b.wall_time, policy.wall_time);  // not set by the language: unchanged
    auto resolved = resolve_limits(b, {});
    ASSERT_TRUE(resolved.ok());
    EXPECT_EQ(resolved->memory_bytes, 1ull << 30);
    LimitRequest request;
    request.memory_bytes = 128ull << 20;  // a request may still go below the language's default
    EXPECT_EQ(resolve_limits(b, request)->memory_bytes, 128ull << 20);
    request.memory_bytes = 4ull << 30;  // and never above the policy's maximum
    EXPECT_FALSE(resolve_limits(b, request).ok());
}

}  // namespace
}  // namespace sbx::policy
