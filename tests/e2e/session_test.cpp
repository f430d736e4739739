// Stateful sessions end to end: a real daemon, sessions opened and driven through the protocol.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <gtest/gtest.h>
#include <thread>

#include "tests/e2e/daemon_process.hpp"

namespace sbx::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using protocol::ErrorCode;
using protocol::Reply;

// The result of a request, or the error frame it got.
template <class T>
struct Answer {
    std::optional<T> value;
    protocol::ProtocolError error;
};

template <class T>
Answer<T> ask(protocol::Client& client, const protocol::RequestBody& body) {
    Answer<T> a;
    auto reply = client.call(body);
    EXPECT_TRUE(reply) << reply.error().message();
    if (!reply) return a;
    if (reply->kind == Reply::Kind::error) {
        a.error = reply->error;
        return a;
    }
    auto decoded = protocol::decode_result<T>(*reply);
    EXPECT_TRUE(decoded);
    if (decoded) a.value = std::move(*decoded);
    return a;
}

struct SessionClient {
    protocol::Client client;
    std::string owner;

    std::string open(const std::string& language, protocol::SessionOpenRequest req = {}) {
        req.language = language;
        req.owner = owner;
        auto a = ask<protocol::SessionInfo>(client, req);
        EXPECT_TRUE(a.value) << protocol::to_string(a.error.code) << ": " << a.error.message;
        return a.value ? a.value->session_id : "";
    }
    Answer<protocol::SessionInfo> try_open(protocol::SessionOpenRequest req) {
        req.owner = owner;
        return ask<protocol::SessionInfo>(client, req);
    }
    Answer<protocol::SessionExecResult> try_exec(const std::string& id, const std::string& code,
                                                 policy::LimitRequest limits = {}) {
        return ask<protocol::SessionExecResult>(client, protocol::SessionExecRequest{id, owner, code, limits});
    }
    protocol::SessionExecResult exec(const std::string& id, const std::string& code, policy::LimitRequest limits = {}) {
        auto a = try_exec(id, code, limits);
        EXPECT_TRUE(a.value) << protocol::to_string(a.error.code) << ": " << a.error.message;
        return a.value.value_or(protocol::SessionExecResult{});
    }
    std::string value(const std::string& id, const std::string& code) {
        auto r = exec(id, code);
        EXPECT_EQ(r.run.status, "ok") << r.run.message << (r.error ? r.error->traceback : "");
        return r.value.value_or("<none>");
    }
    protocol::SessionListResult list() {
        auto a = ask<protocol::SessionListResult>(client, protocol::SessionListRequest{owner});
        return a.value.value_or(protocol::SessionListResult{});
    }
    Answer<protocol::SessionCloseResult> close(const std::string& id) {
        return ask<protocol::SessionCloseResult>(client, protocol::SessionCloseRequest{id, owner});
    }
};

SessionClient connect(const DaemonProcess& daemon, std::string owner = {}) {
    return SessionClient{daemon.client(), std::move(owner)};
}

std::optional<protocol::SessionInfo> find_session(SessionClient& c, const std::string& id) {
    for (auto& s : c.list().sessions)
        if (s.session_id == id) return s;
    return std::nullopt;
}

TEST(SessionE2E, PythonStateSurvivesAcrossCalls) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    std::string id = c.open("python");
    ASSERT_FALSE(id.empty());
    auto first = c.exec(id, "open('notes.txt', 'w').write('kept')\na = 100\ndef double(x):\n    return 2 * x");
    EXPECT_EQ(first.run.status, "ok");
    EXPECT_EQ(first.value, std::nullopt) << "an assignment shows no value";
    EXPECT_EQ(first.execution_count, 1u);
    auto second = c.exec(id, "print('a is', a)\ndouble(a) + 1");
    EXPECT_EQ(second.run.status, "ok");
    EXPECT_EQ(second.run.stdout_data, "a is 100\n");
    EXPECT_EQ(second.value, "201");
    EXPECT_FALSE(second.state_lost);
    EXPECT_EQ(second.execution_count, 2u);
    EXPECT_EQ(c.value(id, "open('notes.txt').read()"), "'kept'");
    EXPECT_EQ(c.value(id, "_"), "'kept'") << "the last value is kept in _";
    // An exception ends the call with its traceback; the state stays.
    auto failed = c.exec(id, "x = 1\nraise ValueError('bad value')");
    EXPECT_EQ(failed.run.status, "runtime_error");
    ASSERT_TRUE(failed.error);
    EXPECT_EQ(failed.error->name, "ValueError");
    EXPECT_EQ(failed.error->value, "bad value");
    EXPECT_NE(failed.error->traceback.find("<cell 5>"), std::string::npos) << failed.error->traceback;
    EXPECT_EQ(failed.error->traceback.find("python_driver"), std::string::npos) << failed.error->traceback;
    EXPECT_EQ(c.value(id, "a + x"), "101");
    // stdin is empty, and sys.exit() ends the call, not the session.
    EXPECT_EQ(c.exec(id, "input()").error.value_or(protocol::SessionErrorInfo{}).name, "EOFError");
    EXPECT_EQ(c.exec(id, "import sys; sys.exit(3)").error.value_or(protocol::SessionErrorInfo{}).name, "SystemExit");
    EXPECT_EQ(c.value(id, "a"), "100");
    EXPECT_TRUE(c.close(id).value);
    EXPECT_EQ(c.try_exec(id, "a").error.code, ErrorCode::not_found);
}

TEST(SessionE2E, TwoClientsNeverSeeEachOthersVariablesOrFiles) {
    DaemonProcess daemon;
    auto alice = connect(daemon, "alice");
    auto bob = connect(daemon, "bob");
    std::string a = alice.open("python");
    std::string b = bob.open("python");
    alice.exec(a, "secret = 'alice-only'\nopen('/work/secret.txt', 'w').write('x')\nopen('/tmp/secret', 'w').write('x')");
    auto peek = bob.exec(b, "secret");
    EXPECT_EQ(peek.run.status, "runtime_error");
    EXPECT_EQ(peek.error.value_or(protocol::SessionErrorInfo{}).name, "NameError");
    EXPECT_EQ(bob.value(b, "import os\n[os.path.exists(p) for p in ('/work/secret.txt', '/tmp/secret')]"),
              "[False, False]");
    // Other uids, then other processes of the jail: a session sees nothing of the other.
    EXPECT_NE(bob.value(b, "os.getuid()"), alice.value(a, "import os\nos.getuid()"));
    EXPECT_EQ(bob.value(b, "sorted(int(p) for p in os.listdir('/proc') if p.isdigit())"), "[2]")
        << "only the session's own interpreter is visible";
    // Bob cannot use, close or list Alice's session: to him it does not exist.
    EXPECT_EQ(bob.try_exec(a, "secret").error.code, ErrorCode::not_found);
    EXPECT_EQ(bob.close(a).error.code, ErrorCode::not_found);
    auto listed = bob.list();
    ASSERT_EQ(listed.sessions.size(), 1u);
    EXPECT_EQ(listed.sessions[0].session_id, b);
    EXPECT_EQ(listed.open, 2u);
    // Nor can another uid, whatever owner it claims.
    std::string socket = daemon.socket();
    int other_uid = as_nobody([&] {
        auto client = protocol::Client::connect(socket);
        if (!client) return 3;
        auto reply = client->call(protocol::SessionExecRequest{a, "alice", "secret", {}});
        return reply && reply->kind == Reply::Kind::error && reply->error.code == ErrorCode::not_found ? 0 : 1;
    });
    EXPECT_EQ(other_uid, 0);
    EXPECT_EQ(alice.value(a, "secret"), "'alice-only'");
}

TEST(SessionE2E, TimeoutKillsAndReplacesTheInterpreterAndSaysSo) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    std::string id = c.open("python");
    c.exec(id, "a = 1");
    policy::LimitRequest limits;
    limits.wall_time = 1s;
    auto start = std::chrono::steady_clock::now();
    auto timed_out = c.exec(id, "print('before', flush=True)\nwhile True: pass", limits);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(timed_out.run.status, "time_limit");
    EXPECT_TRUE(timed_out.state_lost);
    EXPECT_EQ(timed_out.restarts, 1u);
    EXPECT_EQ(timed_out.run.stdout_data, "before\n");
    EXPECT_NE(timed_out.run.message.find("state is lost"), std::string::npos) << timed_out.run.message;
    // The next call runs in a fresh interpreter: the old variables are gone.
    auto fresh = c.exec(id, "a");
    EXPECT_EQ(fresh.error.value_or(protocol::SessionErrorInfo{}).name, "NameError");
    EXPECT_FALSE(fresh.state_lost) << "the loss was reported once, with the call that caused it";
    EXPECT_EQ(c.value(id, "1 + 1"), "2");
    // A CPU-time limit does the same.
    limits = {};
    limits.cpu_time = 500ms;
    auto cpu = c.exec(id, "while True: pass", limits);
    EXPECT_EQ(cpu.run.status, "time_limit");
    EXPECT_NE(cpu.run.message.find("CPU"), std::string::npos) << cpu.run.message;
    EXPECT_TRUE(cpu.state_lost);
    auto info = find_session(c, id);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->restarts, 2u);
}

TEST(SessionE2E, CrashedInterpreterIsReplacedAndSaysSo) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    std::string id = c.open("python");
    c.exec(id, "a = 1");
    auto crashed = c.exec(id, "import os\nos._exit(7)");
    EXPECT_EQ(crashed.run.status, "runtime_error");
    EXPECT_EQ(crashed.run.exit_code, 7);
    EXPECT_TRUE(crashed.state_lost);
    auto killed = c.exec(id, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)");
    EXPECT_EQ(killed.run.status, "signaled");
    EXPECT_EQ(killed.run.signal, SIGSEGV);
    EXPECT_TRUE(killed.state_lost);
    // Garbage written on the driver's socket by the code is a protocol violation, not a hang.
    auto forged = c.exec(id, "import os, time\n"
                             "for f in os.listdir('/proc/self/fd'):\n"
                             "    try:\n"
                             "        if os.readlink('/proc/self/fd/' + f).startswith('socket:'):\n"
                             "            os.write(int(f), b'not a frame\\n')\n"
                             "    except OSError:\n"
                             "        pass\n"
                             "time.sleep(5)");
    EXPECT_EQ(forged.run.status, "runtime_error");
    EXPECT_TRUE(forged.state_lost);
    EXPECT_EQ(c.value(id, "'a' in dir()"), "False");
}

TEST(SessionE2E, IdleSessionIsFrozenAndReapedAfterItsIdleTimeout) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    protocol::SessionOpenRequest req;
    req.idle_timeout = 3s;
    std::string id = c.open("python", req);
    // A thread that spins forever: only the freezer keeps it from using CPU between calls.
    auto spin = c.exec(id, "import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)], daemon=True).start()");
    EXPECT_EQ(spin.run.status, "ok");
    auto before = find_session(c, id);
    ASSERT_TRUE(before);
    EXPECT_EQ(before->state, "idle");
    std::this_thread::sleep_for(1s);
    auto after = find_session(c, id);
    ASSERT_TRUE(after);
    EXPECT_LT(after->cpu_ms - before->cpu_ms, 50) << "an idle session's CPU time grew";
    // A call thaws it: the spinning thread runs again while the call does.
    auto busy = c.exec(id, "import time\ntime.sleep(0.5)");
    EXPECT_GT(busy.run.cpu_ms, 50) << "the background thread should have run during the call";
    // Reaped once idle for its timeout; its jail and cgroup go with it.
    std::this_thread::sleep_for(4500ms);
    EXPECT_FALSE(find_session(c, id));
    EXPECT_EQ(c.try_exec(id, "1").error.code, ErrorCode::not_found);
    EXPECT_TRUE(daemon.job_cgroups().empty());
    EXPECT_NE(daemon.log().find("was idle for 3s"), std::string::npos);
}

TEST(SessionE2E, MemoryLimitEndsTheCallAndTheNextCallGetsAFreshInterpreter) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    protocol::SessionOpenRequest req;
    req.limits.memory_bytes = 96ull << 20;
    std::string id = c.open("python", req);
    c.exec(id, "kept = 1");
    auto hog = c.exec(id, "x = b'x' * (300 << 20)");
    EXPECT_EQ(hog.run.status, "memory_limit") << hog.run.message;
    EXPECT_TRUE(hog.state_lost);
    auto next = c.exec(id, "kept");
    EXPECT_EQ(next.error.value_or(protocol::SessionErrorInfo{}).name, "NameError");
    EXPECT_EQ(c.value(id, "sum(range(10))"), "45");
}

TEST(SessionE2E, MatplotlibFigureComesBackAsPng) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    std::string id = c.open("python");
    auto r = c.exec(id, "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title('squares')\nplt.show()\n"
                        "fig = plt.figure(figsize=(2, 1))\nplt.bar([1, 2], [3, 4])\nNone");
    ASSERT_EQ(r.run.status, "ok") << r.run.stderr_data << (r.error ? r.error->traceback : "");
    ASSERT_EQ(r.images.size(), 2u) << "one shown, one left open";
    for (const auto& image : r.images) {
        EXPECT_EQ(image.mime, "image/png");
        ASSERT_GT(image.data.size(), 33u);
        EXPECT_EQ(image.data.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
        EXPECT_EQ(image.data.substr(12, 4), "IHDR");
        auto be32 = [&](std::size_t at) {
            return (std::uint32_t(std::uint8_t(image.data[at])) << 24) | (std::uint32_t(std::uint8_t(image.data[at + 1])) << 16) |
                   (std::uint32_t(std::uint8_t(image.data[at + 2])) << 8) | std::uint32_t(std::uint8_t(image.data[at + 3]));
        };
        EXPECT_GT(be32(16), 50u) << "width";
        EXPECT_GT(be32(20), 30u) << "height";
        EXPECT_EQ(image.data.substr(image.data.size() - 8, 4), "IEND");
    }
    EXPECT_TRUE(r.run.stderr_data.empty()) << r.run.stderr_data;
    // Figures are closed once returned: the next call brings none.
    EXPECT_TRUE(c.exec(id, "1").images.empty());
}

TEST(SessionE2E, JavaScriptAndBashKeepStateToo) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    std::string js = c.open("javascript");
    c.exec(js, "var a = 100; let b = 2; const add = (x, y) => x + y;");
    auto r = c.exec(js, "console.log('sum', add(a, b)); ({a, b})");
    EXPECT_EQ(r.run.status, "ok");
    EXPECT_EQ(r.run.stdout_data, "sum 102\n");
    EXPECT_EQ(r.value, "{ a: 100, b: 2 }");
    EXPECT_EQ(c.value(js, "Promise.resolve(a * 3)"), "300");
    auto thrown = c.exec(js, "null.x");
    EXPECT_EQ(thrown.run.status, "runtime_error");
    EXPECT_EQ(thrown.error.value_or(protocol::SessionErrorInfo{}).name, "TypeError");

    std::string sh = c.open("bash");
    c.exec(sh, "x=42; greet() { echo \"hello $1\"; }; cd /tmp; echo 'file' > kept.txt");
    auto out = c.exec(sh, "greet \"$x\"; pwd; cat kept.txt; printf 'tab\\tquote\"\\n'");
    EXPECT_EQ(out.run.status, "ok");
    EXPECT_EQ(out.run.stdout_data, "hello 42\n/tmp\nfile\ntab\tquote\"\n");
    auto failed = c.exec(sh, "false");
    EXPECT_EQ(failed.run.status, "runtime_error");
    EXPECT_EQ(failed.run.exit_code, 1);
    auto exited = c.exec(sh, "exit 4");
    EXPECT_EQ(exited.run.exit_code, 4);
    EXPECT_TRUE(exited.state_lost);
    EXPECT_EQ(c.exec(sh, "echo \"[$x]\"").run.stdout_data, "[]\n");
}

TEST(SessionE2E, CapsOnOpenSessionsAndTheirMemoryAnswerClearErrors) {
    DaemonProcess daemon({.extra_args = {"--max-sessions", "3", "--max-sessions-per-client", "2", "--session-memory",
                                         "700MiB"}});
    auto a = connect(daemon, "a");
    auto b = connect(daemon, "b");
    auto cc = connect(daemon, "c");
    protocol::SessionOpenRequest bash;
    bash.language = "bash";
    ASSERT_FALSE(a.open("bash").empty());
    ASSERT_FALSE(a.open("bash").empty());
    auto third = a.try_open(bash);
    EXPECT_EQ(third.error.code, ErrorCode::too_many_sessions);
    EXPECT_NE(third.error.message.find("the most one client may have"), std::string::npos) << third.error.message;
    auto big = b.try_open(bash);  // 3 x 256 MiB > 700 MiB
    EXPECT_EQ(big.error.code, ErrorCode::session_memory_exhausted);
    EXPECT_NE(big.error.message.find("700MiB"), std::string::npos) << big.error.message;
    protocol::SessionOpenRequest small = bash;
    small.limits.memory_bytes = 128ull << 20;
    ASSERT_TRUE(b.try_open(small).value);
    auto full = cc.try_open(small);
    EXPECT_EQ(full.error.code, ErrorCode::too_many_sessions);
    EXPECT_NE(full.error.message.find("the most it keeps"), std::string::npos) << full.error.message;
    auto listed = a.list();
    EXPECT_EQ(listed.open, 3u);
    EXPECT_EQ(listed.memory_committed_bytes, (256ull + 256 + 128) << 20);
    // Closing one makes room again.
    ASSERT_TRUE(a.close(listed.sessions.at(0).session_id).value);
    EXPECT_TRUE(cc.try_open(small).value);
}

TEST(SessionE2E, RequestsThatCannotBeServedAreRefused) {
    DaemonProcess daemon;
    auto c = connect(daemon);
    protocol::SessionOpenRequest req;
    req.language = "cobol-9000";
    EXPECT_EQ(c.try_open(req).error.code, ErrorCode::unknown_language);
    req.language = "python";
    req.policy = "nope";
    EXPECT_EQ(c.try_open(req).error.code, ErrorCode::unknown_policy);
    req.policy = "";
    req.limits.memory_bytes = 64ull << 30;
    EXPECT_EQ(c.try_open(req).error.code, ErrorCode::limit_exceeded);
    req.limits = {};
    req.idle_timeout = std::chrono::hours(100);
    auto idle = c.try_open(req);
    EXPECT_EQ(idle.error.code, ErrorCode::limit_exceeded);
    EXPECT_NE(idle.error.message.find("idle_timeout"), std::string::npos) << idle.error.message;
    std::string id = c.open("python");
    policy::LimitRequest memory;
    memory.memory_bytes = 1ull << 20;
    EXPECT_EQ(c.try_exec(id, "1", memory).error.code, ErrorCode::invalid_request);
    policy::LimitRequest long_call;
    long_call.wall_time = std::chrono::hours(1);
    EXPECT_EQ(c.try_exec(id, "1", long_call).error.code, ErrorCode::limit_exceeded);
    EXPECT_EQ(c.try_exec("0123456789abcdef0123456789abcdef", "1").error.code, ErrorCode::not_found);
}

TEST(SessionE2E, SessionsDieWithTheDaemonAndARestartCleansUp) {
    DaemonProcess daemon;
    {
        auto c = connect(daemon);
        c.open("python");
        c.open("bash");
    }
    EXPECT_FALSE(daemon.job_cgroups().empty());
    // SIGTERM closes them.
    EXPECT_EQ(daemon.stop(), 0);
    EXPECT_TRUE(daemon.job_cgroups().empty());
    daemon.start();
    {
        auto c = connect(daemon);
        c.open("python");
    }
    daemon.kill9();
    // The jail's init dies with the daemon (PDEATHSIG); its cgroup stays for the next start.
    daemon.start();
    // (The new daemon's own version probes may be running: only session jails count here.)
    for (const auto& left : daemon.job_cgroups())
        EXPECT_NE(fs::path(left).filename().string().front(), 's') << "a session's cgroup was left: " << left;
    EXPECT_NE(daemon.log().find("removed leftover"), std::string::npos);
    auto c = connect(daemon);
    EXPECT_TRUE(c.list().sessions.empty());
}

}  // namespace
}  // namespace sbx::testing
