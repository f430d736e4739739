// IPv4 networks and the allow-list entries of egress policies: "CIDR[:port]". Jails get IPv4
// only, so IPv6 text is refused with a message saying so.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx::policy {

struct Ipv4Cidr {
    std::uint32_t address = 0;  // host byte order, host bits zero
    std::uint8_t prefix = 32;

    std::uint32_t mask() const;
    std::uint32_t last() const { return address | ~mask(); }  // highest address inside
    bool contains(const Ipv4Cidr& other) const;                // other lies wholly inside
    bool overlaps(const Ipv4Cidr& other) const;
    std::string to_string() const;  // "10.0.0.0/8", "1.2.3.4" for a /32
    bool operator==(const Ipv4Cidr&) const = default;
};

struct AllowEntry {
    Ipv4Cidr network;
    std::uint16_t port = 0;  // 0: every port and protocol; else TCP and UDP to that port

    std::string to_string() const;  // "203.0.113.0/24:443"
    bool operator==(const AllowEntry&) const = default;
};

// "203.0.113.0/24" or "198.51.100.7" (a /32). Host bits must be zero.
Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text);
// A single address: "198.51.100.7" (no prefix).
Result<Ipv4Cidr> parse_ipv4_address(std::string_view text);
// "CIDR" or "CIDR:port", port 1-65535.
Result<AllowEntry> parse_allow_entry(std::string_view text);
std::string ipv4_to_string(std::uint32_t address);

}  // namespace sbx::policy
