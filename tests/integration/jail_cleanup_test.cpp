// Nothing outlives a job: backgrounded and double-forked processes die with it, and after many
// jobs (or a job that could not be set up) the counts of mounts, fds, child processes and
// cgroups are what they were.
#include <dirent.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "tests/support/host_inspection.hpp"
#include "tests/support/jail_harness.hpp"

namespace sbx::testing {
namespace {

using jail::JobStatus;
using namespace std::chrono_literals;

TEST(JailCleanup, BackgroundSleepIsGoneWhenTheJobEnds) {
    auto r = JailHarness::get().sh("sleep 987.654 & echo started");
    EXPECT_EQ(r.status, JobStatus::ok) << r.message;
    EXPECT_EQ(r.stdout_data, "started\n");
    EXPECT_LT(r.wall_ms, 1000);
    EXPECT_EQ(processes_with("987.654"), 0);
}

TEST(JailCleanup, SetsidDoubleForkIsGoneWhenTheJobEnds) {
    auto r = JailHarness::get().sh("setsid sh -c 'sleep 876.543 & sleep 876.544 &' < /dev/null > /dev/null 2>&1; "
                                   "nohup sleep 876.545 > /dev/null 2>&1 & echo forked");
    EXPECT_EQ(r.status, JobStatus::ok) << r.message;
    EXPECT_EQ(r.stdout_data, "forked\n");
    EXPECT_EQ(processes_with("876.54"), 0);
}

TEST(JailCleanup, OrphanHoldingStdoutDoesNotKeepTheJobAlive) {
    // The orphan keeps stdout open; the job still ends when its main process exits.
    auto r = JailHarness::get().sh("(sleep 765.432; echo late) & echo early");
    EXPECT_EQ(r.status, JobStatus::ok);
    EXPECT_EQ(r.stdout_data, "early\n");
    EXPECT_LT(r.wall_ms, 1000);
    EXPECT_EQ(processes_with("765.432"), 0);
}

TEST(JailCleanup, TimeLimitKillsEveryProcessOfTheJob) {
    auto l = JailHarness::get().default_limits();
    l.wall_time = 300ms;
    auto r = JailHarness::get().sh("sleep 654.321 & setsid sleep 654.322 & sleep 654.323", {.limits = l});
    EXPECT_EQ(r.status, JobStatus::time_limit);
    EXPECT_EQ(processes_with("654.32"), 0);
}

TEST(JailCleanup, CancelKillsTheJob) {
    auto& h = JailHarness::get();
    auto ws = h.make_workspace(h.default_template()->box_ids, 1 << 20);
    ASSERT_TRUE(ws) << ws.error().message();
    boost::asio::io_context io;
    jail::ExecRequest req;
    req.name = h.next_name();
    req.argv = {"/bin/sleep", "543.21"};
    req.limits = h.default_limits();
    jail::ExecResult result;
    auto exec = jail::start_execution(io, h.runtime(), h.default_template(), *ws, req,
                                      [&](jail::ExecResult r) { result = std::move(r); });
    boost::asio::steady_timer timer(io, 200ms);
    timer.async_wait([&](const boost::system::error_code&) { exec->cancel(); });
    io.run();
    EXPECT_EQ(result.status, JobStatus::cancelled);
    EXPECT_EQ(processes_with("543.21"), 0);
}

TEST(JailCleanup, ThousandJobsLeaveNothingBehind) {
    auto& h = JailHarness::get();
    h.run({"/bin/true"});  // first-use allocations (caches, the event loop's fds) before counting
    ResourceCounts before = count_resources();
    auto io = std::make_unique<boost::asio::io_context>();
    int ok = 0;
    int started = 0;
    std::vector<std::unique_ptr<jail::Workspace>> workspaces;
    // Ten at a time, each with a fresh workspace.
    std::function<void()> start_one = [&] {
        if (started == 1000) return;
        int i = started++;
        auto ws = h.make_workspace(h.default_template()->box_ids, 1 << 20);
        ASSERT_TRUE(ws) << ws.error().message();
        auto owned = std::make_unique<jail::Workspace>(std::move(*ws));
        jail::Workspace& ref = *owned;
        workspaces.push_back(std::move(owned));
        jail::ExecRequest req;
        req.name = h.next_name();
        req.argv = {"/bin/echo", std::to_string(i)};
        req.limits = h.default_limits();
        jail::start_execution(*io, h.runtime(), h.default_template(), ref, std::move(req),
                              [&, i](jail::ExecResult r) {
                                  if (r.status == JobStatus::ok && r.stdout_data == std::to_string(i) + "\n") ++ok;
                                  (void)ref.release();
                                  start_one();
                              });
    };
    for (int i = 0; i < 10; ++i) start_one();
    io->run();
    io.reset();  // its epoll, eventfd and timerfd
    workspaces.clear();
    EXPECT_EQ(ok, 1000);
    ResourceCounts after = count_resources();
    EXPECT_EQ(after.mounts, before.mounts);
    EXPECT_EQ(after.fds, before.fds);
    EXPECT_EQ(after.child_processes, before.child_processes);
    EXPECT_EQ(after.job_cgroups, before.job_cgroups);
    EXPECT_EQ(h.runtime().box_ids.in_use(), 0u);
}

TEST(JailCleanup, JobThatCannotBeSetUpIsInternalErrorAndLeavesNothing) {
    auto& h = JailHarness::get();
    std::string dir = "/run/sandboxd-test-vanishing-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    auto tmpl = h.template_with([&](policy::Policy& p) { p.filesystem.binds.push_back({dir, "/opt/data", false, false}); });
    std::filesystem::remove(dir);  // gone between policy load and job start
    h.run({"/bin/true"});
    ResourceCounts before = count_resources();
    auto r = h.run_with(tmpl, {"/bin/true"});
    EXPECT_EQ(r.status, JobStatus::internal_error);
    EXPECT_NE(r.message.find("bind " + dir + " on /opt/data"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("No such file or directory"), std::string::npos) << r.message;
    EXPECT_EQ(count_resources(), before);
}

TEST(JailCleanup, OptionalBindThatVanishedIsSkipped) {
    auto& h = JailHarness::get();
    std::string dir = "/run/sandboxd-test-optional-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    auto tmpl = h.template_with([&](policy::Policy& p) { p.filesystem.binds.push_back({dir, "/opt/data", false, true}); });
    std::filesystem::remove(dir);
    auto r = h.run_with(tmpl, {"/bin/true"});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message;
}

}  // namespace
}  // namespace sbx::testing
