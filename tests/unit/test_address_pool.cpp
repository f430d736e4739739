// Address slots of egress jails: a /30 each out of the configured range, reused as late as possible.
#include <gtest/gtest.h>

#include "daemon/jail/address_pool.hpp"

namespace sbx::jail {
namespace {

std::shared_ptr<AddressPool> pool(const std::string& range) {
    auto cidr = policy::parse_ipv4_cidr(range);
    EXPECT_TRUE(cidr.ok());
    auto p = AddressPool::create(*cidr);
    EXPECT_TRUE(p.ok()) << p.error().message();
    return p.ok() ? *p : nullptr;
}

TEST(AddressPool, SlotsAreThirtiesWithGatewayThenJail) {
    auto p = pool("10.231.0.0/16");
    EXPECT_EQ(p->capacity(), 16384u);
    AddressSlot s = p->slot(0);
    EXPECT_EQ(policy::ipv4_to_string(s.gateway), "10.231.0.1");
    EXPECT_EQ(policy::ipv4_to_string(s.jail), "10.231.0.2");
    EXPECT_EQ(s.prefix, 30);
    EXPECT_EQ(s.host_link, "sbx0");
    AddressSlot last = p->slot(16383);
    EXPECT_EQ(policy::ipv4_to_string(last.gateway), "10.231.255.253");
    EXPECT_EQ(policy::ipv4_to_string(last.jail), "10.231.255.254");
    EXPECT_EQ(last.host_link, "sbx16383");
}

TEST(AddressPool, NeverUsedSlotsFirstThenTheLongestReleased) {
    auto p = pool("192.168.7.0/28");  // four slots
    ASSERT_EQ(p->capacity(), 4u);
    std::vector<AddressLease> held;
    for (int i = 0; i < 4; ++i) {
        auto l = p->acquire();
        ASSERT_TRUE(l.ok());
        EXPECT_EQ(l->slot().index, static_cast<std::uint32_t>(i));
        held.push_back(std::move(*l));
    }
    EXPECT_EQ(p->in_use(), 4u);
    auto none = p->acquire();
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().message(), "egress address range 192.168.7.0/28: all 4 jail addresses are in use");
    // Release 2, then 0: they come back in that order.
    held[2] = AddressLease();
    held[0] = AddressLease();
    EXPECT_EQ(p->in_use(), 2u);
    auto a = p->acquire();
    auto b = p->acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->slot().index, 2u);
    EXPECT_EQ(b->slot().index, 0u);
}

TEST(AddressPool, LeaseKeepsThePoolAliveAndReturnsItsSlot) {
    auto p = pool("10.0.0.0/30");
    auto lease = p->acquire();
    ASSERT_TRUE(lease.ok());
    std::weak_ptr<AddressPool> weak = p;
    p.reset();
    EXPECT_FALSE(weak.expired());  // the lease still points at it
    AddressLease moved = std::move(*lease);
    EXPECT_FALSE(static_cast<bool>(*lease));
    EXPECT_TRUE(static_cast<bool>(moved));
    EXPECT_EQ(weak.lock()->in_use(), 1u);
    moved = AddressLease();
    EXPECT_TRUE(weak.expired());
}

TEST(AddressPool, RangeMustHoldAThirtyAndNotBeHuge) {
    for (const char* bad : {"10.0.0.0/31", "10.0.0.1/32", "0.0.0.0/0", "10.0.0.0/7"}) {
        auto cidr = policy::parse_ipv4_cidr(bad);
        ASSERT_TRUE(cidr.ok()) << bad;
        EXPECT_FALSE(AddressPool::create(*cidr).ok()) << bad;
    }
    auto cidr = policy::parse_ipv4_cidr("10.0.0.0/31");
    EXPECT_EQ(AddressPool::create(*cidr).error().message(), "egress address range 10.0.0.0/31: must be a /30 or larger");
}

}  // namespace
}  // namespace sbx::jail
