// sandboxd end to end: a real daemon on a temporary socket, driven through the protocol.
#include <arpa/inet.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "policy/catalog.hpp"
#include "protocol/frame_codec.hpp"
#include "tests/e2e/daemon_process.hpp"

namespace sbx::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using protocol::Reply;

protocol::RunRequest exec(std::vector<std::string> argv) {
    protocol::RunRequest r;
    r.argv = std::move(argv);
    return r;
}

protocol::RunResult run_ok(protocol::Client& client, const protocol::RunRequest& req) {
    auto reply = client.call(req);
    EXPECT_TRUE(reply) << reply.error().message();
    if (!reply) return {};
    EXPECT_EQ(reply->kind, Reply::Kind::result) << reply->error.message;
    auto result = protocol::decode_result<protocol::RunResult>(*reply);
    EXPECT_TRUE(result);
    return result ? *result : protocol::RunResult{};
}

// A raw connection for sending arbitrary bytes.
class RawConnection {
public:
    explicit RawConnection(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        timeval tv{10, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        auto hello = next();
        EXPECT_TRUE(hello && hello->kind == Reply::Kind::hello);
    }
    ~RawConnection() { ::close(fd_); }
    void send_bytes(const std::string& bytes) { ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
    // The next reply, or nullopt at end of stream.
    std::optional<Reply> next() {
        std::string payload;
        for (;;) {
            if (decoder_.next(payload) == protocol::FrameDecoder::Status::frame) {
                auto r = protocol::decode_reply(payload);
                EXPECT_TRUE(r);
                return r ? std::optional<Reply>(*r) : std::nullopt;
            }
            char buf[4096];
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) return std::nullopt;
            decoder_.feed(buf, static_cast<size_t>(n));
        }
    }
    bool closed_by_peer() {
        char c;
        return ::read(fd_, &c, 1) == 0;
    }

private:
    int fd_ = -1;
    protocol::FrameDecoder decoder_{protocol::kDefaultMaxFrame};
};

std::string msgpack_of(const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& write) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    write(pk);
    return std::string(buf.data(), buf.size());
}

TEST(DaemonE2E, SixtyFourClientsTimesTwentyJobsAllCorrect) {
    DaemonProcess daemon({.extra_args = {"--max-jobs", "8", "--max-queue", "2000"}});
    std::atomic<int> correct{0};
    std::vector<std::thread> clients;
    std::vector<std::string> failures(64);
    for (int c = 0; c < 64; ++c) {
        clients.emplace_back([&, c] {
            auto client = protocol::Client::connect(daemon.socket());
            if (!client) {
                failures[c] = client.error().message();
                return;
            }
            for (int j = 0; j < 20; ++j) {
                protocol::RunRequest req = exec({"/bin/sh", "-c", "read x; echo $((x * 3))"});
                req.stdin_data = std::to_string(c * 100 + j) + "\n";
                auto reply = client->call(req);
                if (!reply || reply->kind != Reply::Kind::result) {
                    failures[c] = reply ? reply->error.message : reply.error().message();
                    continue;
                }
                auto r = protocol::decode_result<protocol::RunResult>(*reply);
                if (r && r->run.status == "ok" && r->run.stdout_data == std::to_string((c * 100 + j) * 3) + "\n")
                    ++correct;
                else
                    failures[c] = r ? r->run.status + " " + r->run.message + " " + r->run.stdout_data : "undecodable";
            }
        });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(correct.load(), 64 * 20);
    for (int c = 0; c < 64; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
    EXPECT_TRUE(daemon.job_cgroups().empty());
}

TEST(DaemonE2E, MalformedFramesCloseOnlyThatConnection) {
    DaemonProcess daemon;
    auto good = daemon.client();
    struct Case {
        std::string name;
        std::string bytes;
        std::string code;  // empty: no error frame expected, only the close
    };
    std::string huge_length("\x7f\xff\xff\xff", 4);
    std::vector<Case> cases = {
        {"not msgpack", protocol::encode_frame("\xc1\xc1\xc1"), "malformed_frame"},
        {"not a map", protocol::encode_frame(msgpack_of([](auto& pk) { pk.pack_array(2).pack(1).pack(2); })), "malformed_frame"},
        {"no type", protocol::encode_frame(msgpack_of([](auto& pk) { pk.pack_map(1).pack("id").pack(1); })), "malformed_frame"},
        {"no id", protocol::encode_frame(msgpack_of([](auto& pk) { pk.pack_map(1).pack("type").pack("stats"); })), "malformed_frame"},
        {"wrong field type",
         protocol::encode_frame(msgpack_of([](auto& pk) {
             pk.pack_map(3).pack("type").pack("run").pack("id").pack(7).pack("argv").pack(42);
         })),
         "malformed_frame"},
        {"unknown type",
         protocol::encode_frame(msgpack_of([](auto& pk) { pk.pack_map(2).pack("type").pack("explode").pack("id").pack(3); })),
         "unknown_type"},
        {"trailing bytes",
         protocol::encode_frame(msgpack_of([](auto& pk) { pk.pack_map(2).pack("type").pack("stats").pack("id").pack(4); }) + "x"),
         "malformed_frame"},
        {"oversized", huge_length + "abc", "frame_too_large"},
        {"zero length", std::string(4, '\0'), "frame_too_large"},
        {"truncated", std::string("\0\0\0\x20", 4) + "\x82\xa4type", ""},
    };
    for (const auto& c : cases) {
        RawConnection bad(daemon.socket());
        bad.send_bytes(c.bytes);
        if (c.code.empty()) bad.shutdown_write();
        if (!c.code.empty()) {
            auto reply = bad.next();
            ASSERT_TRUE(reply) << c.name;
            EXPECT_EQ(reply->kind, Reply::Kind::error) << c.name;
            EXPECT_EQ(protocol::to_string(reply->error.code), c.code) << c.name << ": " << reply->error.message;
            EXPECT_FALSE(reply->error.message.empty()) << c.name;
        }
        EXPECT_TRUE(bad.closed_by_peer()) << c.name;
        // Everyone else is still served, on an existing and on a new connection.
        EXPECT_EQ(run_ok(good, exec({"/bin/echo", c.name})).run.stdout_data, c.name + "\n");
        auto fresh = daemon.client();
        EXPECT_EQ(run_ok(fresh, exec({"/bin/true"})).run.status, "ok");
    }
    EXPECT_NE(daemon.log().find("malformed_frame"), std::string::npos);
}

TEST(DaemonE2E, InvalidRequestsGetErrorsAndKeepTheConnection) {
    DaemonProcess daemon;
    auto client = daemon.client();
    auto expect_error = [&](const protocol::RunRequest& req, const std::string& code, const std::string& text) {
        auto reply = client.call(req);
        ASSERT_TRUE(reply);
        ASSERT_EQ(reply->kind, Reply::Kind::error);
        EXPECT_EQ(protocol::to_string(reply->error.code), code);
        EXPECT_NE(reply->error.message.find(text), std::string::npos) << reply->error.message;
    };
    protocol::RunRequest too_much = exec({"/bin/true"});
    too_much.limits.memory_bytes = 4ull << 30;  // the default policy's maximum is 2 GiB
    expect_error(too_much, "limit_exceeded", "memory_limit");
    protocol::RunRequest no_policy = exec({"/bin/true"});
    no_policy.policy = "nonexistent";
    expect_error(no_policy, "unknown_policy", "nonexistent");
    protocol::RunRequest no_lang;
    no_lang.language = "brainfuck";
    no_lang.source = "+";
    expect_error(no_lang, "unknown_language", "brainfuck");
    expect_error(protocol::RunRequest{}, "invalid_request", "language or an argv");
    protocol::RunRequest bad_file = exec({"/bin/true"});
    bad_file.files.push_back({"../escape", "x", false});
    expect_error(bad_file, "invalid_request", "../escape");
    EXPECT_EQ(run_ok(client, exec({"/bin/true"})).run.status, "ok");
}

TEST(DaemonE2E, ManyRequestsInFlightOnOneConnection) {
    DaemonProcess daemon;
    auto client = daemon.client();
    std::map<protocol::RequestId, int> expected;
    for (int i = 0; i < 30; ++i) {
        protocol::RunRequest req = exec({"/bin/sh", "-c", "sleep 0.$((RANDOM % 3)); echo " + std::to_string(i)});
        auto id = client.send(req);
        ASSERT_TRUE(id);
        expected[*id] = i;
    }
    auto stats_id = client.send(protocol::StatsRequest{});
    ASSERT_TRUE(stats_id);
    int results = 0;
    bool stats_seen = false;
    while (results < 30 || !stats_seen) {
        auto reply = client.read_reply();
        ASSERT_TRUE(reply) << reply.error().message();
        if (reply->kind == Reply::Kind::event) continue;
        ASSERT_EQ(reply->kind, Reply::Kind::result) << reply->error.message;
        if (*reply->id == *stats_id) {
            stats_seen = true;
            continue;
        }
        auto r = protocol::decode_result<protocol::RunResult>(*reply);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->run.stdout_data, std::to_string(expected.at(*reply->id)) + "\n");
        ++results;
    }
}

TEST(DaemonE2E, IdAlreadyInFlightIsRefused) {
    DaemonProcess daemon;
    RawConnection raw(daemon.socket());
    raw.send_bytes(protocol::encode_frame(protocol::encode_request({5, exec({"/bin/sleep", "0.5"})})));
    raw.send_bytes(protocol::encode_frame(protocol::encode_request({5, protocol::StatsRequest{}})));
    bool refused = false;
    bool finished = false;
    while (!finished) {
        auto reply = raw.next();
        ASSERT_TRUE(reply);
        ASSERT_EQ(reply->id, 5u);
        if (reply->kind == Reply::Kind::error) {
            EXPECT_EQ(reply->error.code, protocol::ErrorCode::duplicate_id);
            refused = true;
        }
        finished = reply->kind == Reply::Kind::result;
    }
    EXPECT_TRUE(refused);
}

TEST(DaemonE2E, StreamingSendsOutputEventsBeforeTheResult) {
    DaemonProcess daemon;
    auto client = daemon.client();
    protocol::RunRequest req = exec({"/bin/sh", "-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three"});
    req.stream = true;
    std::vector<std::string> events;
    auto reply = client.call(req, [&](const protocol::Event& e) {
        events.push_back(e.event + (e.event == "output" ? ":" + e.stream + ":" + e.data : ""));
    });
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->kind, Reply::Kind::result);
    std::vector<std::string> want = {"accepted", "started", "output:stdout:one\n", "output:stderr:two\n",
                                     "output:stdout:three\n"};
    EXPECT_EQ(events, want);
    auto r = protocol::decode_result<protocol::RunResult>(*reply);
    EXPECT_EQ(r->run.stdout_data, "one\nthree\n");
}

TEST(DaemonE2E, FullQueueAnswersBusyAtOnce) {
    DaemonProcess daemon({.extra_args = {"--max-jobs", "1", "--max-queue", "1"}});
    auto client = daemon.client();
    ASSERT_TRUE(client.send(exec({"/bin/sleep", "2"})));
    ASSERT_TRUE(client.send(exec({"/bin/sleep", "2"})));
    auto other = daemon.client();
    auto t0 = std::chrono::steady_clock::now();
    auto reply = other.call(exec({"/bin/true"}));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->kind, Reply::Kind::error);
    EXPECT_EQ(reply->error.code, protocol::ErrorCode::busy);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(DaemonE2E, CancelByJobId) {
    DaemonProcess daemon;
    auto client = daemon.client();
    auto id = client.send(exec({"/bin/sleep", "432.1"}));
    ASSERT_TRUE(id);
    auto accepted = client.read_reply();
    ASSERT_TRUE(accepted);
    ASSERT_EQ(accepted->event.event, "accepted");
    auto other = daemon.client();
    auto cancel = other.call(protocol::CancelRequest{accepted->event.job_id});
    ASSERT_TRUE(cancel);
    EXPECT_EQ(cancel->kind, Reply::Kind::result);
    for (;;) {
        auto reply = client.read_reply();
        ASSERT_TRUE(reply);
        if (reply->kind == Reply::Kind::event) continue;
        auto r = protocol::decode_result<protocol::RunResult>(*reply);
        EXPECT_EQ(r->run.status, "cancelled");
        break;
    }
    EXPECT_EQ(processes_with("432.1"), 0);
    auto missing = other.call(protocol::CancelRequest{"no-such-job"});
    EXPECT_EQ(missing->error.code, protocol::ErrorCode::not_found);
}

TEST(DaemonE2E, DisconnectMidJobLeavesNoProcessAfterOneSecond) {
    DaemonProcess daemon;
    {
        auto client = daemon.client();
        auto id = client.send(exec({"/bin/sh", "-c", "sleep 321.987 & sleep 321.986"}));
        ASSERT_TRUE(id);
        for (int seen = 0; seen < 2;) {  // accepted, started
            auto e = client.read_reply();
            ASSERT_TRUE(e);
            ++seen;
        }
        std::this_thread::sleep_for(200ms);
        ASSERT_EQ(processes_with("321.98"), 3);  // sh and its two sleeps
    }  // the client goes away here
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(processes_with("321.98"), 0);
    EXPECT_TRUE(daemon.job_cgroups().empty());
    auto client = daemon.client();
    EXPECT_EQ(run_ok(client, exec({"/bin/true"})).run.status, "ok");
}

// A copy of the shipped policies plus one that the unprivileged user `nobody` may use.
std::string policies_with_nobody(const std::string& dir) {
    fs::create_directories(dir);
    for (const auto& f : fs::directory_iterator(policy::source_tree_policy_dir() / "policies"))
        fs::copy_file(f.path(), dir + "/" + f.path().filename().string());
    std::ifstream in(dir + "/default.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    text.replace(text.find("name = \"default\""), 16, "name = \"open\"");
    text.replace(text.find("users = [\"root\"]"), 16, "users = [\"nobody\"]");
    std::ofstream(dir + "/open.toml") << text;
    return dir;
}

TEST(DaemonE2E, UidNotAllowedByThePolicyIsRefused) {
    std::string dir = "/tmp/sandboxd-e2e-policies-" + std::to_string(getpid());
    DaemonProcess daemon({.policies_dir = policies_with_nobody(dir)});
    std::string socket = daemon.socket();
    // 0: refused with forbidden, 1: ran, 2: other
    auto attempt = [&](const std::string& policy_name) {
        return as_nobody([&] {
            auto client = protocol::Client::connect(socket);
            if (!client) return 3;
            protocol::RunRequest req;
            req.argv = {"/bin/true"};
            req.policy = policy_name;
            auto reply = client->call(req);
            if (!reply) return 4;
            if (reply->kind == Reply::Kind::error) return reply->error.code == protocol::ErrorCode::forbidden ? 0 : 2;
            return 1;
        });
    };
    EXPECT_EQ(attempt("default"), 0);
    EXPECT_EQ(attempt("open"), 1);
    int reload = as_nobody([&] {
        auto client = protocol::Client::connect(socket);
        auto reply = client->call(protocol::ReloadRequest{});
        return reply && reply->kind == Reply::Kind::error && reply->error.code == protocol::ErrorCode::forbidden ? 0 : 1;
    });
    EXPECT_EQ(reload, 0);
    // `policies` lists only what the caller may use.
    int listed = as_nobody([&] {
        auto client = protocol::Client::connect(socket);
        auto reply = client->call(protocol::PoliciesRequest{});
        auto r = protocol::decode_result<protocol::PoliciesResult>(*reply);
        return r && r->policies.size() == 1 && r->policies[0].name == "open" ? 0 : 1;
    });
    EXPECT_EQ(listed, 0);
    fs::remove_all(dir);
}

TEST(DaemonE2E, SighupWithABrokenPolicyKeepsTheOldSet) {
    std::string dir = "/tmp/sandboxd-e2e-reload-" + std::to_string(getpid());
    DaemonProcess daemon({.policies_dir = policies_with_nobody(dir)});
    auto client = daemon.client();
    auto names = [&] {
        auto r = protocol::decode_result<protocol::PoliciesResult>(*client.call(protocol::PoliciesRequest{}));
        std::vector<std::string> out;
        for (const auto& p : r->policies) out.push_back(p.name);
        return out;
    };
    EXPECT_EQ(names(), (std::vector<std::string>{"default", "open"}));
    std::ofstream(dir + "/broken.toml") << "name = \"broken\"\n[limits]\nmemroy = \"1GiB\"\n";
    std::ofstream(dir + "/extra.toml") << "name = \"extra\"\n";
    daemon.signal(SIGHUP);
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(names(), (std::vector<std::string>{"default", "open"}));
    EXPECT_NE(daemon.log().find("broken.toml:3: unknown key 'memroy'"), std::string::npos) << daemon.log();
    EXPECT_EQ(run_ok(client, exec({"/bin/true"})).run.status, "ok");
    // The reload request says what is wrong too; once fixed, the new set is in force.
    auto reply = client.call(protocol::ReloadRequest{});
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->error.code, protocol::ErrorCode::reload_failed);
    EXPECT_NE(reply->error.message.find("broken.toml:3"), std::string::npos);
    fs::remove(dir + "/broken.toml");
    daemon.signal(SIGHUP);
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(names(), (std::vector<std::string>{"default", "extra", "open"}));
    fs::remove_all(dir);
}

TEST(DaemonE2E, KillNineDuringLoadThenRestartRemovesEveryLeftover) {
    DaemonProcess daemon;
    std::vector<std::thread> load;
    for (int i = 0; i < 4; ++i) {
        load.emplace_back([&, i] {
            auto client = protocol::Client::connect(daemon.socket());
            if (!client) return;
            for (int j = 0; j < 3; ++j)
                (void)client->send(exec({"/bin/sh", "-c", "sleep 210.0" + std::to_string(i) + " & sleep 210.1"}));
            for (;;)
                if (!client->read_reply()) return;  // until the daemon dies
        });
    }
    std::this_thread::sleep_for(700ms);
    auto leftovers = daemon.job_cgroups();
    ASSERT_FALSE(leftovers.empty());
    std::vector<std::string> workspaces;
    for (const auto& e : fs::directory_iterator(daemon.runtime_dir() + "/jobs")) workspaces.push_back(e.path());
    ASSERT_FALSE(workspaces.empty());
    daemon.kill9();
    for (auto& t : load) t.join();
    std::this_thread::sleep_for(300ms);
    // The jails die with the daemon (their supervisors have it as parent-death signal); their
    // cgroups stay until the next start removes them.
    EXPECT_EQ(processes_with("210.0"), 0);
    EXPECT_FALSE(daemon.job_cgroups().empty());
    daemon.start();
    // (The restarted daemon's own first jails, its language version probes, may be running.)
    for (const auto& path : leftovers) EXPECT_FALSE(fs::exists(path)) << path << "\n" << daemon.log();
    for (const auto& path : workspaces) EXPECT_FALSE(fs::exists(path)) << path;
    EXPECT_NE(daemon.log().find("removed leftover of an earlier run: cgroup"), std::string::npos) << daemon.log();
    EXPECT_EQ(processes_with("210.1"), 0);
    auto client = daemon.client();
    EXPECT_EQ(run_ok(client, exec({"/bin/true"})).run.status, "ok");
}

TEST(DaemonE2E, SigtermFinishesRunningJobsAndRemovesTheSocket) {
    DaemonProcess daemon({.extra_args = {"--shutdown-grace", "5"}});
    auto client = daemon.client();
    auto id = client.send(exec({"/bin/sh", "-c", "sleep 0.5; echo finished"}));
    ASSERT_TRUE(id);
    std::this_thread::sleep_for(100ms);
    daemon.signal(SIGTERM);
    protocol::RunResult result;
    for (;;) {
        auto reply = client.read_reply();
        ASSERT_TRUE(reply) << reply.error().message();
        if (reply->kind == Reply::Kind::event) continue;
        result = *protocol::decode_result<protocol::RunResult>(*reply);
        break;
    }
    EXPECT_EQ(result.run.stdout_data, "finished\n");
    EXPECT_EQ(daemon.stop(), 0);
    EXPECT_FALSE(fs::exists(daemon.socket()));
    EXPECT_TRUE(daemon.job_cgroups().empty());
}

TEST(DaemonE2E, JsonLogsHaveOneObjectPerJob) {
    DaemonProcess daemon({.extra_args = {"--log-format", "json"}});
    auto client = daemon.client();
    run_ok(client, exec({"/bin/true"}));
    daemon.stop();
    std::string log = daemon.log();
    auto pos = log.find("\"event\":\"job\"");
    ASSERT_NE(pos, std::string::npos) << log;
    auto start = log.rfind('\n', pos);
    auto end = log.find('\n', pos);
    auto line = nlohmann::json::parse(log.substr(start == std::string::npos ? 0 : start + 1, end - start - 1));
    EXPECT_EQ(line["status"], "ok");
    EXPECT_EQ(line["uid"], 0);
    EXPECT_EQ(line["policy"], "default");
    EXPECT_TRUE(line.contains("wall_ms") && line.contains("cpu_ms") && line.contains("memory_peak_bytes"));
}

}  // namespace
}  // namespace sbx::testing
