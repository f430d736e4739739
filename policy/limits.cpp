// Effective limits of one job: the policy's defaults, lowered where the request asks.
#include "policy/limits.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string>

namespace sbx::policy {
namespace {

std::string format_count(std::uint32_t n) { return std::to_string(n); }

std::string format_cores(double cores) {
    std::array<char, 64> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), cores);
    if (ec != std::errc()) return std::to_string(cores);
    return std::string(buffer.data(), end);
}

bool is_positive(std::uint64_t v) { return v > 0; }
bool is_positive(std::uint32_t v) { return v > 0; }
bool is_positive(Duration v) { return v.count() > 0; }
bool is_positive(double v) { return std::isfinite(v) && v > 0; }

// Picks the request's value when it is in (0, maximum], the default when it is unset.
template <class T, class Format>
Status apply(const char* field, const Bound<T>& bound, const std::optional<T>& requested,
             T& out, Format format) {
    if (!requested) {
        out = bound.default_value;
        return {};
    }
    if (!is_positive(*requested)) {
        return Error::invalid(field, "must be greater than 0, got " + format(*requested));
    }
    if (bound.maximum < *requested) {
        return Error::invalid(field, format(*requested) + " exceeds the policy's maximum of " +
                                         format(bound.maximum));
    }
    out = *requested;
    return {};
}

}  // namespace

LimitBounds LimitBounds::exactly(const Limits& l) {
    return LimitBounds{
        .memory_bytes = {l.memory_bytes, l.memory_bytes},
        .pids = {l.pids, l.pids},
        .wall_time = {l.wall_time, l.wall_time},
        .cpu_time = {l.cpu_time, l.cpu_time},
        .cpu_cores = {l.cpu_cores, l.cpu_cores},
        .output_bytes = {l.output_bytes, l.output_bytes},
        .tmpfs_bytes = {l.tmpfs_bytes, l.tmpfs_bytes},
        .open_files = {l.open_files, l.open_files},
        .file_size_bytes = {l.file_size_bytes, l.file_size_bytes},
        .stack_bytes = {l.stack_bytes, l.stack_bytes},
    };
}

Limits LimitBounds::defaults() const {
    return Limits{
        .memory_bytes = memory_bytes.default_value,
        .pids = pids.default_value,
        .wall_time = wall_time.default_value,
        .cpu_time = cpu_time.default_value,
        .cpu_cores = cpu_cores.default_value,
        .output_bytes = output_bytes.default_value,
        .tmpfs_bytes = tmpfs_bytes.default_value,
        .open_files = open_files.default_value,
        .file_size_bytes = file_size_bytes.default_value,
        .stack_bytes = stack_bytes.default_value,
    };
}

LimitBounds LimitBounds::with_defaults(const LimitRequest& d) const {
    LimitBounds out = *this;
    auto cap = [](auto& bound, const auto& value) {
        if (value) bound.default_value = bound.maximum < *value ? bound.maximum : *value;
    };
    cap(out.memory_bytes, d.memory_bytes);
    cap(out.pids, d.pids);
    cap(out.wall_time, d.wall_time);
    cap(out.cpu_time, d.cpu_time);
    cap(out.cpu_cores, d.cpu_cores);
    cap(out.output_bytes, d.output_bytes);
    cap(out.tmpfs_bytes, d.tmpfs_bytes);
    cap(out.open_files, d.open_files);
    cap(out.file_size_bytes, d.file_size_bytes);
    cap(out.stack_bytes, d.stack_bytes);
    return out;
}

Result<Limits> resolve_limits(const LimitBounds& bounds, const LimitRequest& request) {
    Limits out;
    const Status statuses[] = {
        apply("memory_limit", bounds.memory_bytes, request.memory_bytes, out.memory_bytes, format_size),
        apply("pids_limit", bounds.pids, request.pids, out.pids, format_count),
        apply("wall_time_limit", bounds.wall_time, request.wall_time, out.wall_time, format_duration),
        apply("cpu_time_limit", bounds.cpu_time, request.cpu_time, out.cpu_time, format_duration),
        apply("cpu_cores", bounds.cpu_cores, request.cpu_cores, out.cpu_cores, format_cores),
        apply("output_limit", bounds.output_bytes, request.output_bytes, out.output_bytes, format_size),
        apply("tmpfs_limit", bounds.tmpfs_bytes, request.tmpfs_bytes, out.tmpfs_bytes, format_size),
        apply("open_files_limit", bounds.open_files, request.open_files, out.open_files, format_count),
        apply("file_size_limit", bounds.file_size_bytes, request.file_size_bytes,
              out.file_size_bytes, format_size),
        apply("stack_limit", bounds.stack_bytes, request.stack_bytes, out.stack_bytes, format_size),
    };
    // The first failing field, in the order of the request's fields.
    for (const Status& status : statuses) {
        if (!status) return status.error();
    }
    return out;
}

LimitRequest LimitRequest::overridden_by(const LimitRequest& other) const {
    LimitRequest out = *this;
    auto take = [](auto& into, const auto& from) {
        if (from) into = from;
    };
    take(out.memory_bytes, other.memory_bytes);
    take(out.pids, other.pids);
    take(out.wall_time, other.wall_time);
    take(out.cpu_time, other.cpu_time);
    take(out.cpu_cores, other.cpu_cores);
    take(out.output_bytes, other.output_bytes);
    take(out.tmpfs_bytes, other.tmpfs_bytes);
    take(out.open_files, other.open_files);
    take(out.file_size_bytes, other.file_size_bytes);
    take(out.stack_bytes, other.stack_bytes);
    return out;
}

}  // namespace sbx::policy
