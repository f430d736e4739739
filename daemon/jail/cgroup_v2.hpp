// cgroup v2 backend: one unified hierarchy. Respects "no internal processes": when the
// daemon's own cgroup cannot enable controllers for its children because the daemon lives in
// it, the daemon moves itself into the leaf <own>/<subtree>/daemon first.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/jail/cgroup.hpp"

namespace sbx::jail {

struct CgroupV2Config {
    std::string own_dir;   // the daemon's own cgroup directory
    std::string subtree;   // "sandboxd"
    // Controllers that must be available and are enabled down to the job cgroups.
    std::vector<std::string> required_controllers = {"memory", "pids", "cpu"};
};

Result<std::unique_ptr<CgroupBackend>> open_cgroup_v2(const CgroupV2Config& config);

}  // namespace sbx::jail
