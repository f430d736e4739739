// Everything the jail's processes need between clone and execve, computed by the daemon
// beforehand. The child only reads it: plain pointers and integers, no allocation, no
// library calls that may take a lock another daemon thread held at clone time.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace sbx::jail {

struct MountStep {
    enum class Op : std::uint8_t {
        make_dir,    // mkdir target (mode)
        bind,        // bind source on target (recursive), then set `attr` on the whole tree
        mount_fs,    // mount fstype `source` on target with flags and data
        symlink,     // symlink target -> source (source is the link text)
        make_node,   // mknod target, character device `dev`, then chmod mode
        write_file,  // create target (mode) holding content
    };
    Op op;
    bool optional;                // a missing source is not an error (bind only)
    const char* source;
    const char* target;           // absolute, already prefixed with the staging root
    const char* fstype;
    const char* data;
    unsigned long flags;          // mount(2) flags for mount_fs
    std::uint64_t attr;           // MOUNT_ATTR_* set recursively after a bind
    unsigned int mode;
    std::uint64_t dev;
    const char* content;
    std::size_t content_len;
};

struct RlimitSetting {
    int resource;
    rlimit value;
};

struct LaunchPlan {
    // Job cgroup: cloned straight into it (v2, CLONE_INTO_CGROUP), else the supervisor writes
    // "0" into each join fd (v1) before anything else.
    int cgroup_clone_fd = -1;
    const int* cgroup_join_fds = nullptr;
    std::size_t cgroup_join_count = 0;

    // Filesystem: a tmpfs root mounted on staging_root, built by mount_steps, then pivoted to.
    const char* staging_root = nullptr;
    const char* root_tmpfs_options = nullptr;
    const MountStep* mount_steps = nullptr;
    std::size_t mount_step_count = 0;
    const char* hostname = nullptr;
    std::size_t hostname_len = 0;

    // Network: a prepared namespace (lo already up) to join with setns, or -1 for a fresh one
    // from CLONE_NEWNET, whose lo the supervisor brings up.
    int netns_fd = -1;

    // Payload.
    const char* const* argv = nullptr;
    const char* const* envp = nullptr;
    const char* cwd = nullptr;
    const RlimitSetting* rlimits = nullptr;
    std::size_t rlimit_count = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    int last_capability = 40;  // /proc/sys/kernel/cap_last_cap
    const sock_fprog* seccomp = nullptr;

    // The child's ends: stdin (a sealed memfd), stdout and stderr (pipes), status (a pipe of
    // StatusRecord). The supervisor dups them; the daemon closes its copies after clone.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    int status_fd = -1;
};

}  // namespace sbx::jail
