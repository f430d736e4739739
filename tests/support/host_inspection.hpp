// What tests look at on the host to prove nothing was left behind.
#pragma once

#include <string>
#include <vector>

namespace sbx::testing {

// Processes on the whole host whose command line contains `marker` (zombies have none).
int processes_with(const std::string& marker);

// The job cgroup directories under `<own>/<subtree>/jobs`, over every hierarchy.
std::vector<std::string> job_cgroup_dirs(const std::string& subtree);

}  // namespace sbx::testing
