#include "policy/path_rules.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace sbx::policy::detail {

bool has_glob(std::string_view path) { return path.find_first_of("*?[") != std::string_view::npos; }

bool is_at_or_under(std::string_view path, std::string_view dir) {
    return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

std::optional<std::string> path_problem(std::string_view path) {
    if (path.empty()) return "must not be empty";
    if (path.front() != '/') return "must be an absolute path";
    if (path == "/") return std::nullopt;
    if (path.back() == '/') return "must not end with '/'";
    std::size_t start = 1;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view component = path.substr(start, end - start);
        if (component.empty()) return "must not contain '//'";
        if (component == "." || component == "..") return "must not contain '.' or '..' components";
        start = end + 1;
    }
    return std::nullopt;
}

std::optional<std::string> reserved_target_problem(const std::string& target, const std::string& work_dir) {
    if (target == "/") return "'/' cannot be a bind target (the jail's root is its own tmpfs)";
    const std::string reserved = "is reserved: the jail mounts /proc, /dev and /tmp itself";
    if (!has_glob(target)) {
        for (std::string_view dir : kReservedDirs) {
            if (is_at_or_under(target, dir)) return "'" + target + "' " + reserved;
        }
        if (!work_dir.empty() && target == work_dir)
            return "'" + target + "' is the work directory, which the jail mounts itself";
        return std::nullopt;
    }
    const std::string first_component = target.substr(1, target.find('/', 1) - 1);
    for (std::string_view dir : kReservedDirs) {
        const std::string name(dir.substr(1));
        if (fnmatch(first_component.c_str(), name.c_str(), 0) == 0) {
            return "'" + target + "' could match " + std::string(dir) + ", which " + reserved;
        }
    }
    if (!work_dir.empty() && fnmatch(target.c_str(), work_dir.c_str(), FNM_PATHNAME) == 0) {
        return "'" + target + "' could match the work directory, which the jail mounts itself";
    }
    return std::nullopt;
}

}  // namespace sbx::policy::detail
