#include "daemon/jail/nft_rules.hpp"

#include <cstdio>

namespace sbx::jail::nft {

namespace {

using policy::Ipv4Cidr;

const std::string kT = std::string(kFamily) + " " + kTable;  // "inet sandboxd"

std::string hex(std::uint64_t v, int digits) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(v));
    return buf;
}

// FNV-1a: a stable name for a chain body, the same in every run of the daemon.
std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

bool is_special(const Ipv4Cidr& net) {
    for (const auto& r : special_ranges())
        if (r.contains(net)) return true;
    return false;
}

std::string allow_rule(const policy::AllowEntry& e) {
    std::string rule = "ip daddr " + e.network.to_string();
    if (e.port != 0) rule += " meta l4proto { tcp, udp } th dport " + std::to_string(e.port);
    return rule + " accept";
}

std::string mark(std::uint32_t tag) { return "0x" + hex(tag, 8); }
std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

const std::vector<Ipv4Cidr>& special_ranges() {
    static const std::vector<Ipv4Cidr> ranges = {
        {0x00000000, 8},   // 0.0.0.0/8 "this network"
        {0x0A000000, 8},   // 10.0.0.0/8 private
        {0x64400000, 10},  // 100.64.0.0/10 shared address space (carrier-grade NAT)
        {0x7F000000, 8},   // 127.0.0.0/8 loopback
        {0xA9FE0000, 16},  // 169.254.0.0/16 link-local (cloud metadata services live here)
        {0xAC100000, 12},  // 172.16.0.0/12 private
        {0xC0000000, 24},  // 192.0.0.0/24 IETF protocol assignments
        {0xC0000200, 24},  // 192.0.2.0/24 documentation
        {0xC0586300, 24},  // 192.88.99.0/24 6to4 relay (deprecated)
        {0xC0A80000, 16},  // 192.168.0.0/16 private
        {0xC6120000, 15},  // 198.18.0.0/15 benchmarking
        {0xC6336400, 24},  // 198.51.100.0/24 documentation
        {0xCB007100, 24},  // 203.0.113.0/24 documentation
        {0xE0000000, 4},   // 224.0.0.0/4 multicast
        {0xF0000000, 4},   // 240.0.0.0/4 reserved, and 255.255.255.255 broadcast
    };
    return ranges;
}

PolicyChains policy_chains(const policy::NetworkPolicy& n) {
    // The bodies first, with a placeholder for the chain names; their hash names the chains.
    std::vector<std::string> out, in;
    if (n.bandwidth_bytes > 0) {
        out.push_back("update @bw_out { ip saddr limit rate over " + std::to_string(n.bandwidth_bytes) +
                      " bytes/second } drop");
        in.push_back("update @bw_in { ip daddr limit rate over " + std::to_string(n.bandwidth_bytes) +
                     " bytes/second } drop");
    }
    if (n.max_connections > 0)
        out.push_back("ct state new add @conns { ip saddr ct count over " + std::to_string(n.max_connections) +
                      " } drop");
    // Resolvers and explicitly listed non-global networks come before the drop of the rest of
    // the non-global space; everything else after it.
    for (const auto& dns : n.dns) out.push_back("ip daddr " + dns.to_string() + " meta l4proto { tcp, udp } th dport 53 accept");
    for (const auto& e : n.allow)
        if (is_special(e.network)) out.push_back(allow_rule(e));
    out.push_back("ip daddr @special drop");
    for (const auto& e : n.allow)
        if (!is_special(e.network)) out.push_back(allow_rule(e));
    in.push_back("accept");

    std::string body;
    for (const auto& r : out) body += "out " + r + "\n";
    for (const auto& r : in) body += "in " + r + "\n";
    PolicyChains c;
    c.key = hex(fnv1a(body), 16);
    c.out_chain = "out_" + c.key;
    c.in_chain = "in_" + c.key;
    c.create = "add chain " + kT + " " + c.out_chain + "\n";
    for (const auto& r : out) c.create += "add rule " + kT + " " + c.out_chain + " " + r + "\n";
    c.create += "add chain " + kT + " " + c.in_chain + "\n";
    for (const auto& r : in) c.create += "add rule " + kT + " " + c.in_chain + " " + r + "\n";
    c.remove = "delete chain " + kT + " " + c.out_chain + "\ndelete chain " + kT + " " + c.in_chain + "\n";
    return c;
}

std::string table_definition(const Ipv4Cidr& jail_range, const std::string& link_prefix) {
    const std::string jails = quoted(link_prefix + "*");
    std::string special;
    for (const auto& r : special_ranges()) special += (special.empty() ? "" : ", ") + r.to_string();
    special += ", " + jail_range.to_string();
    const std::string range = jail_range.to_string();
    return "table " + kT + " {\n"
           "  map out_policy { type ifname : verdict; }\n"
           "  map in_policy { type ifname : verdict; }\n"
           "  map job_tag { type ifname : mark; }\n"
           "  set live { type ifname . mark; }\n"
           "  set conns { type ipv4_addr; flags dynamic; size 65536; }\n"
           "  set bw_out { type ipv4_addr; flags dynamic; size 65536; }\n"
           "  set bw_in { type ipv4_addr; flags dynamic; size 65536; }\n"
           "  set special { type ipv4_addr; flags interval; auto-merge; elements = { " + special + " }; }\n"
           "  chain input {\n"
           "    type filter hook input priority filter - 10; policy accept;\n"
           "    iifname " + jails + " drop\n"
           "  }\n"
           "  chain output {\n"
           "    type filter hook output priority filter - 10; policy accept;\n"
           "    oifname " + jails + " ct state != { established, related } drop\n"
           "  }\n"
           "  chain forward {\n"
           "    type filter hook forward priority filter - 10; policy accept;\n"
           "    iifname " + jails + " jump from_jail\n"
           "    oifname " + jails + " jump to_jail\n"
           "  }\n"
           "  chain from_jail {\n"
           "    meta nfproto != ipv4 drop\n"
           "    oifname " + jails + " drop\n"
           "    ip daddr " + range + " drop\n"
           "    ct state new ct mark set iifname map @job_tag\n"
           "    iifname . ct mark != @live drop\n"
           "    iifname vmap @out_policy\n"
           "    drop\n"
           "  }\n"
           "  chain to_jail {\n"
           "    ct state != { established, related } drop\n"
           "    oifname . ct mark != @live drop\n"
           "    oifname vmap @in_policy\n"
           "    drop\n"
           "  }\n"
           "  chain postrouting {\n"
           "    type nat hook postrouting priority srcnat; policy accept;\n"
           "    ip saddr " + range + " oifname != " + jails + " masquerade\n"
           "  }\n"
           "}\n";
}

std::string delete_table() { return "delete table " + kT + "\n"; }
std::string list_table() { return "list table " + kT + "\n"; }

std::string attach_job(const JobKey& job, const PolicyChains& chains, bool with_chains) {
    const std::string link = quoted(job.link);
    std::string s = with_chains ? chains.create : "";
    s += "add element " + kT + " job_tag { " + link + " : " + mark(job.tag) + " }\n";
    s += "add element " + kT + " live { " + link + " . " + mark(job.tag) + " }\n";
    s += "add element " + kT + " out_policy { " + link + " : jump " + chains.out_chain + " }\n";
    s += "add element " + kT + " in_policy { " + link + " : jump " + chains.in_chain + " }\n";
    return s;
}

std::string detach_job(const JobKey& job, const PolicyChains& chains, bool with_chains) {
    const std::string link = quoted(job.link);
    const std::string address = policy::ipv4_to_string(job.address);
    std::string s;
    s += "delete element " + kT + " out_policy { " + link + " }\n";
    s += "delete element " + kT + " in_policy { " + link + " }\n";
    s += "delete element " + kT + " live { " + link + " . " + mark(job.tag) + " }\n";
    s += "delete element " + kT + " job_tag { " + link + " }\n";
    // Adding first makes the deletion succeed whether or not the job's packets created one.
    for (const char* set : {"conns", "bw_out", "bw_in"}) {
        s += "add element " + kT + " " + set + " { " + address + " }\n";
        s += "delete element " + kT + " " + set + " { " + address + " }\n";
    }
    if (with_chains) s += chains.remove;
    return s;
}

}  // namespace sbx::jail::nft
