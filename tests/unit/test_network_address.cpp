// IPv4 networks and allow-list entries ("CIDR[:port]") of egress policies.
#include <gtest/gtest.h>

#include "policy/network_address.hpp"

namespace sbx::policy {
namespace {

Ipv4Cidr cidr(std::string_view text) {
    auto r = parse_ipv4_cidr(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.error().message();
    return r.ok() ? *r : Ipv4Cidr{};
}

std::string cidr_error(std::string_view text) {
    auto r = parse_ipv4_cidr(text);
    return r.ok() ? "parsed as " + r->to_string() : r.error().message();
}

std::string allow_error(std::string_view text) {
    auto r = parse_allow_entry(text);
    return r.ok() ? "parsed as " + r->to_string() : r.error().message();
}

TEST(Ipv4Cidr, ParsesNetworksAndSingleAddresses) {
    EXPECT_EQ(cidr("203.0.113.0/24"), (Ipv4Cidr{0xCB007100, 24}));
    EXPECT_EQ(cidr("198.51.100.7"), (Ipv4Cidr{0xC6336407, 32}));
    EXPECT_EQ(cidr("0.0.0.0/0"), (Ipv4Cidr{0, 0}));
    EXPECT_EQ(cidr("255.255.255.255/32"), (Ipv4Cidr{0xFFFFFFFF, 32}));
    EXPECT_EQ(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
    EXPECT_EQ(cidr("10.0.0.1/32").to_string(), "10.0.0.1");
}

TEST(Ipv4Cidr, RefusesWhatIsNotAnIpv4Network) {
    EXPECT_EQ(cidr_error("10.1.2.3/8"), "'10.1.2.3/8': has host bits set; did you mean 10.0.0.0/8?");
    EXPECT_EQ(cidr_error("10.0.0.0/33"), "'10.0.0.0/33': the prefix length must be 0 to 32");
    EXPECT_EQ(cidr_error("10.0.0.0/-1"), "'10.0.0.0/-1': the prefix length must be 0 to 32");
    EXPECT_EQ(cidr_error("10.0.0.0/8 "), "'10.0.0.0/8 ': the prefix length must be 0 to 32");
    EXPECT_EQ(cidr_error("10.0.0.0/"), "'10.0.0.0/': the prefix length must be 0 to 32");
    EXPECT_EQ(cidr_error("10.1/16"), "'10.1/16': not an IPv4 network like 203.0.113.0/24");
    EXPECT_EQ(cidr_error("256.0.0.0/8"), "'256.0.0.0/8': not an IPv4 network like 203.0.113.0/24");
    EXPECT_EQ(cidr_error("010.0.0.0/8"), "'010.0.0.0/8': not an IPv4 network like 203.0.113.0/24");
    EXPECT_EQ(cidr_error(""), "'': not an IPv4 network like 203.0.113.0/24");
    EXPECT_EQ(cidr_error("fd00::/8"), "'fd00::/8': IPv6 is not supported: jails get IPv4 only");
}

TEST(Ipv4Cidr, SingleAddressesHaveNoPrefix) {
    auto a = parse_ipv4_address("192.0.2.53");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, (Ipv4Cidr{0xC0000235, 32}));
    EXPECT_FALSE(parse_ipv4_address("192.0.2.53/32").ok());
    EXPECT_FALSE(parse_ipv4_address(" 192.0.2.53").ok());
    EXPECT_FALSE(parse_ipv4_address("192.0.2.53.1").ok());
}

TEST(Ipv4Cidr, ContainmentAndOverlap) {
    const Ipv4Cidr ten = cidr("10.0.0.0/8");
    EXPECT_TRUE(ten.contains(cidr("10.231.0.0/16")));
    EXPECT_TRUE(ten.contains(cidr("10.255.255.255")));
    EXPECT_TRUE(ten.contains(ten));
    EXPECT_FALSE(ten.contains(cidr("11.0.0.0/8")));
    EXPECT_FALSE(ten.contains(cidr("8.0.0.0/6")));  // wider than ten
    EXPECT_TRUE(ten.overlaps(cidr("8.0.0.0/6")));
    EXPECT_FALSE(ten.overlaps(cidr("12.0.0.0/6")));
    EXPECT_TRUE(cidr("0.0.0.0/0").contains(ten));
    EXPECT_EQ(ten.mask(), 0xFF000000u);
    EXPECT_EQ(ten.last(), 0x0AFFFFFFu);
    EXPECT_EQ(cidr("0.0.0.0/0").mask(), 0u);
}

TEST(AllowEntry, NetworkWithOptionalPort) {
    auto a = parse_allow_entry("203.0.113.0/24:443");
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_EQ(*a, (AllowEntry{{0xCB007100, 24}, 443}));
    EXPECT_EQ(a->to_string(), "203.0.113.0/24:443");
    auto b = parse_allow_entry("198.51.100.7");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->port, 0);
    EXPECT_EQ(b->to_string(), "198.51.100.7");
    auto c = parse_allow_entry("198.51.100.7:65535");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->port, 65535);
}

TEST(AllowEntry, RefusesBadPortsAndIpv6) {
    EXPECT_EQ(allow_error("1.2.3.4:0"), "'1.2.3.4:0': the port must be 1 to 65535");
    EXPECT_EQ(allow_error("1.2.3.4:65536"), "'1.2.3.4:65536': the port must be 1 to 65535");
    EXPECT_EQ(allow_error("1.2.3.4:http"), "'1.2.3.4:http': the port must be 1 to 65535");
    EXPECT_EQ(allow_error("1.2.3.4:"), "'1.2.3.4:': the port must be 1 to 65535");
    EXPECT_EQ(allow_error("1.2.3.4:80:81"), "'1.2.3.4:80:81': IPv6 is not supported: jails get IPv4 only");
    EXPECT_EQ(allow_error("::1"), "'::1': IPv6 is not supported: jails get IPv4 only");
    EXPECT_EQ(allow_error("10.0.0.1/8:22"), "'10.0.0.1/8': has host bits set; did you mean 10.0.0.0/8?");
    EXPECT_EQ(allow_error("example.com:443"), "'example.com': not an IPv4 network like 203.0.113.0/24");
}

}  // namespace
}  // namespace sbx::policy
