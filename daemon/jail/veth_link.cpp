#include "daemon/jail/veth_link.hpp"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include <memory>
#include <utility>

namespace sbx::jail {

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const {
        if (p != nullptr) Free(p);
    }
};
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;
using NlAddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>>;
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache, nl_cache_free>>;

Error netlink_error(std::string context, int err) { return Error::invalid(std::move(context), nl_geterror(err)); }

Result<NlAddrPtr> ipv4(std::uint32_t address, int prefix) {
    std::uint32_t be = htonl(address);
    NlAddrPtr a(nl_addr_build(AF_INET, &be, sizeof be));
    if (!a) return Error::invalid("netlink address", "out of memory");
    nl_addr_set_prefixlen(a.get(), prefix);
    return a;
}

Result<int> link_index(const RouteSocket& sock, const char* name) {
    rtnl_link* raw = nullptr;
    if (int err = rtnl_link_get_kernel(sock.get(), 0, name, &raw); err < 0)
        return netlink_error(std::string("find link ") + name, err);
    LinkPtr link(raw);
    return rtnl_link_get_ifindex(link.get());
}

Status add_address(const RouteSocket& sock, int ifindex, std::uint32_t address, int prefix, const std::string& what) {
    AddrPtr addr(rtnl_addr_alloc());
    auto local = ipv4(address, prefix);
    if (!addr || !local) return Error::invalid("address for " + what, "out of memory");
    rtnl_addr_set_ifindex(addr.get(), ifindex);
    rtnl_addr_set_family(addr.get(), AF_INET);
    if (int err = rtnl_addr_set_local(addr.get(), local->get()); err < 0)
        return netlink_error("address for " + what, err);
    if (int err = rtnl_addr_add(sock.get(), addr.get(), 0); err < 0)
        return netlink_error("add address " + policy::ipv4_to_string(address) + " to " + what, err);
    return {};
}

Status set_up(const RouteSocket& sock, const char* name) {
    rtnl_link* raw = nullptr;
    if (int err = rtnl_link_get_kernel(sock.get(), 0, name, &raw); err < 0)
        return netlink_error(std::string("find link ") + name, err);
    LinkPtr link(raw);
    LinkPtr change(rtnl_link_alloc());
    if (!change) return Error::invalid(std::string("set ") + name + " up", "out of memory");
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (int err = rtnl_link_change(sock.get(), link.get(), change.get(), 0); err < 0)
        return netlink_error(std::string("set ") + name + " up", err);
    return {};
}

}  // namespace

Result<RouteSocket> RouteSocket::open() {
    RouteSocket s;
    s.sock_ = nl_socket_alloc();
    if (s.sock_ == nullptr) return Error::invalid("netlink socket", "out of memory");
    if (int err = nl_connect(s.sock_, NETLINK_ROUTE); err < 0) return netlink_error("connect netlink socket", err);
    return s;
}

RouteSocket::RouteSocket(RouteSocket&& other) noexcept : sock_(std::exchange(other.sock_, nullptr)) {}

RouteSocket& RouteSocket::operator=(RouteSocket&& other) noexcept {
    if (this != &other) {
        if (sock_ != nullptr) nl_socket_free(sock_);
        sock_ = std::exchange(other.sock_, nullptr);
    }
    return *this;
}

RouteSocket::~RouteSocket() {
    if (sock_ != nullptr) nl_socket_free(sock_);
}

Status create_jail_veth(const RouteSocket& host, const AddressSlot& slot, int jail_netns_fd) {
    LinkPtr link(rtnl_link_veth_alloc());
    if (!link) return Error::invalid("veth " + slot.host_link, "out of memory");
    rtnl_link_set_name(link.get(), slot.host_link.c_str());
    // The peer belongs to the link (freed with it); get_peer takes a reference of its own.
    LinkPtr peer(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(peer.get(), kJailInterface);
    rtnl_link_set_ns_fd(peer.get(), jail_netns_fd);
    if (int err = rtnl_link_add(host.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return netlink_error("create veth " + slot.host_link, err);
    auto index = link_index(host, slot.host_link.c_str());
    Status s = index ? add_address(host, *index, slot.gateway, slot.prefix, slot.host_link) : Status(index.error());
    if (s) s = set_up(host, slot.host_link.c_str());
    if (!s) (void)delete_link(host, slot.host_link);
    return s;
}

Status configure_jail_interface(const RouteSocket& jail, const AddressSlot& slot) {
    auto index = link_index(jail, kJailInterface);
    if (!index) return std::move(index).error();
    if (auto s = add_address(jail, *index, slot.jail, slot.prefix, "jail eth0"); !s) return s;
    if (auto s = set_up(jail, kJailInterface); !s) return s;

    RoutePtr route(rtnl_route_alloc());
    auto any = ipv4(0, 0);
    auto gateway = ipv4(slot.gateway, 32);
    rtnl_nexthop* hop = rtnl_route_nh_alloc();
    if (!route || !any || !gateway || hop == nullptr) {
        if (hop != nullptr) rtnl_route_nh_free(hop);
        return Error::invalid("jail default route", "out of memory");
    }
    rtnl_route_set_family(route.get(), AF_INET);
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
    rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    if (int err = rtnl_route_set_dst(route.get(), any->get()); err < 0) {
        rtnl_route_nh_free(hop);
        return netlink_error("jail default route", err);
    }
    rtnl_route_nh_set_ifindex(hop, *index);
    rtnl_route_nh_set_gateway(hop, gateway->get());
    rtnl_route_add_nexthop(route.get(), hop);  // the route owns the hop from here
    if (int err = rtnl_route_add(jail.get(), route.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return netlink_error("add jail default route via " + policy::ipv4_to_string(slot.gateway), err);
    return {};
}

Status bring_up_link(const RouteSocket& sock, const char* name) { return set_up(sock, name); }

Status delete_link(const RouteSocket& sock, const std::string& name) {
    LinkPtr link(rtnl_link_alloc());
    if (!link) return Error::invalid("delete link " + name, "out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    int err = rtnl_link_delete(sock.get(), link.get());
    if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return {};
    if (err < 0) return netlink_error("delete link " + name, err);
    return {};
}

Status JailLink::remove() {
    if (removed_) return {};
    removed_ = true;
    return host_->with([&](const RouteSocket& sock) { return delete_link(sock, lease_.slot().host_link); });
}

namespace {

Result<CachePtr> link_cache(const RouteSocket& sock) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw); err < 0) return netlink_error("list links", err);
    return CachePtr(raw);
}

}  // namespace

Result<std::vector<std::string>> list_jail_links(const RouteSocket& sock, std::string_view prefix) {
    auto cache = link_cache(sock);
    if (!cache) return std::move(cache).error();
    std::vector<std::string> out;
    for (nl_object* o = nl_cache_get_first(cache->get()); o != nullptr; o = nl_cache_get_next(o)) {
        auto* link = reinterpret_cast<rtnl_link*>(o);
        const char* name = rtnl_link_get_name(link);
        const char* type = rtnl_link_get_type(link);
        if (name == nullptr || type == nullptr || std::string_view(type) != "veth") continue;
        std::string_view n(name);
        if (n.size() <= prefix.size() || n.substr(0, prefix.size()) != prefix) continue;
        if (n.substr(prefix.size()).find_first_not_of("0123456789") != std::string_view::npos) continue;
        out.emplace_back(n);
    }
    return out;
}

Result<std::vector<std::string>> list_links(const RouteSocket& sock) {
    auto cache = link_cache(sock);
    if (!cache) return std::move(cache).error();
    std::vector<std::string> out;
    for (nl_object* o = nl_cache_get_first(cache->get()); o != nullptr; o = nl_cache_get_next(o))
        if (const char* name = rtnl_link_get_name(reinterpret_cast<rtnl_link*>(o))) out.emplace_back(name);
    return out;
}

}  // namespace sbx::jail
