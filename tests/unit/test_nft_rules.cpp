// The nftables text of egress jails (daemon/jail/nft_rules.hpp): what each policy allows, in
// which order, and that the table can never drop traffic that is not a jail's.
#include <gtest/gtest.h>

#include <sstream>

#include "daemon/jail/nft_rules.hpp"

namespace sbx::jail::nft {
namespace {

policy::NetworkPolicy egress(const std::vector<std::string>& allow, const std::vector<std::string>& dns = {}) {
    policy::NetworkPolicy n;
    n.mode = policy::NetworkMode::egress;
    for (const auto& a : allow) n.allow.push_back(*policy::parse_allow_entry(a));
    for (const auto& d : dns) n.dns.push_back(*policy::parse_ipv4_address(d));
    return n;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
}

TEST(NftRules, PolicyChainOrderResolversAndListedPrivateNetworksBeforeTheDrop) {
    auto c = policy_chains(egress({"0.0.0.0/0:443", "10.1.2.0/24", "203.0.113.7:80"}, {"192.0.2.53"}));
    const std::string out = "add rule inet sandboxd " + c.out_chain + " ";
    const std::string in = "add rule inet sandboxd " + c.in_chain + " ";
    EXPECT_EQ(lines(c.create), (std::vector<std::string>{
                                   "add chain inet sandboxd " + c.out_chain,
                                   out + "ip daddr 192.0.2.53 meta l4proto { tcp, udp } th dport 53 accept",
                                   out + "ip daddr 10.1.2.0/24 accept",
                                   out + "ip daddr 203.0.113.7 meta l4proto { tcp, udp } th dport 80 accept",
                                   out + "ip daddr @special drop",
                                   out + "ip daddr 0.0.0.0/0 meta l4proto { tcp, udp } th dport 443 accept",
                                   "add chain inet sandboxd " + c.in_chain,
                                   in + "accept",
                               }));
    EXPECT_EQ(c.remove, "delete chain inet sandboxd " + c.out_chain + "\ndelete chain inet sandboxd " + c.in_chain + "\n");
}

TEST(NftRules, LimitsComeFirstAndApplyPerJobAddress) {
    auto n = egress({"203.0.113.0/24"});
    n.max_connections = 8;
    n.bandwidth_bytes = 65536;
    auto c = policy_chains(n);
    auto l = lines(c.create);
    ASSERT_GE(l.size(), 4u);
    EXPECT_NE(l[1].find("update @bw_out { ip saddr limit rate over 65536 bytes/second } drop"), std::string::npos) << l[1];
    EXPECT_NE(l[2].find("ct state new add @conns { ip saddr ct count over 8 } drop"), std::string::npos) << l[2];
    EXPECT_NE(c.create.find(c.in_chain + " update @bw_in { ip daddr limit rate over 65536 bytes/second } drop"),
              std::string::npos)
        << c.create;
}

TEST(NftRules, EqualNetworkSectionsShareChainsDifferentOnesDoNot) {
    auto a = policy_chains(egress({"203.0.113.0/24:443"}));
    auto b = policy_chains(egress({"203.0.113.0/24:443"}));
    auto c = policy_chains(egress({"203.0.113.0/24:444"}));
    EXPECT_EQ(a.key, b.key);
    EXPECT_NE(a.key, c.key);
    EXPECT_EQ(a.key.size(), 16u);
    EXPECT_EQ(a.out_chain, "out_" + a.key);
    EXPECT_EQ(a.in_chain, "in_" + a.key);
}

TEST(NftRules, SpecialRangesCoverThePrivateAndLocalSpace) {
    auto covered = [](const char* address) {
        auto a = *policy::parse_ipv4_address(address);
        for (const auto& r : special_ranges())
            if (r.contains(a)) return true;
        return false;
    };
    for (const char* a : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.169.254",
                          "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1"})
        EXPECT_TRUE(covered(a)) << a;
    for (const char* a : {"1.1.1.1", "8.8.8.8", "100.1.2.3", "172.32.0.1", "192.169.0.1", "93.184.216.34"})
        EXPECT_FALSE(covered(a)) << a;
}

// Loaded in whatever namespace the daemon runs in, the table must never cut that host off:
// every base chain accepts by policy, and each rule of a hooked chain that drops names jail
// interfaces.
TEST(NftRules, BaseChainsAcceptByPolicyAndDropOnlyJailTraffic) {
    std::string table = table_definition(*policy::parse_ipv4_cidr("10.231.0.0/16"), "sbx");
    EXPECT_EQ(table.find("policy drop"), std::string::npos);
    EXPECT_EQ(table.find("table inet sandboxd {"), 0u);
    std::string chain;
    bool hooked = false;
    int hooked_chains = 0;
    for (const auto& line : lines(table)) {
        auto first = line.find_first_not_of(' ');
        std::string l = first == std::string::npos ? "" : line.substr(first);
        if (l.rfind("chain ", 0) == 0) {
            chain = l;
            hooked = false;
            continue;
        }
        if (l.rfind("type ", 0) == 0) {
            hooked = true;
            ++hooked_chains;
            EXPECT_NE(l.find("policy accept;"), std::string::npos) << chain << ": " << l;
            continue;
        }
        if (!hooked || l == "}" || l.empty()) continue;
        EXPECT_NE(l.find("\"sbx*\""), std::string::npos) << chain << ": a rule that does not name jail interfaces: " << l;
    }
    EXPECT_EQ(hooked_chains, 4);  // input, output, forward, postrouting
    EXPECT_NE(table.find("ip saddr 10.231.0.0/16 oifname != \"sbx*\" masquerade"), std::string::npos);
    EXPECT_NE(table.find("10.231.0.0/16 }"), std::string::npos);  // the jail range is non-global too
}

TEST(NftRules, DetachUndoesEveryElementAttachAdds) {
    auto c = policy_chains(egress({"203.0.113.0/24"}));
    JobKey job{"sbx12", policy::parse_ipv4_address("10.231.0.50")->address, 0x1234};
    std::string attach = attach_job(job, c, true);
    std::string detach = detach_job(job, c, true);
    EXPECT_EQ(attach.find(c.create), 0u);
    EXPECT_EQ(attach_job(job, c, false).find("add chain"), std::string::npos);
    for (const auto& l : lines(attach)) {
        if (l.rfind("add element", 0) != 0) continue;
        // "add element inet sandboxd <set> { <key>[ : <value>] }" -> "delete element ... { <key> }"
        std::string set_and_key = l.substr(std::string("add element ").size());
        auto colon = set_and_key.find(" : ");
        std::string key = colon == std::string::npos ? set_and_key : set_and_key.substr(0, colon) + " }";
        EXPECT_NE(detach.find("delete element " + key), std::string::npos) << "not undone: " << l;
    }
    EXPECT_NE(attach.find("job_tag { \"sbx12\" : 0x00001234 }"), std::string::npos) << attach;
    EXPECT_NE(attach.find("live { \"sbx12\" . 0x00001234 }"), std::string::npos) << attach;
    EXPECT_NE(detach.find("delete element inet sandboxd conns { 10.231.0.50 }"), std::string::npos) << detach;
    EXPECT_NE(detach.find("delete element inet sandboxd bw_out { 10.231.0.50 }"), std::string::npos);
    EXPECT_NE(detach.find("delete element inet sandboxd bw_in { 10.231.0.50 }"), std::string::npos);
    EXPECT_EQ(detach.rfind(c.remove), detach.size() - c.remove.size());  // chains last
    EXPECT_EQ(detach_job(job, c, false).find("delete chain"), std::string::npos);
}

}  // namespace
}  // namespace sbx::jail::nft
