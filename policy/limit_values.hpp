// Internal to the policy library: reading one limit value out of TOML, with its range rules,
// shared by a policy's [limits] (defaults and maximums) and a language's [limits] and
// [compile_limits] (its stages' defaults).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/limits.hpp"
#include "policy/toml_reader.hpp"

namespace sbx::policy::detail {

inline constexpr std::uint32_t kMaxPids = 4'194'304;       // the kernel's PID_MAX_LIMIT
inline constexpr std::uint32_t kMaxOpenFiles = 1'048'576;  // the kernel's default fs.nr_open
inline constexpr double kMaxCpuCores = 1024;

std::string format_cores(double cores);

Result<std::uint64_t> positive_size(const TomlReader& r, const toml::node& node, const std::string& name);
Result<Duration> positive_duration(const TomlReader& r, const toml::node& node, const std::string& name);
Result<std::uint32_t> count_in(const TomlReader& r, const toml::node& node, const std::string& name,
                               std::uint32_t maximum);
Result<double> cores(const TomlReader& r, const toml::node& node, const std::string& name);

// A table of plain limit values (the keys of a policy's [limits], no { default, max } tables)
// into the matching fields of a LimitRequest; `name` is the table's name in messages.
Result<LimitRequest> limit_values(const TomlReader& r, const toml::node& node, const std::string& name);

}  // namespace sbx::policy::detail
