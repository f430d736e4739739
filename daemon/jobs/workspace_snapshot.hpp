// What a compile stage produced: the work directory's entries before and after it, and the
// files that appeared or changed, read out so the compile cache can keep them and a later job
// can have them written into its own workspace instead of compiling.
//
// The walk runs after every process of the stage is gone, as root, over a tree the job wrote:
// it never follows a symlink (openat O_NOFOLLOW at every step), reads regular files only, and
// stops at fixed bounds on entries and bytes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sbx::jobs {

struct EntryState {
    enum class Kind { file, directory, other };  // other: symlink, fifo, socket, device
    Kind kind = Kind::other;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
    mode_t mode = 0;
    bool operator==(const EntryState&) const = default;
};

// Relative path ("main", "bin/app.class") -> its state.
using WorkspaceSnapshot = std::map<std::string, EntryState>;

struct ArtifactFile {
    std::string path;  // relative to the work directory
    mode_t mode = 0644;
    std::string content;
};

struct Artifacts {
    std::vector<ArtifactFile> files;
    std::uint64_t bytes() const;
};

struct SnapshotBounds {
    std::size_t max_entries = 20000;
    std::uint64_t max_bytes = 512ull << 20;
};

// Every entry under `root` (a directory the daemon owns; nothing below it is followed).
Result<WorkspaceSnapshot> snapshot_workspace(const std::string& root, const SnapshotBounds& bounds = {});

// The regular files in `after` that are not in `before` or changed, restricted to those whose
// path matches one of `globs` (fnmatch, '/' matched only by '/') when there are any, read from
// `root`. Fails (the compile is then not cached) when a new or changed entry that would be
// kept is not a regular file or directory, or the bounds are exceeded.
Result<Artifacts> collect_artifacts(const std::string& root, const WorkspaceSnapshot& before,
                                    const WorkspaceSnapshot& after, const std::vector<std::string>& globs,
                                    const SnapshotBounds& bounds = {});

}  // namespace sbx::jobs
