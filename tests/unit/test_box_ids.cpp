#include <gtest/gtest.h>

#include <set>

#include "daemon/jail/box_ids.hpp"
#include "daemon/jail/job_result.hpp"

namespace sbx::jail {
namespace {

TEST(BoxIds, DistinctWhileHeldAndExhaustionIsAnError) {
    BoxIdPool pool;
    policy::IdRange range{60000, 3};
    std::vector<BoxId> held;
    std::set<uid_t> seen;
    for (int i = 0; i < 3; ++i) {
        auto id = pool.acquire(range);
        ASSERT_TRUE(id);
        seen.insert(id->uid());
        EXPECT_EQ(id->uid(), id->gid());
        held.push_back(std::move(*id));
    }
    EXPECT_EQ(seen, (std::set<uid_t>{60000, 60001, 60002}));
    auto none = pool.acquire(range);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message().find("all 3 uids of 60000-60002 are in use"), std::string::npos);
    held.pop_back();
    EXPECT_TRUE(pool.acquire(range));
    held.clear();
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(BoxIds, RoundRobinDoesNotReuseAtOnce) {
    BoxIdPool pool;
    policy::IdRange range{60000, 10};
    uid_t first = pool.acquire(range)->uid();  // released at once
    uid_t second = pool.acquire(range)->uid();
    EXPECT_NE(first, second);
}

TEST(JobStatusNames, RoundTrip) {
    for (auto s : {JobStatus::ok, JobStatus::runtime_error, JobStatus::signaled, JobStatus::time_limit,
                   JobStatus::memory_limit, JobStatus::output_limit, JobStatus::compile_error, JobStatus::rejected,
                   JobStatus::cancelled, JobStatus::internal_error})
        EXPECT_EQ(job_status_from_string(to_string(s)), s);
    EXPECT_EQ(to_string(JobStatus::memory_limit), "memory_limit");
    EXPECT_FALSE(job_status_from_string("bogus"));
}

}  // namespace
}  // namespace sbx::jail
