// The daemon-wide side of jail networking, and one jail's network (JailNetwork).
//
// Policies with network "none" get an isolated namespace from the pool (or, when the pool is
// empty, a fresh one from CLONE_NEWNET). Policies with "egress" need the rest, which the daemon
// sets up only once such a policy is loaded (enable_egress): the nftables table, the address
// pool, IPv4 forwarding in the daemon's namespace, and egress namespaces in the pool. A daemon
// with only "none" policies touches no nftables table and no sysctl; at start it only removes
// what a crashed egress run left (remove_leftovers).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "daemon/jail/address_pool.hpp"
#include "daemon/jail/netns_pool.hpp"
#include "daemon/jail/nft_rules.hpp"
#include "daemon/jail/nft_table.hpp"
#include "daemon/jail/veth_link.hpp"

namespace boost::asio {
class io_context;
}

namespace sbx::jail {

struct NetworkOptions {
    policy::Ipv4Cidr egress_range{0x0AE70000, 16};  // 10.231.0.0/16: a /30 per egress jail
    unsigned isolated_pool = 4;                     // ready isolated namespaces (0: CLONE_NEWNET)
    unsigned egress_pool = 2;                       // ready egress namespaces
    std::function<void(const std::string&)> warn;   // problems found by background work
};

// One jail's network: the namespace it joins, and for egress the veth and the rules. release()
// (or destruction) undoes it in order: veth, then rules, then the address.
class JailNetwork {
public:
    JailNetwork(UniqueFd netns, std::unique_ptr<JailLink> link, std::unique_ptr<NftJob> rules)
        : netns_(std::move(netns)), link_(std::move(link)), rules_(std::move(rules)) {}
    JailNetwork(JailNetwork&&) noexcept = default;
    JailNetwork& operator=(JailNetwork&&) = delete;
    JailNetwork(const JailNetwork&) = delete;
    ~JailNetwork() { (void)release(); }

    int netns_fd() const { return netns_.get(); }
    const JailLink* link() const { return link_.get(); }
    Status release();

private:
    UniqueFd netns_;
    std::unique_ptr<JailLink> link_;
    std::unique_ptr<NftJob> rules_;
};

class NetworkRuntime {
public:
    static Result<std::unique_ptr<NetworkRuntime>> open(NetworkOptions options);
    // Stops the pool (deleting prepared veths) and deletes the nftables table.
    ~NetworkRuntime();
    NetworkRuntime(const NetworkRuntime&) = delete;
    NetworkRuntime& operator=(const NetworkRuntime&) = delete;

    // What a crashed run left in this namespace: sandboxd's table and the daemon's ends of jail
    // veths. Skipped while another live daemon owns the namespace's table. Returns what was
    // removed (or why nothing was), as lines for the log.
    Result<std::vector<std::string>> remove_leftovers();
    // Sets egress up (idempotent): claims and creates the table (removing leftovers), turns on
    // net.ipv4.ip_forward, starts preparing egress namespaces. Returns lines for the log.
    Result<std::vector<std::string>> enable_egress();
    bool egress_enabled() const { return table_ != nullptr; }

    // For "none" jails: a prepared namespace, or nothing (clone one).
    std::optional<JailNetwork> take_isolated();
    // For "egress" jails: `done` runs in `io` with the jail's network, rules attached.
    void take_egress(boost::asio::io_context& io, const nft::PolicyChains& chains,
                     std::function<void(Result<JailNetwork>)> done);
    // After the jail's last process is gone: an isolated network is dropped at once, an egress
    // one taken apart on the pool's teardown thread (problems go to options.warn).
    void retire(JailNetwork network);

    NetnsPool& pool() { return *pool_; }
    NftTable* table() { return table_.get(); }
    const std::shared_ptr<AddressPool>& addresses() const { return addresses_; }
    const NetworkOptions& options() const { return options_; }

private:
    explicit NetworkRuntime(NetworkOptions options) : options_(std::move(options)) {}
    Result<std::vector<std::string>> remove_leftover_links();

    NetworkOptions options_;
    std::shared_ptr<SharedRouteSocket> host_;
    std::shared_ptr<AddressPool> addresses_;
    std::unique_ptr<NftTable> table_;     // destroyed after the pool (declared before it)
    std::unique_ptr<NetnsPool> pool_;
};

}  // namespace sbx::jail
