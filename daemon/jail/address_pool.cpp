#include "daemon/jail/address_pool.hpp"

#include <utility>

namespace sbx::jail {

AddressLease::AddressLease(AddressLease&& other) noexcept
    : pool_(std::move(other.pool_)), slot_(std::move(other.slot_)) {
    other.pool_.reset();
}

AddressLease& AddressLease::operator=(AddressLease&& other) noexcept {
    if (this != &other) {
        if (pool_ != nullptr) pool_->release(slot_.index);
        pool_ = std::move(other.pool_);
        other.pool_.reset();
        slot_ = std::move(other.slot_);
    }
    return *this;
}

AddressLease::~AddressLease() {
    if (pool_ != nullptr) pool_->release(slot_.index);
}

Result<std::shared_ptr<AddressPool>> AddressPool::create(const policy::Ipv4Cidr& range) {
    if (range.prefix > 30)
        return Error::invalid("egress address range " + range.to_string(), "must be a /30 or larger");
    // Up to 4 million jails; larger ranges would only waste address space.
    if (range.prefix < 8)
        return Error::invalid("egress address range " + range.to_string(), "must be a /8 or smaller");
    return std::shared_ptr<AddressPool>(new AddressPool(range, std::uint32_t{1} << (30 - range.prefix)));
}

AddressSlot AddressPool::slot(std::uint32_t index) const {
    AddressSlot s;
    s.index = index;
    std::uint32_t base = range_.address + index * 4;
    s.gateway = base + 1;
    s.jail = base + 2;
    s.prefix = 30;
    s.host_link = kJailLinkPrefix + std::to_string(index);
    return s;
}

Result<AddressLease> AddressPool::acquire() {
    std::lock_guard lock(mutex_);
    std::uint32_t index = 0;
    if (next_fresh_ < slots_) {
        index = next_fresh_++;
    } else if (!released_.empty()) {
        index = released_.front();
        released_.pop_front();
    } else {
        return Error::invalid("egress address range " + range_.to_string(),
                              "all " + std::to_string(slots_) + " jail addresses are in use");
    }
    ++in_use_;
    return AddressLease(shared_from_this(), slot(index));
}

std::size_t AddressPool::in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
}

void AddressPool::release(std::uint32_t index) {
    std::lock_guard lock(mutex_);
    released_.push_back(index);
    --in_use_;
}

}  // namespace sbx::jail
