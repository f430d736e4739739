// Box uids: each running job gets a uid (and the equal gid) that no other running job has,
// from its policy's range, so jobs cannot signal, ptrace or read each other's files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <set>

#include "common/result.hpp"
#include "policy/policy.hpp"

namespace sbx::jail {

class BoxIdPool;

// The lease of one box uid; returned to the pool when destroyed.
class BoxId {
public:
    BoxId() = default;
    BoxId(BoxId&& other) noexcept : pool_(other.pool_), id_(other.id_) { other.pool_ = nullptr; }
    BoxId& operator=(BoxId&& other) noexcept;
    BoxId(const BoxId&) = delete;
    BoxId& operator=(const BoxId&) = delete;
    ~BoxId();

    uid_t uid() const { return id_; }
    gid_t gid() const { return id_; }

private:
    friend class BoxIdPool;
    BoxId(BoxIdPool* pool, std::uint32_t id) : pool_(pool), id_(id) {}
    BoxIdPool* pool_ = nullptr;
    std::uint32_t id_ = 0;
};

class BoxIdPool {
public:
    // Hands out ids round-robin within the range, so a uid is not reused at once.
    Result<BoxId> acquire(const policy::IdRange& range);
    std::size_t in_use() const;

private:
    friend class BoxId;
    void release(std::uint32_t id);

    mutable std::mutex mutex_;
    std::set<std::uint32_t> used_;
    std::uint32_t next_ = 0;
};

}  // namespace sbx::jail
