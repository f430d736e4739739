#include "daemon/jail/workspace.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace sbx::jail {

namespace {

Result<std::vector<std::string>> split_relative(std::string_view path) {
    if (path.empty()) return Error::invalid("file name", "empty");
    if (path.front() == '/') return Error::invalid("file name '" + std::string(path) + "'", "must be relative");
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        std::string_view part = path.substr(start, end - start);
        if (part.empty() || part == "." || part == "..")
            return Error::invalid("file name '" + std::string(path) + "'", "has an empty, '.' or '..' component");
        if (part.find('\0') != std::string_view::npos)
            return Error::invalid("file name", "contains a NUL byte");
        parts.emplace_back(part);
        start = end + 1;
    }
    return parts;
}

}  // namespace

Result<Workspace> Workspace::create(const std::string& jobs_dir, const std::string& name,
                                    std::uint64_t size_bytes, BoxId box) {
    std::string path = jobs_dir + "/" + name;
    if (::mkdir(path.c_str(), 0700) != 0) return Error::system("mkdir " + path);
    std::string options = "size=" + std::to_string(size_bytes) + ",nr_inodes=16384,mode=0755,uid=" +
                          std::to_string(box.uid()) + ",gid=" + std::to_string(box.gid());
    if (::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        Error e = Error::system("mount workspace tmpfs on " + path);
        ::rmdir(path.c_str());
        return e;
    }
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
        Error e = Error::system("open " + path);
        ::umount2(path.c_str(), MNT_DETACH);
        ::rmdir(path.c_str());
        return e;
    }
    return Workspace(std::move(path), std::move(options), std::move(dir), std::move(box));
}

Workspace& Workspace::operator=(Workspace&& other) noexcept {
    if (this != &other) {
        (void)release();
        path_ = std::move(other.path_);
        mount_options_ = std::move(other.mount_options_);
        dir_ = std::move(other.dir_);
        box_ = std::move(other.box_);
        other.path_.clear();
    }
    return *this;
}

Workspace::~Workspace() { (void)release(); }

Status Workspace::release() {
    if (path_.empty()) return {};
    dir_.reset();
    std::string path = std::move(path_);
    path_.clear();
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL) return Error::system("umount " + path);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return Error::system("rmdir " + path);
    return {};
}

Status Workspace::renew() {
    if (path_.empty()) return Error::invalid("workspace", "already released");
    dir_.reset();
    if (::umount2(path_.c_str(), MNT_DETACH) != 0) return Error::system("umount " + path_);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, mount_options_.c_str()) != 0)
        return Error::system("mount workspace tmpfs on " + path_);
    dir_ = UniqueFd(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_) return Error::system("open " + path_);
    return {};
}

Status Workspace::write_file(std::string_view relative, std::string_view content, mode_t mode) {
    auto parts = split_relative(relative);
    if (!parts) return std::move(parts).error();
    UniqueFd dir(::dup(dir_.get()));
    if (!dir) return Error::system("dup workspace fd");
    for (size_t i = 0; i + 1 < parts->size(); ++i) {
        const std::string& part = (*parts)[i];
        if (::mkdirat(dir.get(), part.c_str(), 0755) == 0) {
            if (::fchownat(dir.get(), part.c_str(), uid(), gid(), AT_SYMLINK_NOFOLLOW) != 0)
                return Error::system("chown " + part);
        } else if (errno != EEXIST) {
            return Error::system("mkdir " + std::string(relative));
        }
        // O_NOFOLLOW|O_DIRECTORY: a symlink planted by the job is refused, not followed.
        UniqueFd next(::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return Error::system("open directory of " + std::string(relative));
        dir = std::move(next);
    }
    const std::string& leaf = parts->back();
    UniqueFd fd(::openat(dir.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) return Error::system("create " + std::string(relative));
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("write " + std::string(relative));
        }
        done += static_cast<size_t>(n);
    }
    if (::fchown(fd.get(), uid(), gid()) != 0 || ::fchmod(fd.get(), mode) != 0)
        return Error::system("chown " + std::string(relative));
    return {};
}

Result<std::string> Workspace::read_file(std::string_view relative, std::size_t max_bytes) const {
    auto parts = split_relative(relative);
    if (!parts) return std::move(parts).error();
    UniqueFd dir(::dup(dir_.get()));
    if (!dir) return Error::system("dup workspace fd");
    for (size_t i = 0; i + 1 < parts->size(); ++i) {
        UniqueFd next(::openat(dir.get(), (*parts)[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return Error::system("open directory of " + std::string(relative));
        dir = std::move(next);
    }
    // O_NONBLOCK: a FIFO planted by the job must not hang the daemon.
    UniqueFd fd(::openat(dir.get(), parts->back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return Error::system("open " + std::string(relative));
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return Error::system("stat " + std::string(relative));
    if (!S_ISREG(st.st_mode)) return Error::invalid(std::string(relative), "not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return Error::invalid(std::string(relative), "larger than " + std::to_string(max_bytes) + " bytes");
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("read " + std::string(relative));
        }
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
}

}  // namespace sbx::jail
