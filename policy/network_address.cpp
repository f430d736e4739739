#include "policy/network_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace sbx::policy {

namespace {

std::uint32_t mask_of(std::uint8_t prefix) { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }

Error bad(std::string_view text, std::string why) { return Error::invalid("'" + std::string(text) + "'", std::move(why)); }

bool looks_like_ipv6(std::string_view text) { return std::count(text.begin(), text.end(), ':') > 1; }

// The whole text must be the number: "", "1 " and "1x" fail.
bool parse_number(std::string_view s, unsigned& out) {
    if (s.empty()) return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::uint32_t Ipv4Cidr::mask() const { return mask_of(prefix); }

bool Ipv4Cidr::contains(const Ipv4Cidr& other) const {
    return other.prefix >= prefix && (other.address & mask()) == address;
}

bool Ipv4Cidr::overlaps(const Ipv4Cidr& other) const { return contains(other) || other.contains(*this); }

std::string ipv4_to_string(std::uint32_t address) {
    return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
           std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

std::string Ipv4Cidr::to_string() const {
    return prefix == 32 ? ipv4_to_string(address) : ipv4_to_string(address) + "/" + std::to_string(prefix);
}

std::string AllowEntry::to_string() const {
    return port == 0 ? network.to_string() : network.to_string() + ":" + std::to_string(port);
}

Result<Ipv4Cidr> parse_ipv4_address(std::string_view text) {
    if (looks_like_ipv6(text)) return bad(text, "IPv6 is not supported: jails get IPv4 only");
    in_addr parsed{};
    std::string a(text);
    // inet_pton takes exactly four decimal parts: no "10.1", no octal, no hex.
    if (a.size() > 15 || ::inet_pton(AF_INET, a.c_str(), &parsed) != 1)
        return bad(text, "not an IPv4 address like 198.51.100.7");
    return Ipv4Cidr{ntohl(parsed.s_addr), 32};
}

Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text) {
    if (looks_like_ipv6(text)) return bad(text, "IPv6 is not supported: jails get IPv4 only");
    std::string_view addr = text;
    std::uint8_t prefix = 32;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        addr = text.substr(0, slash);
        unsigned p = 0;
        if (!parse_number(text.substr(slash + 1), p) || p > 32) return bad(text, "the prefix length must be 0 to 32");
        prefix = static_cast<std::uint8_t>(p);
    }
    auto parsed = parse_ipv4_address(addr);
    if (!parsed) return bad(text, "not an IPv4 network like 203.0.113.0/24");
    Ipv4Cidr out{parsed->address, prefix};
    if ((out.address & ~out.mask()) != 0) {
        Ipv4Cidr fixed{out.address & out.mask(), out.prefix};
        return bad(text, "has host bits set; did you mean " + fixed.to_string() + "?");
    }
    return out;
}

Result<AllowEntry> parse_allow_entry(std::string_view text) {
    if (looks_like_ipv6(text)) return bad(text, "IPv6 is not supported: jails get IPv4 only");
    AllowEntry entry;
    std::string_view cidr = text;
    if (auto colon = text.find(':'); colon != std::string_view::npos) {
        cidr = text.substr(0, colon);
        unsigned port = 0;
        if (!parse_number(text.substr(colon + 1), port) || port == 0 || port > 65535)
            return bad(text, "the port must be 1 to 65535");
        entry.port = static_cast<std::uint16_t>(port);
    }
    auto network = parse_ipv4_cidr(cidr);
    if (!network) return std::move(network).error();
    entry.network = *network;
    return entry;
}

}  // namespace sbx::policy
