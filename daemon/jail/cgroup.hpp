// Job cgroups: one per jail execution, always under sandboxd's own cgroup:
//
//   <own>/<subtree>/jobs/<job>        (subtree is "sandboxd" for the daemon)
//
// Two backends implement the same interface: cgroup v2 (one unified hierarchy) and cgroup v1
// (one hierarchy per controller: memory, pids, cpu, cpuacct, freezer). The jail's first
// process joins by writing "0" into each `join_fds()` before it creates its cgroup namespace,
// so no round trip with the daemon is needed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sbx::jail {

struct CgroupLimits {
    std::uint64_t memory_bytes = 0;  // also the memory+swap limit: swap is never allowed
    std::uint32_t pids = 0;
    double cpu_cores = 1.0;          // bandwidth: quota = cores * period
};

struct CgroupUsage {
    std::uint64_t cpu_usage_us = 0;
    std::uint64_t memory_peak_bytes = 0;
    std::uint64_t oom_kills = 0;     // processes the kernel killed for the memory limit
};

class JobCgroup {
public:
    virtual ~JobCgroup() = default;

    virtual Status set_limits(const CgroupLimits& limits) = 0;
    virtual std::span<const int> join_fds() const = 0;
    // A directory fd for clone3(CLONE_INTO_CGROUP) (v2), or -1 when the jail must join
    // through join_fds() (v1).
    virtual int clone_into_fd() const { return -1; }
    virtual Result<std::uint64_t> cpu_usage_us() const = 0;  // cheap: used for CPU-limit checks
    virtual Result<CgroupUsage> usage() const = 0;
    // Kills every process in the cgroup, including ones that double-forked or left the pid
    // namespace's view: cgroup.kill on v2, freeze + SIGKILL each + thaw on v1.
    virtual Status kill_all() = 0;
    // Freezes or thaws every process (used for idle sessions).
    virtual Status set_frozen(bool frozen) = 0;
    // Kills what is left, waits for the cgroup to empty and removes it. Idempotent; the
    // destructor calls it when it was not called.
    virtual Status remove() = 0;
    virtual const std::string& path() const = 0;  // for messages
};

class CgroupBackend {
public:
    virtual ~CgroupBackend() = default;

    virtual std::string_view name() const = 0;  // "cgroup v1" or "cgroup v2"
    // Where job cgroups are made; one line per hierarchy, for the start-up log.
    virtual std::vector<std::string> describe() const = 0;
    // Creates (or adopts an empty leftover of the same name) the cgroup of one job.
    virtual Result<std::unique_ptr<JobCgroup>> create_job(std::string_view job_name) = 0;
    // Kills the processes of job cgroups left by an earlier run and removes those cgroups;
    // returns their paths.
    virtual Result<std::vector<std::string>> remove_stale_jobs() = 0;
    // Removes the whole subtree (at clean shutdown, and by tests). Fails when jobs remain.
    virtual Status remove_subtree() = 0;
};

enum class CgroupVersion { automatic, v1, v2 };

struct CgroupOptions {
    CgroupVersion version = CgroupVersion::automatic;
    std::string subtree = "sandboxd";  // directory under the daemon's own cgroup
    // Overrides for tests: a fake cgroupfs tree stands in for the kernel's. For v2 it is the
    // mount point of the unified hierarchy; for v1 it holds one directory per controller.
    std::string fake_root;
    std::string fake_own_path = "/";   // the daemon's own cgroup inside fake_root
    // v1 only: where to mount the small named hierarchy that switches the kernel to
    // "favordynmods" (see cgroup_v1.hpp); empty to leave the kernel as it is.
    std::string favordynmods_mount;
};

// Detects the hierarchies (from /proc/self/mountinfo and /proc/self/cgroup), picks the
// backend, and prepares the subtree. Fails with a clear message when a required controller
// (memory, pids, cpu; on v1 also cpuacct and freezer) is missing.
Result<std::unique_ptr<CgroupBackend>> open_cgroup_backend(const CgroupOptions& options);

}  // namespace sbx::jail
