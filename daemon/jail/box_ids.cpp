#include "daemon/jail/box_ids.hpp"

namespace sbx::jail {

BoxId& BoxId::operator=(BoxId&& other) noexcept {
    if (this != &other) {
        if (pool_ != nullptr) pool_->release(id_);
        pool_ = other.pool_;
        id_ = other.id_;
        other.pool_ = nullptr;
    }
    return *this;
}

BoxId::~BoxId() {
    if (pool_ != nullptr) pool_->release(id_);
}

Result<BoxId> BoxIdPool::acquire(const policy::IdRange& range) {
    std::lock_guard lock(mutex_);
    for (std::uint32_t i = 0; i < range.count; ++i) {
        std::uint32_t offset = (next_ + i) % range.count;
        std::uint32_t id = range.first + offset;
        if (used_.insert(id).second) {
            next_ = offset + 1;
            return BoxId(this, id);
        }
    }
    return Error::invalid("box uid", "all " + std::to_string(range.count) + " uids of " +
                                         std::to_string(range.first) + "-" +
                                         std::to_string(range.first + range.count - 1) + " are in use");
}

std::size_t BoxIdPool::in_use() const {
    std::lock_guard lock(mutex_);
    return used_.size();
}

void BoxIdPool::release(std::uint32_t id) {
    std::lock_guard lock(mutex_);
    used_.erase(id);
}

}  // namespace sbx::jail
