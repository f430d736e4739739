// Internal to the policy library: the rules for host paths and bind targets, shared by the
// policy parser ([filesystem]) and the language parser (a language's own read-only binds).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace sbx::policy::detail {

// Mounted by the jail itself; a bind there would hide or replace them.
inline constexpr std::array<std::string_view, 3> kReservedDirs{"/proc", "/dev", "/tmp"};

bool has_glob(std::string_view path);
bool is_at_or_under(std::string_view path, std::string_view dir);

// Why `path` is not an absolute, normalized path, or nullopt when it is one.
std::optional<std::string> path_problem(std::string_view path);

// Why `target` may not be a bind target, or nullopt. A glob target (only ever equal to its
// source) is refused when it could match a reserved path. An empty `work_dir` skips the
// work-directory check (a language's binds are checked against each policy's when mounted).
std::optional<std::string> reserved_target_problem(const std::string& target, const std::string& work_dir);

}  // namespace sbx::policy::detail
