// The compile cache: what successful compile stages produced, kept on disk under a key that
// covers everything deciding the output (compile_key.hpp), so that judging one program again
// - on other inputs, by another client, after a restart - skips its compile stage.
//
//   - One file per entry, `<dir>/<64 hex digits>`, in a directory only root can read or write
//     (created 0700; refused when another user owns it or others may write it): a job never
//     sees it and cannot plant or change an entry. Entries are written to a temporary name and
//     renamed, so a crash leaves no half entry.
//   - Bounded by the total size of the entry files; the least recently used go first. An entry
//     larger than a quarter of the bound is not kept (it would flush everything else).
//   - Only successful compiles are stored; an entry that does not decode is removed.
//   - Recency survives restarts: a hit touches the file's modification time, and the index is
//     rebuilt from the directory at start, oldest first.
//   - Single flight: while one job compiles a key, other jobs with the same key wait for it and
//     then find the entry, instead of compiling the same thing at the same time.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "daemon/jobs/workspace_snapshot.hpp"

namespace sbx::jobs {

struct CompileCacheEntry {
    Artifacts artifacts;
    std::string stdout_data;  // what the compiler printed (warnings), reported again on a hit
    std::string stderr_data;
};

struct CompileCacheStats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
    std::uint64_t max_bytes = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t stores = 0;
    std::uint64_t evictions = 0;
};

class CompileCache {
public:
    // Opens (creating) the cache directory and indexes what is in it, evicting down to
    // `max_bytes`. Fails when the directory is unsafe (not root's, or writable by others).
    static Result<std::unique_ptr<CompileCache>> open(const std::string& dir, std::uint64_t max_bytes);

    // The entry under `key`, or nullopt (a miss). A hit makes it the most recently used.
    std::optional<CompileCacheEntry> find(const std::string& key);
    // Keeps an entry (replacing one under the same key), evicting the least recently used until
    // it fits. Returns why it was not kept, if it was not.
    Status store(const std::string& key, const CompileCacheEntry& entry);

    // Single flight. claim() returns true when the caller is now the one compiling `key` (it
    // must call release() when done, stored or not), false when another job already is: then
    // wait() registers a callback that release() runs (the waiter looks the key up again).
    bool claim(const std::string& key);
    void wait(const std::string& key, std::function<void()> ready);
    void release(const std::string& key);

    CompileCacheStats stats() const;
    const std::string& dir() const { return dir_; }

private:
    CompileCache(std::string dir, std::uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}
    Status load_index();
    void remove(const std::string& key);
    void evict_until(std::uint64_t free_bytes);
    std::string path_of(const std::string& key) const { return dir_ + "/" + key; }

    struct Item {
        std::uint64_t bytes = 0;
        std::list<std::string>::iterator position;  // in lru_
    };

    std::string dir_;
    std::uint64_t max_bytes_;
    std::uint64_t bytes_ = 0;
    std::map<std::string, Item> items_;
    std::list<std::string> lru_;  // most recently used first
    std::map<std::string, std::vector<std::function<void()>>> in_flight_;
    CompileCacheStats counters_;
};

// Whether `key` looks like a cache key (64 lowercase hex digits): file names in the directory
// that do not are never read.
bool is_cache_key(const std::string& key);

}  // namespace sbx::jobs
