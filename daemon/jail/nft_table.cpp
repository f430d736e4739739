#include "daemon/jail/nft_table.hpp"

#include <nftables/libnftables.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <utility>

namespace sbx::jail {

namespace {

// Abstract socket names belong to the network namespace.
constexpr char kOwnerName[] = "sandboxd/nft-table-owner";

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

Result<TableOwnerLock> TableOwnerLock::acquire() {
    TableOwnerLock lock;
    lock.fd_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!lock.fd_) return Error::system("socket for the nftables table lock");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, kOwnerName, sizeof kOwnerName - 1);
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + sizeof kOwnerName - 1);
    if (::bind(lock.fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        if (errno == EADDRINUSE)
            return Error::invalid("nftables table inet sandboxd",
                                  "another sandboxd in this network namespace owns it (abstract socket @" +
                                      std::string(kOwnerName) + " is bound)");
        return Error::system("bind the nftables table lock");
    }
    return lock;
}

Result<NftContext> NftContext::open() {
    NftContext c;
    c.ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
    if (c.ctx_ == nullptr) return Error::invalid("libnftables", "cannot create a context");
    nft_ctx_buffer_output(c.ctx_);
    nft_ctx_buffer_error(c.ctx_);
    return c;
}

NftContext::NftContext(NftContext&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

NftContext::~NftContext() {
    if (ctx_ != nullptr) nft_ctx_free(ctx_);
}

Result<std::string> NftContext::run(const std::string& commands, const std::string& what) {
    int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
    std::string out = nft_ctx_get_output_buffer(ctx_);
    std::string err = trim(nft_ctx_get_error_buffer(ctx_));
    if (rc != 0) return Error::invalid("nftables: " + what, err.empty() ? "failed" : err);
    return out;
}

NftJob::~NftJob() { (void)remove(); }

Status NftJob::remove() {
    if (removed_) return {};
    removed_ = true;
    return table_->detach(*this);
}

Result<std::unique_ptr<NftTable>> NftTable::create(const policy::Ipv4Cidr& jail_range, const std::string& link_prefix) {
    auto lock = TableOwnerLock::acquire();
    if (!lock) return std::move(lock).error();
    auto ctx = NftContext::open();
    if (!ctx) return std::move(ctx).error();
    std::unique_ptr<NftTable> table(new NftTable(std::move(*lock), std::move(*ctx)));
    // A crashed run's table: everything in it refers to jails that are gone.
    if (table->ctx_.run(nft::list_table(), "look for a leftover table")) {
        if (auto s = table->ctx_.run(nft::delete_table(), "delete the leftover table"); !s)
            return std::move(s).error();
        table->removed_leftover_ = true;
    }
    if (auto s = table->ctx_.run(nft::table_definition(jail_range, link_prefix), "create table inet sandboxd"); !s)
        return std::move(s).error();
    // Tags start at a random point, so connections of a previous run never match.
    std::uint32_t seed = 0;
    if (::getrandom(&seed, sizeof seed, 0) == sizeof seed) table->next_tag_ = seed;
    return table;
}

NftTable::~NftTable() { (void)ctx_.run(nft::delete_table(), "delete table inet sandboxd"); }

Result<bool> NftTable::remove_leftover(const TableOwnerLock& lock) {
    if (!lock) return Error::invalid("remove leftover table", "the owner lock is not held");
    auto ctx = NftContext::open();
    if (!ctx) return std::move(ctx).error();
    if (!ctx->run(nft::list_table(), "look for a leftover table")) return false;
    if (auto s = ctx->run(nft::delete_table(), "delete the leftover table"); !s) return std::move(s).error();
    return true;
}

Result<std::unique_ptr<NftJob>> NftTable::attach(const std::string& link, std::uint32_t address,
                                                 const nft::PolicyChains& chains) {
    std::lock_guard lock(mutex_);
    nft::JobKey key{link, address, next_tag_++};
    if (key.tag == 0) key.tag = next_tag_++;
    unsigned& users = chain_users_[chains.key];
    auto s = ctx_.run(nft::attach_job(key, chains, users == 0), "add the rules of jail " + link);
    if (!s) {
        if (users == 0) chain_users_.erase(chains.key);
        return std::move(s).error();
    }
    ++users;
    return std::unique_ptr<NftJob>(new NftJob(this, std::move(key), chains));
}

Status NftTable::detach(const NftJob& job) {
    std::lock_guard lock(mutex_);
    auto it = chain_users_.find(job.chains_.key);
    bool last = it != chain_users_.end() && it->second == 1;
    if (it != chain_users_.end() && --it->second == 0) chain_users_.erase(it);
    const std::string commands = nft::detach_job(job.key_, job.chains_, last);
    const std::string what = "remove the rules of jail " + job.key_.link;
    auto s = ctx_.run(commands, what);
    if (s) return {};
    // The transaction is all or nothing: when one part is already gone (say, an element removed
    // by hand), remove the rest one command at a time, and still report the failure.
    std::size_t start = 0;
    while (start < commands.size()) {
        std::size_t end = commands.find('\n', start);
        if (end == std::string::npos) end = commands.size();
        (void)ctx_.run(commands.substr(start, end - start), what);
        start = end + 1;
    }
    return std::move(s).error();
}

Result<std::string> NftTable::list() {
    std::lock_guard lock(mutex_);
    return ctx_.run(nft::list_table(), "list table inet sandboxd");
}

std::size_t NftTable::policies_in_use() const {
    std::lock_guard lock(mutex_);
    return chain_users_.size();
}

}  // namespace sbx::jail
