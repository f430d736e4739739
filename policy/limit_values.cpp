#include "policy/limit_values.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace sbx::policy::detail {

std::string format_cores(double cores) {
    std::array<char, 64> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), cores);
    if (ec != std::errc()) return std::to_string(cores);
    return std::string(buffer.data(), end);
}

Result<std::uint64_t> positive_size(const TomlReader& r, const toml::node& node, const std::string& name) {
    auto bytes = r.size(node, name);
    if (bytes && *bytes == 0) return r.error(node, name + ": must be at least 1 byte");
    return bytes;
}

Result<Duration> positive_duration(const TomlReader& r, const toml::node& node, const std::string& name) {
    auto d = r.duration(node, name);
    if (d && d->count() <= 0) return r.error(node, name + ": must be greater than 0");
    return d;
}

Result<std::uint32_t> count_in(const TomlReader& r, const toml::node& node, const std::string& name,
                               std::uint32_t maximum) {
    auto n = r.integer(node, name);
    if (!n) return std::move(n).error();
    if (*n < 1 || *n > static_cast<std::int64_t>(maximum)) {
        return r.error(node, name + ": must be between 1 and " + std::to_string(maximum) + ", got " +
                                 std::to_string(*n));
    }
    return static_cast<std::uint32_t>(*n);
}

Result<double> cores(const TomlReader& r, const toml::node& node, const std::string& name) {
    auto n = r.number(node, name);
    if (!n) return std::move(n).error();
    if (!std::isfinite(*n) || *n <= 0 || *n > kMaxCpuCores) {
        return r.error(node, name + ": must be greater than 0 and at most " + format_cores(kMaxCpuCores) +
                                 ", got " + format_cores(*n));
    }
    return *n;
}

namespace {

template <class T>
Status take(Result<T> value, std::optional<T>& into) {
    if (!value) return std::move(value).error();
    into = *value;
    return {};
}

}  // namespace

Result<LimitRequest> limit_values(const TomlReader& r, const toml::node& node, const std::string& name) {
    auto tbl = r.table(node, name);
    if (!tbl) return std::move(tbl).error();
    const toml::table& t = **tbl;
    if (auto s = r.check_keys(t,
                              {"memory", "pids", "wall_time", "cpu_time", "cpu_cores", "output", "tmpfs",
                               "open_files", "file_size", "stack"},
                              "[" + name + "]");
        !s) {
        return std::move(s).error();
    }
    LimitRequest out;
    for (std::string_view key : keys_in_file_order(t)) {
        const toml::node& value = *t.get(key);
        const std::string label = name + "." + std::string(key);
        if (value.is_table()) {
            return r.error(value, label + ": a language sets one value per limit, not { default, max }");
        }
        Status s;
        if (key == "memory") s = take(positive_size(r, value, label), out.memory_bytes);
        if (key == "pids") s = take(count_in(r, value, label, kMaxPids), out.pids);
        if (key == "wall_time") s = take(positive_duration(r, value, label), out.wall_time);
        if (key == "cpu_time") s = take(positive_duration(r, value, label), out.cpu_time);
        if (key == "cpu_cores") s = take(cores(r, value, label), out.cpu_cores);
        if (key == "output") s = take(positive_size(r, value, label), out.output_bytes);
        if (key == "tmpfs") s = take(positive_size(r, value, label), out.tmpfs_bytes);
        if (key == "open_files") s = take(count_in(r, value, label, kMaxOpenFiles), out.open_files);
        if (key == "file_size") s = take(positive_size(r, value, label), out.file_size_bytes);
        if (key == "stack") s = take(positive_size(r, value, label), out.stack_bytes);
        if (!s) return std::move(s).error();
    }
    return out;
}

}  // namespace sbx::policy::detail
