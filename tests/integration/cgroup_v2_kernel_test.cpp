// The cgroup v2 backend on the kernel's unified hierarchy. On hosts whose v2 hierarchy has the
// memory, pids and cpu controllers, the whole integration suite already runs on v2 (the
// harness picks it); this test also covers hosts like the development machines, where the
// unified hierarchy exists without controllers: creating a job cgroup, cloning a process
// straight into it, killing everything in it (a double-forked grandchild included) and
// removing it all work for real there.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

#include "daemon/jail/cgroup_discovery.hpp"
#include "daemon/jail/cgroup_fs.hpp"
#include "daemon/jail/cgroup_v2.hpp"
#include "tests/support/jail_harness.hpp"

namespace sbx::jail {
namespace {

using namespace std::chrono_literals;

std::string own_unified_dir() {
    auto layout = read_cgroup_layout();
    if (!layout) return {};
    for (const auto& m : layout->memberships) {
        if (!m.controllers.empty()) continue;
        for (const auto& mount : layout->mounts)
            if (mount.unified)
                if (auto dir = cgroup_dir_in_mount(mount, m.path)) return *dir;
    }
    return {};
}

std::string unified_cgroup_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("0::", 0) == 0) return line.substr(3);
    return {};
}

TEST(CgroupV2Kernel, CloneIntoKillAndRemoveOnTheUnifiedHierarchy) {
    std::string own = own_unified_dir();
    ASSERT_FALSE(own.empty()) << "this kernel has no cgroup2 mount; sandboxd needs one for the v2 backend";
    std::string subtree = "sandboxd-v2test-" + std::to_string(getpid());
    // No controllers required: this exercises what v2 does without them.
    auto backend = open_cgroup_v2({own, subtree, {}});
    ASSERT_TRUE(backend) << backend.error().message();
    auto job = (*backend)->create_job("j1");
    ASSERT_TRUE(job) << job.error().message();
    ASSERT_GE((*job)->clone_into_fd(), 0);

    int ready[2];
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>((*job)->clone_into_fd());
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    ASSERT_GE(pid, 0) << strerror(errno);
    if (pid == 0) {
        // A grandchild that leaves its parent, then both wait to be killed.
        if (fork() == 0) {
            setsid();
            pid_t middle = getpid();
            if (fork() == 0) {
                while (getppid() == middle) usleep(1000);  // until its parent is gone
                (void)!write(ready[1], "g", 1);
                pause();
            }
            _exit(0);
        }
        pause();
        _exit(0);
    }
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    std::string path = (*job)->path();
    std::string member = unified_cgroup_of(static_cast<pid_t>(pid));
    EXPECT_TRUE(member.size() > 12 && member.compare(member.size() - subtree.size() - 8, std::string::npos,
                                                     subtree + "/jobs/j1") == 0)
        << member;
    EXPECT_NE(path.find(subtree + "/jobs/j1"), std::string::npos);
    {
        auto fd = cgfs::open_dir(path);
        ASSERT_TRUE(fd);
        auto procs = cgfs::read_file(fd->get(), path, "cgroup.procs");
        ASSERT_TRUE(procs);
        EXPECT_EQ(cgfs::parse_pids(*procs).size(), 2u) << *procs;  // the child and the grandchild
    }

    ASSERT_TRUE((*job)->kill_all());
    int status = 0;
    ASSERT_EQ(waitpid(static_cast<pid_t>(pid), &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ASSERT_TRUE((*job)->remove());
    EXPECT_NE(access(path.c_str(), F_OK), 0);
    EXPECT_TRUE((*backend)->remove_subtree());
    EXPECT_NE(access((own + "/" + subtree).c_str(), F_OK), 0);
}

TEST(CgroupV2Kernel, HarnessReportsTheBackendItRunsOn) {
    auto& runtime = sbx::testing::JailHarness::get().runtime();
    std::string name(runtime.cgroups->name());
    ::testing::Test::RecordProperty("cgroup_backend", name);
    EXPECT_TRUE(name == "cgroup v1" || name == "cgroup v2");
    std::cout << "integration tests run on " << name << "\n";
}

}  // namespace
}  // namespace sbx::jail
