#include "daemon/jobs/workspace_snapshot.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/unique_fd.hpp"

namespace sbx::jobs {

namespace {

EntryState state_of(const struct stat& st) {
    EntryState e;
    e.kind = S_ISREG(st.st_mode)   ? EntryState::Kind::file
             : S_ISDIR(st.st_mode) ? EntryState::Kind::directory
                                   : EntryState::Kind::other;
    e.size = static_cast<std::uint64_t>(st.st_size);
    e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    e.inode = st.st_ino;
    e.mode = st.st_mode & 07777;
    return e;
}

class Walker {
public:
    Walker(const SnapshotBounds& bounds, WorkspaceSnapshot& out) : bounds_(bounds), out_(out) {}

    // `dir` is open on `prefix` ("" for the root).
    Status walk(int dir, const std::string& prefix, int depth) {
        if (depth > 64) return Error::invalid("workspace " + prefix, "nested too deep");
        int fd = ::dup(dir);
        if (fd < 0) return Error::system("dup");
        DIR* d = ::fdopendir(fd);
        if (d == nullptr) {
            Error e = Error::system("opendir " + prefix);
            ::close(fd);
            return e;
        }
        struct Closer {
            DIR* d;
            ~Closer() { ::closedir(d); }
        } closer{d};
        ::rewinddir(d);
        std::vector<std::string> subdirs;
        while (dirent* ent = ::readdir(d)) {
            std::string name = ent->d_name;
            if (name == "." || name == "..") continue;
            if (++entries_ > bounds_.max_entries)
                return Error::invalid("workspace", "more than " + std::to_string(bounds_.max_entries) + " entries");
            struct stat st{};
            if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return Error::system("stat " + prefix + name);
            EntryState e = state_of(st);
            out_[prefix + name] = e;
            if (e.kind == EntryState::Kind::directory) subdirs.push_back(name);
        }
        for (const auto& name : subdirs) {
            UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) return Error::system("open " + prefix + name);
            if (auto s = walk(sub.get(), prefix + name + "/", depth + 1); !s) return s;
        }
        return {};
    }

private:
    const SnapshotBounds& bounds_;
    WorkspaceSnapshot& out_;
    std::size_t entries_ = 0;
};

// Reads a regular file below `root` without following a symlink anywhere on the way.
Result<std::string> read_below(int root, const std::string& relative, std::uint64_t max_bytes) {
    UniqueFd dir(::dup(root));
    if (!dir) return Error::system("dup");
    std::size_t start = 0;
    for (std::size_t slash = relative.find('/'); slash != std::string::npos; slash = relative.find('/', start)) {
        std::string part = relative.substr(start, slash - start);
        UniqueFd next(::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return Error::system("open " + relative);
        dir = std::move(next);
        start = slash + 1;
    }
    UniqueFd fd(::openat(dir.get(), relative.substr(start).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return Error::system("open " + relative);
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return Error::system("stat " + relative);
    if (!S_ISREG(st.st_mode)) return Error::invalid(relative, "not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) return Error::invalid(relative, "too large");
    std::string content(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("read " + relative);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    content.resize(done);
    return content;
}

bool matches_any(const std::string& path, const std::vector<std::string>& globs) {
    if (globs.empty()) return true;
    for (const auto& g : globs)
        if (::fnmatch(g.c_str(), path.c_str(), FNM_PATHNAME) == 0) return true;
    return false;
}

}  // namespace

std::uint64_t Artifacts::bytes() const {
    std::uint64_t total = 0;
    for (const auto& f : files) total += f.path.size() + f.content.size();
    return total;
}

Result<WorkspaceSnapshot> snapshot_workspace(const std::string& root, const SnapshotBounds& bounds) {
    UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return Error::system("open " + root);
    WorkspaceSnapshot out;
    if (auto s = Walker(bounds, out).walk(dir.get(), "", 0); !s) return std::move(s).error();
    return out;
}

Result<Artifacts> collect_artifacts(const std::string& root, const WorkspaceSnapshot& before,
                                    const WorkspaceSnapshot& after, const std::vector<std::string>& globs,
                                    const SnapshotBounds& bounds) {
    UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return Error::system("open " + root);
    Artifacts out;
    std::uint64_t total = 0;
    for (const auto& [path, state] : after) {
        auto old = before.find(path);
        if (old != before.end() && old->second == state) continue;
        if (state.kind == EntryState::Kind::directory) continue;  // recreated as parents of files
        if (!matches_any(path, globs)) continue;
        if (state.kind != EntryState::Kind::file)
            return Error::invalid(path, "the compile stage made something that is not a regular file");
        auto content = read_below(dir.get(), path, bounds.max_bytes - total);
        if (!content) return std::move(content).error();
        total += content->size();
        out.files.push_back({path, state.mode & 0777, std::move(*content)});
    }
    return out;
}

}  // namespace sbx::jobs
