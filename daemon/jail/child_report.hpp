// Records the jail's processes send to the daemon over the status pipe. Each is one write of
// a fixed-size struct (smaller than PIPE_BUF, so writes never interleave).
#pragma once

#include <cstdint>

namespace sbx::jail {

// Every step between clone and execve that can fail; the daemon turns (step, errno, index)
// into a message such as "mount bind /usr: No such file or directory".
enum class SetupStep : std::uint32_t {
    none = 0,
    signals,
    join_cgroup,
    unshare_cgroupns,
    mount_private,
    mount_root,
    mount_step,  // index names the MountStep
    pivot_root,
    remount_root,
    hostname,
    loopback,
    clone_payload,
    setsid,
    stdio,
    close_fds,
    chdir,
    rlimit,      // index names the rlimit
    no_new_privs,
    drop_bounding_caps,
    setgroups,
    setresgid,
    setresuid,
    clear_caps,
    seccomp,
    execve,
    supervisor_identity,
    join_netns,
};

const char* step_name(SetupStep step);

enum class RecordKind : std::uint32_t {
    started = 1,  // supervisor: payload forked; time and setup CPU
    exited = 2,   // supervisor: payload reaped; wait status
    failed = 3,   // supervisor or payload: a setup step failed
};

struct StatusRecord {
    RecordKind kind;
    SetupStep step;
    std::int32_t err;          // errno for `failed`
    std::int32_t index;        // mount step or rlimit index for `failed`
    std::int32_t wait_status;  // for `exited`
    std::int32_t padding;
    std::uint64_t monotonic_ns;  // CLOCK_MONOTONIC when the payload started / was reaped
    std::uint64_t cpu_us;        // `started`: supervisor CPU spent on setup
};
static_assert(sizeof(StatusRecord) == 40);

}  // namespace sbx::jail
