#include "daemon/jobs/compile_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <msgpack.hpp>
#include <spdlog/spdlog.h>

#include "common/unique_fd.hpp"

namespace sbx::jobs {

namespace {

constexpr std::uint32_t kFormat = 1;
constexpr const char* kTempPrefix = ".tmp-";

// Entry file: a msgpack map {"v": 1, "files": [[path, mode, content], ...], "stdout": bin,
// "stderr": bin}.
std::string encode(const CompileCacheEntry& e) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_map(4);
    pk.pack("v");
    pk.pack(kFormat);
    pk.pack("files");
    pk.pack_array(static_cast<std::uint32_t>(e.artifacts.files.size()));
    for (const auto& f : e.artifacts.files) {
        pk.pack_array(3);
        pk.pack(f.path);
        pk.pack(static_cast<std::uint32_t>(f.mode));
        pk.pack_bin(static_cast<std::uint32_t>(f.content.size()));
        pk.pack_bin_body(f.content.data(), static_cast<std::uint32_t>(f.content.size()));
    }
    for (const auto& [name, data] : {std::pair{"stdout", &e.stdout_data}, std::pair{"stderr", &e.stderr_data}}) {
        pk.pack(name);
        pk.pack_bin(static_cast<std::uint32_t>(data->size()));
        pk.pack_bin_body(data->data(), static_cast<std::uint32_t>(data->size()));
    }
    return std::string(buf.data(), buf.size());
}

std::string bytes_of(const msgpack::object& o) {
    if (o.type == msgpack::type::BIN) return std::string(o.via.bin.ptr, o.via.bin.size);
    if (o.type == msgpack::type::STR) return std::string(o.via.str.ptr, o.via.str.size);
    throw msgpack::type_error();
}

// A relative path of plain components, as collect_artifacts produces; anything else in an
// entry means it is not one of ours.
bool plain_relative(const std::string& path) {
    if (path.empty() || path.front() == '/') return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = std::min(path.find('/', start), path.size());
        std::string_view part(path.data() + start, end - start);
        if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) return false;
        start = end + 1;
    }
    return true;
}

std::optional<CompileCacheEntry> decode(const std::string& data) {
    try {
        msgpack::object_handle handle = msgpack::unpack(data.data(), data.size());
        const msgpack::object& root = handle.get();
        if (root.type != msgpack::type::MAP) return std::nullopt;
        CompileCacheEntry e;
        bool version_ok = false;
        for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
            const auto& kv = root.via.map.ptr[i];
            std::string key = kv.key.as<std::string>();
            if (key == "v") version_ok = kv.val.as<std::uint32_t>() == kFormat;
            if (key == "stdout") e.stdout_data = bytes_of(kv.val);
            if (key == "stderr") e.stderr_data = bytes_of(kv.val);
            if (key == "files") {
                if (kv.val.type != msgpack::type::ARRAY) return std::nullopt;
                for (std::uint32_t j = 0; j < kv.val.via.array.size; ++j) {
                    const auto& f = kv.val.via.array.ptr[j];
                    if (f.type != msgpack::type::ARRAY || f.via.array.size != 3) return std::nullopt;
                    ArtifactFile file{f.via.array.ptr[0].as<std::string>(), f.via.array.ptr[1].as<std::uint32_t>() & 0777u,
                                      bytes_of(f.via.array.ptr[2])};
                    if (!plain_relative(file.path)) return std::nullopt;
                    e.artifacts.files.push_back(std::move(file));
                }
            }
        }
        if (!version_ok) return std::nullopt;
        return e;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Result<std::string> read_whole(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return Error::system("open " + path);
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return Error::system("stat " + path);
    std::string out(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("read " + path);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return out;
}

Status write_whole(const std::string& path, const std::string& data) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return Error::system("create " + path);
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("write " + path);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status make_private_dir(const std::string& dir) {
    // Parents as root-only directories too; an existing one is checked below.
    for (std::size_t slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1))
        if (::mkdir(dir.substr(0, slash).c_str(), 0755) != 0 && errno != EEXIST)
            return Error::system("mkdir " + dir.substr(0, slash));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Error::system("mkdir " + dir);
    struct stat st{};
    if (::lstat(dir.c_str(), &st) != 0) return Error::system("stat " + dir);
    if (!S_ISDIR(st.st_mode)) return Error::invalid("compile cache " + dir, "not a directory");
    if (st.st_uid != ::geteuid())
        return Error::invalid("compile cache " + dir, "owned by uid " + std::to_string(st.st_uid) + ", not by sandboxd");
    if (::chmod(dir.c_str(), 0700) != 0) return Error::system("chmod " + dir);
    return {};
}

}  // namespace

bool is_cache_key(const std::string& key) {
    return key.size() == 64 &&
           std::all_of(key.begin(), key.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::unique_ptr<CompileCache>> CompileCache::open(const std::string& dir, std::uint64_t max_bytes) {
    if (auto s = make_private_dir(dir); !s) return std::move(s).error();
    std::unique_ptr<CompileCache> cache(new CompileCache(dir, max_bytes));
    if (auto s = cache->load_index(); !s) return std::move(s).error();
    cache->counters_.max_bytes = max_bytes;
    return cache;
}

Status CompileCache::load_index() {
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return Error::system("opendir " + dir_);
    struct Found {
        std::string key;
        std::uint64_t bytes;
        std::int64_t mtime_ns;
    };
    std::vector<Found> found;
    while (dirent* ent = ::readdir(d)) {
        std::string name = ent->d_name;
        struct stat st{};
        if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (name.rfind(kTempPrefix, 0) == 0) {
            ::unlinkat(::dirfd(d), name.c_str(), 0);  // an interrupted store
            continue;
        }
        if (!is_cache_key(name)) continue;
        found.push_back({name, static_cast<std::uint64_t>(st.st_size),
                         static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
    }
    ::closedir(d);
    // Most recent first, as the LRU list keeps them.
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime_ns > b.mtime_ns; });
    for (auto& f : found) {
        lru_.push_back(f.key);
        items_[f.key] = Item{f.bytes, std::prev(lru_.end())};
        bytes_ += f.bytes;
    }
    evict_until(0);
    return {};
}

void CompileCache::remove(const std::string& key) {
    auto it = items_.find(key);
    if (it == items_.end()) return;
    bytes_ -= it->second.bytes;
    lru_.erase(it->second.position);
    items_.erase(it);
    if (::unlink(path_of(key).c_str()) != 0 && errno != ENOENT)
        spdlog::warn("compile cache: remove {}: {}", path_of(key), std::strerror(errno));
}

void CompileCache::evict_until(std::uint64_t free_bytes) {
    while (!lru_.empty() && bytes_ + free_bytes > max_bytes_) {
        std::string oldest = lru_.back();
        remove(oldest);
        ++counters_.evictions;
    }
}

std::optional<CompileCacheEntry> CompileCache::find(const std::string& key) {
    auto it = items_.find(key);
    if (it == items_.end()) {
        ++counters_.misses;
        return std::nullopt;
    }
    auto data = read_whole(path_of(key));
    std::optional<CompileCacheEntry> entry;
    if (data) entry = decode(*data);
    if (!entry) {
        spdlog::warn("compile cache: dropping unreadable entry {}", path_of(key));
        remove(key);
        ++counters_.misses;
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.position);
    ::utimensat(AT_FDCWD, path_of(key).c_str(), nullptr, AT_SYMLINK_NOFOLLOW);  // recency across restarts
    ++counters_.hits;
    return entry;
}

Status CompileCache::store(const std::string& key, const CompileCacheEntry& entry) {
    if (!is_cache_key(key)) return Error::invalid("compile cache key", "not 64 hex digits");
    std::string data = encode(entry);
    if (data.size() > max_bytes_ / 4)
        return Error::invalid("compile cache", "entry of " + std::to_string(data.size()) +
                                                   " bytes is larger than a quarter of the cache");
    remove(key);
    evict_until(data.size());
    std::string temp = dir_ + "/" + kTempPrefix + key;
    ::unlink(temp.c_str());
    if (auto s = write_whole(temp, data); !s) {
        ::unlink(temp.c_str());
        return s;
    }
    if (::rename(temp.c_str(), path_of(key).c_str()) != 0) {
        Error e = Error::system("rename " + temp);
        ::unlink(temp.c_str());
        return e;
    }
    lru_.push_front(key);
    items_[key] = Item{data.size(), lru_.begin()};
    bytes_ += data.size();
    ++counters_.stores;
    return {};
}

bool CompileCache::claim(const std::string& key) { return in_flight_.try_emplace(key).second; }

void CompileCache::wait(const std::string& key, std::function<void()> ready) {
    in_flight_[key].push_back(std::move(ready));
}

void CompileCache::release(const std::string& key) {
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) return;
    auto waiters = std::move(it->second);
    in_flight_.erase(it);
    for (auto& ready : waiters) ready();
}

CompileCacheStats CompileCache::stats() const {
    CompileCacheStats s = counters_;
    s.entries = items_.size();
    s.bytes = bytes_;
    s.max_bytes = max_bytes_;
    return s;
}

}  // namespace sbx::jobs
