#include "daemon/jail/cgroup_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <charconv>

namespace sbx::jail::cgfs {

namespace {
std::string join(const std::string& dir, const char* name) { return dir + "/" + name; }
}  // namespace

Result<UniqueFd> open_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Error::system("open " + path);
    return UniqueFd(fd);
}

Status ensure_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return {};
    return Error::system("mkdir " + path);
}

Status write_file(int dirfd, const std::string& dir, const char* name, std::string_view value) {
    UniqueFd fd(::openat(dirfd, name, O_WRONLY | O_CLOEXEC));
    if (!fd) return Error::system("open " + join(dir, name));
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0) return Error::system("write '" + std::string(value) + "' to " + join(dir, name));
    if (static_cast<size_t>(n) != value.size())
        return Error::invalid("write " + join(dir, name), "short write");
    return {};
}

Result<std::string> read_file(int dirfd, const std::string& dir, const char* name) {
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::system("open " + join(dir, name));
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("read " + join(dir, name));
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<std::uint64_t> read_u64(int dirfd, const std::string& dir, const char* name) {
    auto text = read_file(dirfd, dir, name);
    if (!text) return std::move(text).error();
    std::uint64_t value = 0;
    const char* begin = text->data();
    const char* end = begin + text->size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr == begin)
        return Error::invalid("read " + join(dir, name), "not a number: '" + *text + "'");
    return value;
}

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ' ') {
            std::string_view num = line.substr(key.size() + 1);
            std::uint64_t value = 0;
            auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
            if (ec == std::errc() && ptr != num.data()) return value;
            return std::nullopt;
        }
        pos = eol + 1;
    }
    return std::nullopt;
}

std::vector<pid_t> parse_pids(std::string_view text) {
    std::vector<pid_t> pids;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        pid_t pid = 0;
        auto [next, ec] = std::from_chars(p, end, pid);
        if (ec == std::errc() && next != p) {
            pids.push_back(pid);
            p = next;
        } else {
            ++p;
        }
    }
    return pids;
}

Status wait_until(const std::function<Result<bool>()>& done, std::chrono::milliseconds timeout,
                  const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto finished = done();
        if (!finished) return std::move(finished).error();
        if (*finished) return {};
        if (std::chrono::steady_clock::now() > deadline)
            return Error::invalid(what, "not done after " + std::to_string(timeout.count()) + " ms");
        timespec ts{0, 200 * 1000};
        ::nanosleep(&ts, nullptr);
    }
}

Result<std::vector<std::string>> list_subdirs(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return Error::system("opendir " + path);
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (entry->d_type == DT_DIR) names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
}

}  // namespace sbx::jail::cgfs
