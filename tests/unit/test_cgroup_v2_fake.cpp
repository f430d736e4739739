// The cgroup v2 backend against a fake cgroupfs tree: which files it writes, how it reads
// accounting, how it kills and freezes. (Integration tests run it for real where the machine
// has a v2 hierarchy with controllers, and its kill path on any unified hierarchy.)
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "daemon/jail/cgroup.hpp"

namespace sbx::jail {
namespace {

namespace fs = std::filesystem;

void put(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
}
std::string get(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class CgroupV2Fake : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("sandboxd-fake-cgroup-" + std::to_string(getpid()));
        fs::remove_all(root_);
        put(root_ / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put(root_ / "cgroup.subtree_control", "");
        put(root_ / "cgroup.procs", "");
        put(root_ / "sandboxd/cgroup.subtree_control", "");
        put(root_ / "sandboxd/jobs/cgroup.subtree_control", "");
        job_ = root_ / "sandboxd/jobs/j1";
        for (const char* f : {"memory.max", "memory.swap.max", "memory.oom.group", "pids.max", "cpu.max",
                              "cgroup.procs", "cgroup.kill", "cgroup.freeze"})
            put(job_ / f, "");
        put(job_ / "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
        put(job_ / "memory.peak", "12345\n");
        put(job_ / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        put(job_ / "cgroup.events", "populated 0\nfrozen 0\n");
    }
    void TearDown() override { fs::remove_all(root_); }

    Result<std::unique_ptr<CgroupBackend>> open() {
        CgroupOptions o;
        o.version = CgroupVersion::v2;
        o.fake_root = root_.string();
        return open_cgroup_backend(o);
    }

    fs::path root_;
    fs::path job_;
};

TEST_F(CgroupV2Fake, EnablesControllersDownToTheJobs) {
    auto backend = open();
    ASSERT_TRUE(backend) << backend.error().message();
    EXPECT_EQ((*backend)->name(), "cgroup v2");
    for (const fs::path& dir : {root_, root_ / "sandboxd", root_ / "sandboxd/jobs"})
        EXPECT_EQ(get(dir / "cgroup.subtree_control"), "+memory +pids +cpu") << dir;
}

TEST_F(CgroupV2Fake, MissingControllerIsRefusedWithAClearMessage) {
    put(root_ / "cgroup.controllers", "cpu io\n");
    auto backend = open();
    ASSERT_FALSE(backend);
    EXPECT_NE(backend.error().message().find("required controller 'memory' is not available"), std::string::npos)
        << backend.error().message();
    EXPECT_NE(backend.error().message().find("Delegate=yes"), std::string::npos);
}

TEST_F(CgroupV2Fake, WritesLimitsReadsUsageKillsAndFreezes) {
    auto backend = open();
    ASSERT_TRUE(backend) << backend.error().message();
    auto job = (*backend)->create_job("j1");  // adopts the empty leftover the fake provides
    ASSERT_TRUE(job) << job.error().message();
    EXPECT_GE((*job)->clone_into_fd(), 0);
    EXPECT_TRUE((*job)->join_fds().empty());

    ASSERT_TRUE((*job)->set_limits({64ull << 20, 32, 1.5}));
    EXPECT_EQ(get(job_ / "memory.max"), "67108864");
    EXPECT_EQ(get(job_ / "memory.swap.max"), "0");
    EXPECT_EQ(get(job_ / "memory.oom.group"), "1");
    EXPECT_EQ(get(job_ / "pids.max"), "32");
    EXPECT_EQ(get(job_ / "cpu.max"), "150000 100000");

    // Counters of an adopted cgroup count from the moment it was adopted.
    put(job_ / "cpu.stat", "usage_usec 4500\nuser_usec 3000\nsystem_usec 1500\n");
    put(job_ / "memory.events", "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n");
    auto usage = (*job)->usage();
    ASSERT_TRUE(usage) << usage.error().message();
    EXPECT_EQ(usage->cpu_usage_us, 3000u);
    EXPECT_EQ(usage->oom_kills, 2u);
    EXPECT_EQ(usage->memory_peak_bytes, 12345u);

    ASSERT_TRUE((*job)->kill_all());
    EXPECT_EQ(get(job_ / "cgroup.kill"), "1");

    put(job_ / "cgroup.events", "populated 0\nfrozen 1\n");
    ASSERT_TRUE((*job)->set_frozen(true));
    EXPECT_EQ(get(job_ / "cgroup.freeze"), "1");
    ASSERT_TRUE((*job)->set_frozen(false));
    EXPECT_EQ(get(job_ / "cgroup.freeze"), "0");

    // A real cgroupfs removes its control files with the directory; the fake needs help.
    for (const auto& f : fs::directory_iterator(job_)) fs::remove(f.path());
    EXPECT_TRUE((*job)->remove());
    EXPECT_FALSE(fs::exists(job_));
}

TEST_F(CgroupV2Fake, KillWaitsUntilTheCgroupIsEmpty) {
    auto backend = open();
    ASSERT_TRUE(backend);
    auto job = (*backend)->create_job("j1");
    ASSERT_TRUE(job);
    put(job_ / "cgroup.events", "populated 1\nfrozen 0\n");
    auto s = (*job)->kill_all();  // nothing empties a fake: gives up after its bound
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message().find("processes remain"), std::string::npos) << s.error().message();
    for (const auto& f : fs::directory_iterator(job_)) fs::remove(f.path());
}

TEST_F(CgroupV2Fake, LeftoverInUseIsNotAdopted) {
    put(job_ / "cgroup.procs", "4242\n");
    auto backend = open();
    ASSERT_TRUE(backend);
    auto job = (*backend)->create_job("j1");
    ASSERT_FALSE(job);
    EXPECT_NE(job.error().message().find("in use"), std::string::npos);
}

}  // namespace
}  // namespace sbx::jail
