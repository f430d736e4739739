// sandboxd's nftables table (`inet sandboxd`, rules in nft_rules.hpp) in the daemon's network
// namespace, driven through libnftables. The table belongs to one daemon per namespace: an
// abstract unix socket, which lives in the network namespace and dies with its process, marks
// the owner. Creating the table first deletes one a crashed run left; the owner deletes it when
// it stops. Nothing here touches any other table.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "daemon/jail/nft_rules.hpp"

struct nft_ctx;

namespace sbx::jail {

// The mark of the namespace's sandboxd table owner.
class TableOwnerLock {
public:
    // Fails with EADDRINUSE when another process of this network namespace holds it.
    static Result<TableOwnerLock> acquire();
    explicit operator bool() const { return static_cast<bool>(fd_); }

private:
    UniqueFd fd_;
};

// A libnftables context; runs command text, returns its output or the library's error text.
class NftContext {
public:
    static Result<NftContext> open();
    NftContext(NftContext&& other) noexcept;
    NftContext& operator=(NftContext&&) = delete;
    NftContext(const NftContext&) = delete;
    ~NftContext();
    Result<std::string> run(const std::string& commands, const std::string& what);

private:
    NftContext() = default;
    nft_ctx* ctx_ = nullptr;
};

class NftTable;

// One job's elements in the table; removed when destroyed (or by remove(), which reports).
class NftJob {
public:
    NftJob(const NftJob&) = delete;
    NftJob& operator=(const NftJob&) = delete;
    ~NftJob();
    Status remove();
    const nft::JobKey& key() const { return key_; }

private:
    friend class NftTable;
    NftJob(NftTable* table, nft::JobKey key, nft::PolicyChains chains)
        : table_(table), key_(std::move(key)), chains_(std::move(chains)) {}
    NftTable* table_;
    nft::JobKey key_;
    nft::PolicyChains chains_;
    bool removed_ = false;
};

class NftTable {
public:
    // Takes the owner lock (an error naming the conflict when another daemon of this
    // namespace holds it), deletes a leftover table (reported in `removed_leftover`), creates
    // the table.
    static Result<std::unique_ptr<NftTable>> create(const policy::Ipv4Cidr& jail_range, const std::string& link_prefix);
    // Deletes the table.
    ~NftTable();
    NftTable(const NftTable&) = delete;
    NftTable& operator=(const NftTable&) = delete;

    bool removed_leftover() const { return removed_leftover_; }
    // One transaction: the policy's chains if it has no other running job, then the job's
    // elements. Jobs must be removed before the table is destroyed.
    Result<std::unique_ptr<NftJob>> attach(const std::string& link, std::uint32_t address,
                                           const nft::PolicyChains& chains);
    // The table as `nft list table inet sandboxd` prints it.
    Result<std::string> list();
    std::size_t policies_in_use() const;

    // Deletes a table a crashed run left in this namespace; the caller holds the owner lock.
    // Returns whether there was one.
    static Result<bool> remove_leftover(const TableOwnerLock& lock);

private:
    friend class NftJob;
    NftTable(TableOwnerLock lock, NftContext ctx) : lock_(std::move(lock)), ctx_(std::move(ctx)) {}
    Status detach(const NftJob& job);

    TableOwnerLock lock_;
    mutable std::mutex mutex_;
    NftContext ctx_;
    std::map<std::string, unsigned> chain_users_;  // policy key -> running jobs
    std::uint32_t next_tag_ = 1;
    bool removed_leftover_ = false;
};

}  // namespace sbx::jail
