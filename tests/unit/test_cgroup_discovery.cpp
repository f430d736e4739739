#include <gtest/gtest.h>

#include "daemon/jail/cgroup_discovery.hpp"

namespace sbx::jail {
namespace {

// This development machine: v1 controllers one per mount, a unified mount beside them.
constexpr const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 31 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 31 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n";

constexpr const char* kHybridProcCgroup =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "4:memory:/process_api/3a86\n"
    "2:cpuacct:/\n"
    "1:cpu:/\n"
    "0::/\n";

TEST(CgroupDiscovery, ParsesV1AndUnifiedMounts) {
    auto mounts = parse_cgroup_mounts(kHybridMountinfo);
    ASSERT_EQ(mounts.size(), 5u);  // the named systemd hierarchy and non-cgroup mounts are skipped
    EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/cpu");
    EXPECT_EQ(mounts[0].controllers, std::vector<std::string>{"cpu"});
    EXPECT_FALSE(mounts[0].unified);
    EXPECT_EQ(mounts[4].mount_point, "/sys/fs/cgroup/unified");
    EXPECT_TRUE(mounts[4].unified);
    EXPECT_TRUE(mounts[4].controllers.empty());
}

TEST(CgroupDiscovery, CoMountedControllersAndOptionalFields) {
    auto mounts = parse_cgroup_mounts(
        "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:11 - cgroup cgroup rw,cpu,cpuacct\n"
        "29 25 0:25 / /sys/fs/cgroup rw,nosuid shared:4 master:1 - cgroup2 cgroup2 rw,nsdelegate\n");
    ASSERT_EQ(mounts.size(), 2u);
    EXPECT_EQ(mounts[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
    EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
    EXPECT_TRUE(mounts[1].unified);
}

TEST(CgroupDiscovery, UnescapesPaths) {
    auto mounts = parse_cgroup_mounts("40 31 0:37 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
    ASSERT_EQ(mounts.size(), 1u);
    EXPECT_EQ(mounts[0].mount_point, "/mnt/my cgroups");
}

TEST(CgroupDiscovery, ParsesProcSelfCgroup) {
    auto members = parse_proc_cgroup(kHybridProcCgroup);
    ASSERT_EQ(members.size(), 5u);  // name=systemd skipped
    EXPECT_EQ(members[0].controllers, std::vector<std::string>{"pids"});
    EXPECT_EQ(members[1].path, "/process_api/3a86");
    EXPECT_TRUE(members[4].controllers.empty());
    EXPECT_EQ(members[4].path, "/");
}

TEST(CgroupDiscovery, DirectoryInMount) {
    CgroupMount root{"/sys/fs/cgroup/memory", "/", false, {"memory"}};
    EXPECT_EQ(*cgroup_dir_in_mount(root, "/process_api/3a86"), "/sys/fs/cgroup/memory/process_api/3a86");
    EXPECT_EQ(*cgroup_dir_in_mount(root, "/"), "/sys/fs/cgroup/memory");
    // A container that sees only part of the hierarchy.
    CgroupMount partial{"/sys/fs/cgroup", "/system.slice/box.scope", true, {}};
    EXPECT_EQ(*cgroup_dir_in_mount(partial, "/system.slice/box.scope/sub"), "/sys/fs/cgroup/sub");
    EXPECT_EQ(*cgroup_dir_in_mount(partial, "/system.slice/box.scope"), "/sys/fs/cgroup");
    auto outside = cgroup_dir_in_mount(partial, "/user.slice");
    ASSERT_FALSE(outside);
    EXPECT_NE(outside.error().message().find("not visible"), std::string::npos);
}

}  // namespace
}  // namespace sbx::jail
