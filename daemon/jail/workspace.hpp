// A job's workspace: a size-limited tmpfs owned by the job's box uid, mounted on the host
// side under the runtime directory, bound into each of the job's jails as the work directory
// (so a compile stage's output is there for the run stage). Files are written and read by the
// daemon without following any symlink the job may have planted.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "daemon/jail/box_ids.hpp"

namespace sbx::jail {

class Workspace {
public:
    // Mounts a tmpfs of `size_bytes` on `<jobs_dir>/<name>` owned by the box id.
    static Result<Workspace> create(const std::string& jobs_dir, const std::string& name,
                                    std::uint64_t size_bytes, BoxId box);
    Workspace(Workspace&& other) noexcept
        : path_(std::exchange(other.path_, {})),
          mount_options_(std::move(other.mount_options_)),
          dir_(std::move(other.dir_)),
          box_(std::move(other.box_)) {}
    Workspace& operator=(Workspace&&) noexcept;
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;
    ~Workspace();

    const std::string& path() const { return path_; }
    uid_t uid() const { return box_.uid(); }
    gid_t gid() const { return box_.gid(); }

    // `relative` is a relative path of plain components (no "..", no leading "/"); missing
    // directories are created; the file is owned by the box uid.
    Status write_file(std::string_view relative, std::string_view content, mode_t mode = 0644);
    Result<std::string> read_file(std::string_view relative, std::size_t max_bytes) const;

    // Replaces the tmpfs by an empty one of the same size and owner, so that nothing a stage
    // left (files, symlinks, FIFOs, hard links) reaches the next. No process may be using it.
    Status renew();

    // Unmounts and removes the directory (the destructor does it when not done before).
    Status release();

private:
    Workspace(std::string path, std::string mount_options, UniqueFd dir, BoxId box)
        : path_(std::move(path)), mount_options_(std::move(mount_options)), dir_(std::move(dir)), box_(std::move(box)) {}

    std::string path_;
    std::string mount_options_;
    UniqueFd dir_;
    BoxId box_;
};

}  // namespace sbx::jail
