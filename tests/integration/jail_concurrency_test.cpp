// Jobs running at the same time: all correct, and unable to touch each other.
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <set>
#include <thread>

#include "tests/support/jail_harness.hpp"

namespace sbx::testing {
namespace {

using jail::JobStatus;
using namespace std::chrono_literals;

struct Running {
    std::unique_ptr<jail::Workspace> workspace;
    jail::ExecResult result;
};

TEST(JailConcurrency, FiftyJobsInParallelAllCorrect) {
    auto& h = JailHarness::get();
    boost::asio::io_context io;
    std::vector<Running> jobs(50);
    for (int i = 0; i < 50; ++i) {
        auto ws = h.make_workspace(h.default_template()->box_ids, 1 << 20);
        ASSERT_TRUE(ws) << ws.error().message();
        jobs[i].workspace = std::make_unique<jail::Workspace>(std::move(*ws));
        jail::ExecRequest req;
        req.name = h.next_name();
        // Each job computes from its own stdin and sleeps a little so they overlap.
        req.argv = {"/bin/sh", "-c", "read n; sleep 0.2; echo $((n * n)) $(id -u)"};
        req.stdin_data = std::to_string(i) + "\n";
        req.limits = h.default_limits();
        jail::start_execution(io, h.runtime(), h.default_template(), *jobs[i].workspace, std::move(req),
                              [&jobs, i](jail::ExecResult r) { jobs[i].result = std::move(r); });
    }
    io.run();
    std::set<std::string> uids;
    for (int i = 0; i < 50; ++i) {
        const auto& r = jobs[i].result;
        ASSERT_EQ(r.status, JobStatus::ok) << i << ": " << r.message << r.stderr_data;
        auto space = r.stdout_data.find(' ');
        EXPECT_EQ(r.stdout_data.substr(0, space), std::to_string(i * i));
        uids.insert(r.stdout_data.substr(space + 1));
    }
    EXPECT_EQ(uids.size(), 50u) << "every concurrent job has its own box uid";
}

TEST(JailConcurrency, ConcurrentJobsCannotSignalOrPtraceEachOther) {
    auto& h = JailHarness::get();
    boost::asio::io_context io;
    auto ws_a = h.make_workspace(h.default_template()->box_ids, 1 << 20);
    auto ws_b = h.make_workspace(h.default_template()->box_ids, 1 << 20);
    ASSERT_TRUE(ws_a && ws_b);
    ASSERT_NE(ws_a->uid(), ws_b->uid());

    jail::ExecRequest victim;
    victim.name = h.next_name();
    victim.argv = {"/bin/sh", "-c", "sleep 1.5; echo alive"};
    victim.limits = h.default_limits();
    jail::ExecResult victim_result;
    jail::start_execution(io, h.runtime(), h.default_template(), *ws_a, victim,
                          [&](jail::ExecResult r) { victim_result = std::move(r); });

    // The attacker signals every pid it can find, tries to attach to each with ptrace, and
    // tries kill(-1): only its own namespace's processes may answer.
    jail::ExecRequest attacker;
    attacker.name = h.next_name();
    attacker.argv = {"/usr/bin/python3", "-c", R"(
import ctypes, os, signal, time
time.sleep(0.3)
libc = ctypes.CDLL(None, use_errno=True)
visible = []
for pid in range(1, 1 << 15):
    try:
        os.kill(pid, 0)
        visible.append(pid)
    except ProcessLookupError:
        pass
    except PermissionError:
        visible.append(pid)
attached = [pid for pid in visible if libc.ptrace(16, pid, 0, 0) == 0]
print('visible', visible)
print('attached', attached)
try:
    os.kill(-1, signal.SIGKILL)
except ProcessLookupError:
    pass
print('done')
)"};
    attacker.limits = h.default_limits();
    jail::ExecResult attacker_result;
    jail::start_execution(io, h.runtime(), h.default_template(), *ws_b, attacker,
                          [&](jail::ExecResult r) { attacker_result = std::move(r); });
    io.run();

    EXPECT_EQ(attacker_result.status, JobStatus::ok) << attacker_result.message << attacker_result.stderr_data;
    // Only its own init (1) and itself are visible; no ptrace attach succeeds.
    EXPECT_NE(attacker_result.stdout_data.find("visible [1, 2]"), std::string::npos) << attacker_result.stdout_data;
    EXPECT_NE(attacker_result.stdout_data.find("attached []"), std::string::npos) << attacker_result.stdout_data;
    EXPECT_EQ(victim_result.status, JobStatus::ok) << victim_result.message;
    EXPECT_EQ(victim_result.stdout_data, "alive\n");
}

}  // namespace
}  // namespace sbx::testing
