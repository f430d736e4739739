// Resource limits: what a policy allows (defaults and maximums), what a request asks for, and
// the effective limits of one job. A request may lower any limit, never raise it.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.hpp"
#include "policy/units.hpp"

namespace sbx::policy {

struct Limits {
    std::uint64_t memory_bytes = 256ull << 20;   // cgroup memory, swap 0
    std::uint32_t pids = 64;                     // cgroup pids.max
    Duration wall_time = std::chrono::seconds(10);
    Duration cpu_time = std::chrono::seconds(5); // whole job (all processes), from the cgroup
    double cpu_cores = 1.0;                      // CPU bandwidth (quota / period)
    std::uint64_t output_bytes = 1ull << 20;     // captured per output stream (stdout, stderr)
    std::uint64_t tmpfs_bytes = 64ull << 20;     // size of /tmp and of the work directory, each
    std::uint32_t open_files = 256;              // RLIMIT_NOFILE
    std::uint64_t file_size_bytes = 64ull << 20; // RLIMIT_FSIZE
    std::uint64_t stack_bytes = 8ull << 20;      // RLIMIT_STACK

    bool operator==(const Limits&) const = default;
};

struct LimitRequest;

template <class T>
struct Bound {
    T default_value{};
    T maximum{};
    bool operator==(const Bound&) const = default;
};

// One Bound per field of Limits, same names. In a policy file a plain value sets both default
// and maximum; a table { default = ..., max = ... } sets them apart (default <= max).
struct LimitBounds {
    Bound<std::uint64_t> memory_bytes;
    Bound<std::uint32_t> pids;
    Bound<Duration> wall_time;
    Bound<Duration> cpu_time;
    Bound<double> cpu_cores;
    Bound<std::uint64_t> output_bytes;
    Bound<std::uint64_t> tmpfs_bytes;
    Bound<std::uint32_t> open_files;
    Bound<std::uint64_t> file_size_bytes;
    Bound<std::uint64_t> stack_bytes;

    // Bounds whose default and maximum both equal the given limits.
    static LimitBounds exactly(const Limits& l);
    Limits defaults() const;

    // These bounds with the defaults that `defaults` sets replaced, each capped at its maximum:
    // a language's stage defaults under a policy (a JVM compiler wants more than a policy's
    // default, never more than its maximum).
    LimitBounds with_defaults(const LimitRequest& defaults) const;

    bool operator==(const LimitBounds&) const = default;
};

// What a request asks for; unset fields take the policy's default.
struct LimitRequest {
    std::optional<std::uint64_t> memory_bytes;
    std::optional<std::uint32_t> pids;
    std::optional<Duration> wall_time;
    std::optional<Duration> cpu_time;
    std::optional<double> cpu_cores;
    std::optional<std::uint64_t> output_bytes;
    std::optional<std::uint64_t> tmpfs_bytes;
    std::optional<std::uint32_t> open_files;
    std::optional<std::uint64_t> file_size_bytes;
    std::optional<std::uint64_t> stack_bytes;

    // This request with every field `other` sets replaced (a test case's limits over its run's).
    LimitRequest overridden_by(const LimitRequest& other) const;
    bool operator==(const LimitRequest&) const = default;
};

// Effective limits, or an error naming the first field that asks for more than the policy's
// maximum (or for zero): "memory_limit: 1GiB exceeds the policy's maximum of 256MiB".
// The names in messages are the request field names: memory_limit, pids_limit, wall_time_limit,
// cpu_time_limit, cpu_cores, output_limit, tmpfs_limit, open_files_limit, file_size_limit,
// stack_limit.
Result<Limits> resolve_limits(const LimitBounds& bounds, const LimitRequest& request);

}  // namespace sbx::policy
