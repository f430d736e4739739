// The nftables rules of egress jails, as libnftables command text. Everything lives in one
// table, `inet sandboxd`, which the daemon owns in its network namespace (nft_table.hpp):
//
//   input        hook input, policy accept: drops whatever comes in on a jail interface, so a
//                jail reaches none of the host's addresses or services
//   output       hook output, policy accept: the host starts no connection into a jail
//   forward      hook forward, policy accept: jumps to from_jail / to_jail for packets of jail
//                interfaces, and touches nothing else
//   from_jail    IPv4 only; never to another jail or the jail range; each new connection is
//                tagged with its job (ct mark); a packet whose tag is not its interface's
//                current job is dropped; then the job's policy chain (out_<key>) decides;
//                whatever it does not accept is dropped
//   to_jail      only replies (established, related) tagged with the job now on the interface,
//                through the policy's in_<key> chain (the bandwidth limit)
//   postrouting  hook nat postrouting: masquerade jail traffic leaving for the outside
//
// Base chains all have `policy accept` and match only jail interfaces ("sbx*"), so the table
// can never cut the host off, whichever namespace it is loaded in. Jobs come and go as set and
// map elements keyed by interface name (cheap; no rule changes). A policy's chains are added with
// its first running job and removed with its last.
//
// Job tags (ct mark) make conntrack entries of an ended job useless to the next job that gets
// the same address: their replies are dropped, and a packet matching an old entry is not let
// through without the new job's policy deciding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/network_address.hpp"
#include "policy/policy.hpp"

namespace sbx::jail::nft {

inline constexpr const char* kFamily = "inet";
inline constexpr const char* kTable = "sandboxd";

// Non-global IPv4 space (RFC 6890 and friends): private, shared, loopback, link-local,
// documentation, benchmarking, multicast, reserved, broadcast. An egress jail reaches none of it
// unless its policy lists a network inside it (an explicit "10.1.2.0/24", not "0.0.0.0/0").
const std::vector<policy::Ipv4Cidr>& special_ranges();

// What one policy's network section means in nftables, worked out when the policy is loaded.
struct PolicyChains {
    std::string key;        // hash of the rules: equal policies share their chains
    std::string out_chain;  // "out_<key>"
    std::string in_chain;   // "in_<key>"
    std::string create;     // commands adding both chains and their rules
    std::string remove;     // commands deleting both
};
PolicyChains policy_chains(const policy::NetworkPolicy& network);

// The table with its sets, maps and base chains (one transaction). `jail_range` is the pool
// jail addresses come from; `link_prefix` names the daemon's ends of jail veths.
std::string table_definition(const policy::Ipv4Cidr& jail_range, const std::string& link_prefix);
std::string delete_table();
std::string list_table();

// One running job: its interface, its address and its connection tag.
struct JobKey {
    std::string link;  // "sbx12"
    std::uint32_t address = 0;
    std::uint32_t tag = 0;  // never 0 (untagged connections have mark 0)
};
// Adds the job's elements, after `chains.create` when `with_chains`.
std::string attach_job(const JobKey& job, const PolicyChains& chains, bool with_chains);
// Removes the job's elements, and what its packets created in the dynamic sets (connection
// counts, rate limits), then `chains.remove` when `with_chains`.
std::string detach_job(const JobKey& job, const PolicyChains& chains, bool with_chains);

}  // namespace sbx::jail::nft
