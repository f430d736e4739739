// Links, addresses and routes of egress jails, through libnl-route-3. A RouteSocket talks to
// the network namespace of the thread that opened it, and keeps doing so after the thread
// moves to another namespace: the namespace pool (netns_pool.hpp) holds one in the daemon's
// namespace and opens one inside each namespace it makes.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "daemon/jail/address_pool.hpp"

struct nl_sock;

namespace sbx::jail {

class RouteSocket {
public:
    // NETLINK_ROUTE, in the calling thread's network namespace.
    static Result<RouteSocket> open();
    RouteSocket() = default;
    RouteSocket(RouteSocket&& other) noexcept;
    RouteSocket& operator=(RouteSocket&& other) noexcept;
    RouteSocket(const RouteSocket&) = delete;
    RouteSocket& operator=(const RouteSocket&) = delete;
    ~RouteSocket();

    nl_sock* get() const { return sock_; }
    explicit operator bool() const { return sock_ != nullptr; }

private:
    nl_sock* sock_ = nullptr;
};

// A RouteSocket several threads use, one call at a time.
class SharedRouteSocket {
public:
    explicit SharedRouteSocket(RouteSocket sock) : sock_(std::move(sock)) {}
    template <class F>
    auto with(F&& f) {
        std::lock_guard lock(mutex_);
        return f(static_cast<const RouteSocket&>(sock_));
    }

private:
    std::mutex mutex_;
    RouteSocket sock_;
};

// The jail's end of the pair inside its namespace.
inline constexpr const char* kJailInterface = "eth0";

// In `host`'s namespace: the pair slot.host_link <-> eth0, eth0 created straight inside the
// namespace `jail_netns_fd`; the host end gets the slot's gateway address and goes up.
Status create_jail_veth(const RouteSocket& host, const AddressSlot& slot, int jail_netns_fd);
// Inside the jail's namespace (`jail` opened there): eth0 gets the slot's jail address and
// goes up, with the default route via the gateway.
Status configure_jail_interface(const RouteSocket& jail, const AddressSlot& slot);
// Sets a link up (the loopback of a fresh namespace starts down).
Status bring_up_link(const RouteSocket& sock, const char* name);
// Deleting one end of a veth deletes both. A link that is already gone is not an error.
Status delete_link(const RouteSocket& sock, const std::string& name);
// Names of veth links called <prefix><digits>: the daemon's ends of jail veths.
Result<std::vector<std::string>> list_jail_links(const RouteSocket& sock, std::string_view prefix);
// Interface names in the socket's namespace (tests and diagnostics).
Result<std::vector<std::string>> list_links(const RouteSocket& sock);

// The daemon's end of one jail's veth, with the address slot it uses: the link is deleted
// (both ends with it) by remove() or when destroyed, and the slot returned after that.
class JailLink {
public:
    JailLink(std::shared_ptr<SharedRouteSocket> host, AddressLease lease)
        : host_(std::move(host)), lease_(std::move(lease)) {}
    JailLink(const JailLink&) = delete;
    JailLink& operator=(const JailLink&) = delete;
    ~JailLink() { (void)remove(); }

    const AddressSlot& slot() const { return lease_.slot(); }
    Status remove();

private:
    std::shared_ptr<SharedRouteSocket> host_;
    AddressLease lease_;
    bool removed_ = false;
};

}  // namespace sbx::jail
