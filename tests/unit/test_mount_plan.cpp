// The filesystem plan built from the shipped default policy.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <algorithm>
#include <filesystem>

#include "daemon/jail/mount_plan.hpp"
#include "policy/catalog.hpp"

namespace sbx::jail {
namespace {

std::vector<std::string> describe_all(const MountPlan& plan) {
    std::vector<std::string> out;
    for (size_t i = 0; i < plan.size(); ++i) out.push_back(plan.describe(i));
    return out;
}

bool has(const std::vector<std::string>& steps, const std::string& step) {
    return std::find(steps.begin(), steps.end(), step) != steps.end();
}

class MountPlanTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto p = policy::load_policy_file(policy::source_tree_policy_dir() / "policies" / "default.toml");
        ASSERT_TRUE(p) << p.error().message();
        policy_ = *p;
    }
    policy::Policy policy_;
};

TEST_F(MountPlanTest, DefaultPolicyBuildsTheDesignedTree) {
    auto tmpl = compile_jail_template(policy_);
    ASSERT_TRUE(tmpl) << tmpl.error().message();
    MountPlan plan(**tmpl, {"/stage", "/run/sandboxd/jobs/7", 64 << 20, 60007, 60007});
    auto steps = describe_all(plan);
    EXPECT_TRUE(has(steps, "bind /usr on /usr"));
    EXPECT_TRUE(has(steps, "bind /etc/alternatives on /etc/alternatives"));
    EXPECT_TRUE(has(steps, "mount proc on /proc"));
    EXPECT_TRUE(has(steps, "mount tmpfs on /dev"));
    EXPECT_TRUE(has(steps, "mknod /dev/null"));
    EXPECT_TRUE(has(steps, "mount tmpfs on /tmp"));
    EXPECT_TRUE(has(steps, "bind /run/sandboxd/jobs/7 on /work"));
    EXPECT_TRUE(has(steps, "write /etc/passwd"));
    EXPECT_FALSE(has(steps, "mount devpts on /dev/pts"));
    // Every target lies under the staging root.
    for (size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(std::string(plan.steps()[i].target).rfind("/stage/", 0), 0u);
    // Binds of the policy are read-only; the workspace is not.
    for (size_t i = 0; i < plan.size(); ++i) {
        const MountStep& s = plan.steps()[i];
        if (s.op != MountStep::Op::bind) continue;
        bool writable = std::string(s.target) == "/stage/work";
        EXPECT_EQ((s.attr & MOUNT_ATTR_RDONLY) == 0, writable) << s.target;
        EXPECT_NE(s.attr & MOUNT_ATTR_NOSUID, 0u);
        EXPECT_NE(s.attr & MOUNT_ATTR_NODEV, 0u);
    }
}

TEST_F(MountPlanTest, LibIsRecreatedAsTheHostHasIt) {
    // Merged-/usr hosts (Debian 12) have /lib -> usr/lib: the jail gets the same symlink;
    // elsewhere /lib is a directory and is bound.
    auto tmpl = compile_jail_template(policy_);
    ASSERT_TRUE(tmpl);
    MountPlan plan(**tmpl, {"/stage", "/ws", 1 << 20, 60000, 60000});
    auto steps = describe_all(plan);
    if (std::filesystem::is_symlink("/lib"))
        EXPECT_TRUE(has(steps, "symlink /lib -> " + std::filesystem::read_symlink("/lib").string()));
    else
        EXPECT_TRUE(has(steps, "bind /lib on /lib"));
}

TEST_F(MountPlanTest, PasswdNamesTheBoxUid) {
    auto tmpl = compile_jail_template(policy_);
    ASSERT_TRUE(tmpl);
    MountPlan plan(**tmpl, {"/stage", "/ws", 1 << 20, 61234, 61234});
    for (size_t i = 0; i < plan.size(); ++i) {
        const MountStep& s = plan.steps()[i];
        if (std::string(s.target) != "/stage/etc/passwd") continue;
        std::string content(s.content, s.content_len);
        EXPECT_NE(content.find("sandbox:x:61234:61234:sandbox:/work:/bin/sh"), std::string::npos) << content;
        return;
    }
    FAIL() << "no /etc/passwd step";
}

TEST_F(MountPlanTest, DevicesAndPtsOnRequest) {
    policy_.filesystem.dev_pts = true;
    policy_.filesystem.dev_shm = true;
    auto tmpl = compile_jail_template(policy_);
    ASSERT_TRUE(tmpl);
    MountPlan plan(**tmpl, {"/stage", "/ws", 1 << 20, 60000, 60000});
    auto steps = describe_all(plan);
    EXPECT_TRUE(has(steps, "mount devpts on /dev/pts"));
    EXPECT_TRUE(has(steps, "symlink /dev/ptmx -> pts/ptmx"));
    EXPECT_TRUE(has(steps, "mount tmpfs on /dev/shm"));
}

TEST_F(MountPlanTest, MissingRequiredBindFailsAtPolicyCompile) {
    policy_.filesystem.binds.push_back({"/nonexistent-sandboxd-path", "/opt/x", false, false});
    auto tmpl = compile_jail_template(policy_);
    ASSERT_FALSE(tmpl);
    EXPECT_NE(tmpl.error().message().find("/nonexistent-sandboxd-path"), std::string::npos);
    policy_.filesystem.binds.back().optional = true;
    EXPECT_TRUE(compile_jail_template(policy_));
}

// A language's own binds (resolved from its [filesystem]) join the policy's, read-only, and are
// left out where the policy already shows the path or where the work directory is.
TEST_F(MountPlanTest, LanguageBindsAreAddedReadOnlyUnlessThePolicyShowsThem) {
    auto tmpl = compile_jail_template(policy_);
    ASSERT_TRUE(tmpl) << tmpl.error().message();
    std::vector<ResolvedBind> extra = {
        {ResolvedBind::Kind::directory, "/var/lib/ghc", "/var/lib/ghc", "", false, false},
        {ResolvedBind::Kind::directory, "/usr/lib/ghc", "/usr/lib/ghc", "", false, false},  // under /usr: shown
        {ResolvedBind::Kind::symlink, "/etc/fpc.cfg", "/etc/fpc.cfg", "/etc/alternatives/fpc.cfg", false, false},
        {ResolvedBind::Kind::directory, "/srv/x", "/work/x", "", false, false},  // the work directory's
    };
    MountPlanInput input{"/stage", "/run/sandboxd/jobs/7", 64 << 20, 60007, 60007, &extra};
    MountPlan plan(**tmpl, input);
    auto steps = describe_all(plan);
    EXPECT_TRUE(has(steps, "bind /var/lib/ghc on /var/lib/ghc"));
    EXPECT_TRUE(has(steps, "mkdir /var/lib"));
    EXPECT_FALSE(has(steps, "bind /usr/lib/ghc on /usr/lib/ghc"));
    EXPECT_TRUE(has(steps, "symlink /etc/fpc.cfg -> /etc/alternatives/fpc.cfg"));
    EXPECT_FALSE(has(steps, "bind /srv/x on /work/x"));
    for (size_t i = 0; i < plan.size(); ++i) {
        const MountStep& s = plan.steps()[i];
        if (s.op == MountStep::Op::bind && std::string(s.target) == "/stage/var/lib/ghc") {
            EXPECT_NE(s.attr & MOUNT_ATTR_RDONLY, 0u);
            EXPECT_NE(s.attr & MOUNT_ATTR_NOSUID, 0u);
        }
    }
    // The language binds come before /proc, /dev and the work directory are mounted.
    auto pos = [&](const std::string& step) { return std::find(steps.begin(), steps.end(), step) - steps.begin(); };
    EXPECT_LT(pos("bind /var/lib/ghc on /var/lib/ghc"), pos("mount proc on /proc"));
}

}  // namespace
}  // namespace sbx::jail
