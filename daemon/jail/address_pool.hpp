// Addresses for egress jails: the configured range (--egress-range, 10.231.0.0/16 by default)
// cut into /30 slots, one per jail: .1 on the daemon's end of the veth (the jail's gateway), .2
// on the jail's eth0. The slot also names the daemon's end ("sbx<slot>"), so nftables rules can
// match every jail interface by the prefix alone.
//
// A released slot goes to the back of the line: addresses are reused as late as possible, so
// packets still in flight for an ended job (or conntrack entries of it) rarely meet a new job
// holding the same address; nftables tags each job's connections anyway (nft_rules.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.hpp"
#include "policy/network_address.hpp"

namespace sbx::jail {

// Interface names of the daemon's ends of jail veths; nothing else may use this prefix.
inline constexpr const char* kJailLinkPrefix = "sbx";

struct AddressSlot {
    std::uint32_t index = 0;
    std::uint32_t gateway = 0;  // host byte order: the daemon's end
    std::uint32_t jail = 0;     // the jail's eth0
    std::uint8_t prefix = 30;
    std::string host_link;      // "sbx<index>"
};

class AddressPool;

// One slot, returned to the pool when destroyed.
class AddressLease {
public:
    AddressLease() = default;
    AddressLease(AddressLease&& other) noexcept;
    AddressLease& operator=(AddressLease&& other) noexcept;
    AddressLease(const AddressLease&) = delete;
    AddressLease& operator=(const AddressLease&) = delete;
    ~AddressLease();

    const AddressSlot& slot() const { return slot_; }
    explicit operator bool() const { return pool_ != nullptr; }

private:
    friend class AddressPool;
    AddressLease(std::shared_ptr<AddressPool> pool, AddressSlot slot) : pool_(std::move(pool)), slot_(std::move(slot)) {}
    std::shared_ptr<AddressPool> pool_;  // a lease keeps the pool alive
    AddressSlot slot_;
};

class AddressPool : public std::enable_shared_from_this<AddressPool> {
public:
    // The range must hold at least one /30. Its addresses should be used by nothing else in
    // the daemon's namespace: the daemon routes them to the jails.
    static Result<std::shared_ptr<AddressPool>> create(const policy::Ipv4Cidr& range);
    AddressPool(const AddressPool&) = delete;
    AddressPool& operator=(const AddressPool&) = delete;

    // Never-used slots first, then the one released longest ago. Thread-safe.
    Result<AddressLease> acquire();
    std::size_t in_use() const;
    std::uint32_t capacity() const { return slots_; }
    const policy::Ipv4Cidr& range() const { return range_; }
    AddressSlot slot(std::uint32_t index) const;

private:
    friend class AddressLease;
    AddressPool(const policy::Ipv4Cidr& range, std::uint32_t slots) : range_(range), slots_(slots) {}
    void release(std::uint32_t index);

    policy::Ipv4Cidr range_;
    std::uint32_t slots_ = 0;
    mutable std::mutex mutex_;
    std::uint32_t next_fresh_ = 0;
    std::deque<std::uint32_t> released_;
    std::size_t in_use_ = 0;
};

}  // namespace sbx::jail
