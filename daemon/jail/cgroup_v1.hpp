// cgroup v1 backend: one directory per hierarchy (memory, pids, cpu, cpuacct, freezer; cpu and
// cpuacct are often co-mounted). Killing uses the freezer so no process can fork or exit
// while its pid is being signalled.
//
// Joining a v1 cgroup takes the kernel's cgroup_threadgroup_rwsem for writing, which waits for
// an RCU grace period: measured here 3-10 ms per job, more than the whole rest of the jail.
// The kernel's remedy is the "favordynmods" mount option, which keeps that semaphore in the
// mode where writers need no grace period (forks pay a few atomic operations instead). v1 has
// no per-hierarchy choice, but the option is global: mounting one small named hierarchy
// (name=sandboxd, no controllers) with it switches the mode while the mount lives. The daemon
// mounts it in its private mount namespace, so it goes away with the daemon.
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
// `favordynmods_mount`: an empty directory for the named hierarchy, or "" for none.
Result<std::unique_ptr<CgroupBackend>> open_cgroup_v1(std::vector<CgroupV1Hierarchy> hierarchies,
                                                      const std::string& subtree,
                                                      const std::string& favordynmods_mount = {});

}  // namespace sbx::jail
