// Daemon-wide resources every jail uses: the cgroup backend, the box-uid pool, networking, and the runtime
// directory (<dir>/root is the empty mount point each jail builds its root on, <dir>/jobs holds
// the workspaces).
#pragma once

#include <memory>
#include <string>

#include "common/result.hpp"
#include "daemon/jail/box_ids.hpp"
#include "daemon/jail/cgroup.hpp"
#include "daemon/jail/network_runtime.hpp"

namespace sbx::jail {

struct JailRuntime {
    std::unique_ptr<CgroupBackend> cgroups;
    BoxIdPool box_ids;
    std::string runtime_dir;
    std::string staging_root;  // <runtime_dir>/root
    std::string jobs_dir;      // <runtime_dir>/jobs
    int last_capability = 40;
    // Optional: without it every jail clones a fresh network namespace and egress policies
    // cannot run. Last, so it goes first (its veths and rules before anything else).
    std::unique_ptr<NetworkRuntime> network;
};

// Creates the runtime directory layout and opens the cgroup backend. A favordynmods_mount of
// "auto" means <runtime_dir>/cgroup-favordynmods.
Result<std::unique_ptr<JailRuntime>> open_jail_runtime(const std::string& runtime_dir, const CgroupOptions& cgroups);

// Moves the calling process into its own mount namespace whose mounts do not propagate back
// to the host (host mounts still propagate in). Workspaces mounted afterwards are invisible
// to the rest of the machine and vanish with the daemon, even after kill -9.
Status isolate_mount_namespace();

}  // namespace sbx::jail
