// Start-up removal of what a crashed earlier run left: job cgroups (their processes are killed
// first), processes still running as a box uid inside sandboxd's cgroups, and workspace
// directories. Everything removed is reported so the daemon can log it.
#pragma once

#include <string>
#include <vector>

#include "daemon/jail/runtime.hpp"
#include "daemon/jobs/registry.hpp"

namespace sbx::server {

struct CleanupReport {
    std::vector<std::string> removed;   // "cgroup /sys/fs/...", "workspace /run/...", "process 123 (uid 60001)"
    std::vector<std::string> warnings;  // found but not ours to remove
};

CleanupReport remove_leftovers(jail::JailRuntime& runtime, const jobs::Registry& registry,
                               const std::string& cgroup_subtree);

}  // namespace sbx::server
