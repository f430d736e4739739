// Finds the cgroup hierarchies (/proc/self/mountinfo) and the daemon's own place in each
// (/proc/self/cgroup). Parsing is separate from reading so tests can feed any machine's text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sbx::jail {

struct CgroupMount {
    std::string mount_point;               // "/sys/fs/cgroup/memory"
    std::string root;                      // the hierarchy path mounted there, usually "/"
    bool unified = false;                  // cgroup2
    std::vector<std::string> controllers;  // v1 only: "cpu", "cpuacct", ...
};

struct CgroupMembership {
    std::vector<std::string> controllers;  // empty for the unified line "0::/path"
    std::string path;                      // "/system.slice/sandboxd.service"
};

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);
std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text);

// The directory of `own_path` inside a mount of its hierarchy, or an error when the mount
// does not show that part of the hierarchy.
Result<std::string> cgroup_dir_in_mount(const CgroupMount& mount, const std::string& own_path);

struct CgroupLayout {
    std::vector<CgroupMount> mounts;
    std::vector<CgroupMembership> memberships;
};
Result<CgroupLayout> read_cgroup_layout();

}  // namespace sbx::jail
