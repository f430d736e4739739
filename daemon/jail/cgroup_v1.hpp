// cgroup v1 backend: one directory per hierarchy (memory, pids, cpu, cpuacct, freezer; cpu and
// cpuacct are often co-mounted). Killing uses the freezer so no process can fork or exit
// while its pid is being signalled.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/jail/cgroup.hpp"

namespace sbx::jail {

struct CgroupV1Hierarchy {
    std::vector<std::string> controllers;
    std::string own_dir;  // the daemon's own cgroup in this hierarchy
};

// `hierarchies` must together hold memory, pids, cpu, cpuacct and freezer.
Result<std::unique_ptr<CgroupBackend>> open_cgroup_v1(std::vector<CgroupV1Hierarchy> hierarchies,
                                                      const std::string& subtree);

}  // namespace sbx::jail
