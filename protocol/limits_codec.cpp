#include "protocol/limits_codec.hpp"

#include <cmath>
#include <limits>

#include "policy/units.hpp"
#include "protocol/utf8.hpp"

namespace sbx::protocol::detail {
namespace {

// The wire names of the limits, in the order they are written.
constexpr std::string_view kMemory = "memory_limit";
constexpr std::string_view kPids = "pids_limit";
constexpr std::string_view kWall = "wall_time_limit";
constexpr std::string_view kCpuTime = "cpu_time_limit";
constexpr std::string_view kCores = "cpu_cores";
constexpr std::string_view kOutput = "output_limit";
constexpr std::string_view kTmpfs = "tmpfs_limit";
constexpr std::string_view kOpenFiles = "open_files_limit";
constexpr std::string_view kFileSize = "file_size_limit";
constexpr std::string_view kStack = "stack_limit";

// The longest duration a request may name (about 31 years; any policy's maximum is far below).
// Up to here a duration survives the trip through seconds as a double to the microsecond.
constexpr double kMaxDurationSeconds = 1e9;
constexpr policy::Duration kMaxDuration{1'000'000'000'000'000};

// Nearest microsecond of a finite, range-checked number of seconds.
policy::Duration from_seconds(double seconds) {
    if (!std::isfinite(seconds) || seconds <= 0) return policy::Duration(0);
    if (seconds > kMaxDurationSeconds) seconds = kMaxDurationSeconds;
    return policy::Duration(static_cast<policy::Duration::rep>(std::llround(seconds * 1e6)));
}

// A size or duration string; one longer than any sensible spelling is refused before it is
// parsed (and echoed in the message).
std::string_view checked_text(const msgpack::object& v, const std::string& name, std::string_view kind) {
    constexpr std::size_t kMaxText = 64;
    const std::string_view text(v.via.str.ptr, v.via.str.size);
    if (text.size() > kMaxText)
        fail_value(name, "invalid " + std::string(kind) + " '" + quote_for_message(text, 32) + "': too long");
    return text;
}

std::uint64_t read_size(const msgpack::object& v, const std::string& name) {
    std::uint64_t bytes = 0;
    if (v.type == msgpack::type::POSITIVE_INTEGER) {
        bytes = v.via.u64;
    } else if (v.type == msgpack::type::NEGATIVE_INTEGER) {
        fail_value(name, "must be above 0, got " + std::to_string(v.via.i64));
    } else if (v.type == msgpack::type::STR) {
        const std::string_view text = checked_text(v, name, "size");
        auto parsed = policy::parse_size(text);
        if (!parsed) fail_value(name, parsed.error().message());
        bytes = *parsed;
    } else {
        fail_type(name, "an unsigned integer (bytes) or a string like \"256MiB\"", v);
    }
    if (bytes == 0) fail_value(name, "must be above 0");
    return bytes;
}

std::uint32_t read_count(const msgpack::object& v, const std::string& name) {
    if (v.type == msgpack::type::NEGATIVE_INTEGER) fail_value(name, "must be above 0, got " + std::to_string(v.via.i64));
    const std::uint64_t count = read_uint(v, name);
    if (count == 0) fail_value(name, "must be above 0");
    if (count > std::numeric_limits<std::uint32_t>::max()) fail_value(name, "too large: " + std::to_string(count));
    return static_cast<std::uint32_t>(count);
}

double read_cores(const msgpack::object& v, const std::string& name) {
    const double cores = read_number(v, name);
    if (!std::isfinite(cores) || cores <= 0) fail_value(name, "must be a number above 0");
    return cores;
}

template <class T, class Read>
void read_optional(const MapReader& m, std::string_view key, std::optional<T>& out, Read read) {
    if (const msgpack::object* v = m.find(key)) out = read(*v, m.field(key));
}

}  // namespace

double to_seconds(policy::Duration d) { return static_cast<double>(d.count()) / 1e6; }

policy::Duration read_duration(const msgpack::object& v, const std::string& name) {
    policy::Duration d{0};
    if (v.type == msgpack::type::STR) {
        const std::string_view text = checked_text(v, name, "duration");
        auto parsed = policy::parse_duration(text);
        if (!parsed) fail_value(name, parsed.error().message());
        d = *parsed;
        if (d.count() == 0) fail_value(name, "must be above 0");
    } else if (v.type == msgpack::type::POSITIVE_INTEGER || v.type == msgpack::type::NEGATIVE_INTEGER ||
               v.type == msgpack::type::FLOAT32 || v.type == msgpack::type::FLOAT64) {
        const double seconds = read_number(v, name);
        if (!std::isfinite(seconds)) fail_value(name, "must be a finite number of seconds");
        if (seconds <= 0) fail_value(name, "must be above 0");
        if (seconds > kMaxDurationSeconds) fail_value(name, "too large (the most is 1000000000s)");
        d = from_seconds(seconds);
    } else {
        fail_type(name, "a number of seconds or a string like \"2.5s\"", v);
    }
    if (d.count() <= 0) fail_value(name, "must be at least 1us");
    if (d > kMaxDuration) fail_value(name, "too large (the most is 1000000000s)");
    return d;
}

bool has_any_limit(const policy::LimitRequest& l) {
    return l.memory_bytes || l.pids || l.wall_time || l.cpu_time || l.cpu_cores || l.output_bytes ||
           l.tmpfs_bytes || l.open_files || l.file_size_bytes || l.stack_bytes;
}

void write_limit_request(Writer& w, const policy::LimitRequest& l) {
    const std::size_t n = (l.memory_bytes ? 1 : 0) + (l.pids ? 1 : 0) + (l.wall_time ? 1 : 0) +
                          (l.cpu_time ? 1 : 0) + (l.cpu_cores ? 1 : 0) + (l.output_bytes ? 1 : 0) +
                          (l.tmpfs_bytes ? 1 : 0) + (l.open_files ? 1 : 0) + (l.file_size_bytes ? 1 : 0) +
                          (l.stack_bytes ? 1 : 0);
    w.map(n);
    auto size = [&w](std::string_view key, const std::optional<std::uint64_t>& v) {
        if (!v) return;
        w.key(key);
        w.uint(*v);
    };
    auto count = [&w](std::string_view key, const std::optional<std::uint32_t>& v) {
        if (!v) return;
        w.key(key);
        w.uint(*v);
    };
    auto duration = [&w](std::string_view key, const std::optional<policy::Duration>& v) {
        if (!v) return;
        w.key(key);
        w.number(to_seconds(*v));
    };
    size(kMemory, l.memory_bytes);
    count(kPids, l.pids);
    duration(kWall, l.wall_time);
    duration(kCpuTime, l.cpu_time);
    if (l.cpu_cores) {
        w.key(kCores);
        w.number(*l.cpu_cores);
    }
    size(kOutput, l.output_bytes);
    size(kTmpfs, l.tmpfs_bytes);
    count(kOpenFiles, l.open_files);
    size(kFileSize, l.file_size_bytes);
    size(kStack, l.stack_bytes);
}

policy::LimitRequest read_limit_request(const msgpack::object& o, const std::string& field) {
    const MapReader m(o, field);
    policy::LimitRequest l;
    read_optional(m, kMemory, l.memory_bytes, read_size);
    read_optional(m, kPids, l.pids, read_count);
    read_optional(m, kWall, l.wall_time, read_duration);
    read_optional(m, kCpuTime, l.cpu_time, read_duration);
    read_optional(m, kCores, l.cpu_cores, read_cores);
    read_optional(m, kOutput, l.output_bytes, read_size);
    read_optional(m, kTmpfs, l.tmpfs_bytes, read_size);
    read_optional(m, kOpenFiles, l.open_files, read_count);
    read_optional(m, kFileSize, l.file_size_bytes, read_size);
    read_optional(m, kStack, l.stack_bytes, read_size);
    return l;
}

void write_limit_bounds(Writer& w, const policy::LimitBounds& b) {
    auto pair_uint = [&w](std::string_view key, std::uint64_t def, std::uint64_t max) {
        w.key(key);
        w.map(2);
        w.key("default");
        w.uint(def);
        w.key("max");
        w.uint(max);
    };
    auto pair_number = [&w](std::string_view key, double def, double max) {
        w.key(key);
        w.map(2);
        w.key("default");
        w.number(def);
        w.key("max");
        w.number(max);
    };
    w.map(10);
    pair_uint(kMemory, b.memory_bytes.default_value, b.memory_bytes.maximum);
    pair_uint(kPids, b.pids.default_value, b.pids.maximum);
    pair_number(kWall, to_seconds(b.wall_time.default_value), to_seconds(b.wall_time.maximum));
    pair_number(kCpuTime, to_seconds(b.cpu_time.default_value), to_seconds(b.cpu_time.maximum));
    pair_number(kCores, b.cpu_cores.default_value, b.cpu_cores.maximum);
    pair_uint(kOutput, b.output_bytes.default_value, b.output_bytes.maximum);
    pair_uint(kTmpfs, b.tmpfs_bytes.default_value, b.tmpfs_bytes.maximum);
    pair_uint(kOpenFiles, b.open_files.default_value, b.open_files.maximum);
    pair_uint(kFileSize, b.file_size_bytes.default_value, b.file_size_bytes.maximum);
    pair_uint(kStack, b.stack_bytes.default_value, b.stack_bytes.maximum);
}

namespace {

template <class T, class Read>
void read_bound(const MapReader& m, std::string_view key, policy::Bound<T>& out, Read read) {
    const msgpack::object* v = m.find(key);
    if (v == nullptr) return;
    const MapReader pair(*v, m.field(key));
    if (const msgpack::object* d = pair.find("default")) out.default_value = read(*d, pair.field("default"));
    if (const msgpack::object* x = pair.find("max")) out.maximum = read(*x, pair.field("max"));
}

policy::Duration read_seconds(const msgpack::object& v, const std::string& name) {
    return from_seconds(read_number(v, name));
}

}  // namespace

policy::LimitBounds read_limit_bounds(const msgpack::object& o, const std::string& field) {
    const MapReader m(o, field);
    policy::LimitBounds b;
    read_bound(m, kMemory, b.memory_bytes, read_uint);
    read_bound(m, kPids, b.pids, read_uint32);
    read_bound(m, kWall, b.wall_time, read_seconds);
    read_bound(m, kCpuTime, b.cpu_time, read_seconds);
    read_bound(m, kCores, b.cpu_cores, read_number);
    read_bound(m, kOutput, b.output_bytes, read_uint);
    read_bound(m, kTmpfs, b.tmpfs_bytes, read_uint);
    read_bound(m, kOpenFiles, b.open_files, read_uint32);
    read_bound(m, kFileSize, b.file_size_bytes, read_uint);
    read_bound(m, kStack, b.stack_bytes, read_uint);
    return b;
}

}  // namespace sbx::protocol::detail
