// The blocking and the asynchronous client against a scripted fake server on a Unix socket.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include "protocol/async_client.hpp"
#include "protocol/client.hpp"
#include "protocol_samples.hpp"

namespace sbx::protocol {
namespace {

constexpr int kTimeoutMs = 5000;

// The server's end of one connection, driven by a test script on the server thread.
class FakePeer {
public:
    explicit FakePeer(UniqueFd fd) : fd_(std::move(fd)) {}

    // The next request, or nothing when the client closed the connection (or after a timeout).
    std::optional<Request> read_request() {
        std::string payload;
        std::array<char, 4096> buffer{};
        for (;;) {
            const auto status = decoder_.next(payload);
            if (status == FrameDecoder::Status::frame) {
                auto request = decode_request(payload);
                EXPECT_TRUE(request.ok()) << request.error().message;
                if (!request) return std::nullopt;
                return *request;
            }
            EXPECT_EQ(status, FrameDecoder::Status::need_more);
            if (status != FrameDecoder::Status::need_more) return std::nullopt;
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, kTimeoutMs) != 1) {
                ADD_FAILURE() << "the fake server timed out waiting for a request";
                return std::nullopt;
            }
            const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
            if (n <= 0) return std::nullopt;
            decoder_.feed(buffer.data(), static_cast<std::size_t>(n));
        }
    }

    Request expect_request() {
        auto request = read_request();
        EXPECT_TRUE(request.has_value()) << "the client sent no request";
        return request.value_or(Request{});
    }

    void send_raw(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return;  // the client went away; the test's assertions say what that means
            done += static_cast<std::size_t>(n);
        }
    }
    void send(const std::string& payload) { send_raw(encode_frame(payload)); }
    void close() { fd_.reset(); }

private:
    UniqueFd fd_;
    FrameDecoder decoder_{kDefaultMaxFrame};
};

ServerHello test_hello() {
    ServerHello hello;
    hello.server = "fake-sandboxd 9.9";
    hello.capabilities = {"run", "stream", "cancel"};
    hello.max_frame = 1u << 20;
    hello.max_inflight = 8;
    return hello;
}

// Listens on a socket in a fresh temporary directory; accepts one connection, sends the hello
// (unless told otherwise), then runs the script. The destructor waits for the script to end.
class FakeServer {
public:
    explicit FakeServer(std::function<void(FakePeer&)> script, bool send_hello = true) {
        char dir[] = "/tmp/sandboxd-protocol-test-XXXXXX";
        if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = dir;
        path_ = dir_ + "/sandboxd.sock";
        listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
        if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
            ::listen(listener_.get(), 4) != 0)
            throw std::runtime_error("bind/listen failed");
        thread_ = std::thread([this, script = std::move(script), send_hello] {
            pollfd p{listener_.get(), POLLIN, 0};
            if (::poll(&p, 1, kTimeoutMs) != 1) return;  // no client came
            FakePeer peer(UniqueFd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC)));
            if (send_hello) peer.send(encode_hello(test_hello()));
            script(peer);
        });
    }
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;
    ~FakeServer() {
        if (thread_.joinable()) thread_.join();
        listener_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    const std::string& path() const { return path_; }

private:
    std::string dir_;
    std::string path_;
    UniqueFd listener_;
    std::thread thread_;
};

Event event(const std::string& name, const std::string& job_id = "j-1") {
    Event e;
    e.event = name;
    e.job_id = job_id;
    return e;
}

Event output(const std::string& stream, const std::string& data) {
    Event e;
    e.event = "output";
    e.stage = "run";
    e.stream = stream;
    e.data = data;
    return e;
}

RunResult run_result(const std::string& job_id, const std::string& out) {
    RunResult r;
    r.job_id = job_id;
    r.policy = "default";
    r.language = "python";
    r.run.status = "ok";
    r.run.stdout_data = out;
    return r;
}

// ---- blocking client -------------------------------------------------------------------------

TEST(Client, ConnectReadsTheHello) {
    FakeServer server([](FakePeer&) {});
    auto client = Client::connect(server.path());
    ASSERT_TRUE(client.ok()) << client.error().message();
    EXPECT_EQ(samples::tie(client->hello()), samples::tie(test_hello()));
}

TEST(Client, CallPassesEventsInOrderThenReturnsTheResult) {
    FakeServer server([](FakePeer& peer) {
        const Request request = peer.expect_request();
        ASSERT_TRUE(std::holds_alternative<RunRequest>(request.body));
        const auto& run = std::get<RunRequest>(request.body);
        EXPECT_EQ(run.language, "python");
        EXPECT_EQ(run.source, "print('hi')");
        EXPECT_TRUE(run.stream);
        Event accepted = event("accepted", "j-7");
        accepted.queue_position = 2;
        peer.send(encode_event(request.id, accepted));
        Event started = event("started", "j-7");
        started.stage = "run";
        peer.send(encode_event(request.id, started));
        peer.send(encode_event(request.id, output("stdout", "hi\n")));
        peer.send(encode_event(request.id, output("stderr", "warn\n")));
        peer.send(encode_result(request.id, run_result("j-7", "hi\n")));
    });
    auto client = Client::connect(server.path());
    ASSERT_TRUE(client.ok()) << client.error().message();
    RunRequest run;
    run.language = "python";
    run.source = "print('hi')";
    run.stream = true;
    std::vector<Event> events;
    auto reply = client->call(run, [&](const Event& e) { events.push_back(e); });
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    ASSERT_EQ(reply->kind, Reply::Kind::result);
    auto result = decode_result<RunResult>(*reply);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->job_id, "j-7");
    EXPECT_EQ(result->run.stdout_data, "hi\n");
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].event, "accepted");
    EXPECT_EQ(events[0].queue_position, 2u);
    EXPECT_EQ(events[1].event, "started");
    EXPECT_EQ(events[1].stage, "run");
    EXPECT_EQ(events[2].stream, "stdout");
    EXPECT_EQ(events[2].data, "hi\n");
    EXPECT_EQ(events[3].stream, "stderr");
}

TEST(Client, SeveralInFlightAnsweredOutOfOrder) {
    FakeServer server([](FakePeer& peer) {
        const Request a = peer.expect_request();
        const Request b = peer.expect_request();
        const Request c = peer.expect_request();
        EXPECT_TRUE(std::holds_alternative<StatsRequest>(a.body));
        EXPECT_TRUE(std::holds_alternative<LanguagesRequest>(b.body));
        EXPECT_TRUE(std::holds_alternative<CancelRequest>(c.body));
        peer.send(encode_result(c.id, CancelResult{true}));
        peer.send(encode_error(b.id, ErrorCode::busy, "queue full"));
        peer.send(encode_result(a.id, samples::full_stats()));
    });
    auto client = Client::connect(server.path());
    ASSERT_TRUE(client.ok()) << client.error().message();
    auto a = client->send(StatsRequest{});
    auto b = client->send(LanguagesRequest{});
    auto c = client->send(CancelRequest{"j-1"});
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_NE(*a, *b);
    EXPECT_NE(*b, *c);

    auto first = client->read_reply();
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_EQ(first->id, *c);
    EXPECT_TRUE(decode_result<CancelResult>(*first)->cancelled);
    auto second = client->read_reply();
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->id, *b);
    EXPECT_EQ(second->kind, Reply::Kind::error);
    EXPECT_EQ(second->error.code, ErrorCode::busy);
    auto third = client->read_reply();
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(third->id, *a);
    EXPECT_EQ(samples::tie(*decode_result<StatsResult>(*third)), samples::tie(samples::full_stats()));
}

TEST(Client, ErrorFramesAreRepliesOfKindError) {
    FakeServer server([](FakePeer& peer) {
        const Request r = peer.expect_request();
        peer.send(encode_error(r.id, ErrorCode::forbidden, "only root may reload"));
    });
    auto client = Client::connect(server.path());
    ASSERT_TRUE(client.ok());
    auto reply = client->call(ReloadRequest{});
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    EXPECT_EQ(reply->kind, Reply::Kind::error);
    EXPECT_EQ(reply->error.code, ErrorCode::forbidden);
    EXPECT_EQ(reply->error.message, "only root may reload");
}

TEST(Client, ServerClosingMidRequestIsAnError) {
    FakeServer server([](FakePeer& peer) {
        const Request r = peer.expect_request();
        peer.send(encode_event(r.id, event("accepted")));
        peer.close();
    });
    auto client = Client::connect(server.path());
    ASSERT_TRUE(client.ok());
    int events = 0;
    auto reply = client->call(RunRequest{}, [&](const Event&) { ++events; });
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(events, 1);
    EXPECT_NE(reply.error().message().find("closed the connection"), std::string::npos) << reply.error().message();
}

TEST(Client, ServerClosingMidFrameIsAnError) {
    FakeServer server([](FakePeer& peer) {
        const Request r = peer.expect_request();
        const std::string frame = encode_frame(encode_result(r.id, CancelResult{true}));
        peer.send_raw(frame.substr(0, frame.size() - 2));
        peer.close();
    });
    auto client = Client::connect(server.path());
    ASSERT_TRUE(client.ok());
    auto reply = client->call(CancelRequest{"j-1"});
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.error().message().find("in the middle of a frame"), std::string::npos) << reply.error().message();
}

TEST(Client, ConnectFailures) {
    auto missing = Client::connect("/nonexistent/sandboxd.sock");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().errnum, ENOENT);
    EXPECT_NE(missing.error().message().find("/nonexistent/sandboxd.sock"), std::string::npos);

    auto too_long = Client::connect("/" + std::string(200, 'x'));
    ASSERT_FALSE(too_long.ok());

    FakeServer rude([](FakePeer& peer) { peer.send(encode_result(1, CancelResult{})); }, /*send_hello=*/false);
    auto no_hello = Client::connect(rude.path());
    ASSERT_FALSE(no_hello.ok());
    EXPECT_NE(no_hello.error().message().find("did not start with a hello"), std::string::npos);

    FakeServer refusing([](FakePeer& peer) { peer.send(encode_error(std::nullopt, ErrorCode::forbidden, "go away")); },
                        /*send_hello=*/false);
    auto refused = Client::connect(refusing.path());
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("forbidden: go away"), std::string::npos) << refused.error().message();
}

TEST(Client, DefaultSocketPath) {
    const char* old = std::getenv("SANDBOXD_SOCKET");
    const std::optional<std::string> saved = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
    ::unsetenv("SANDBOXD_SOCKET");
    EXPECT_EQ(default_socket_path(), "/run/sandboxd/sandboxd.sock");
    ::setenv("SANDBOXD_SOCKET", "/tmp/other.sock", 1);
    EXPECT_EQ(default_socket_path(), "/tmp/other.sock");
    if (saved)
        ::setenv("SANDBOXD_SOCKET", saved->c_str(), 1);
    else
        ::unsetenv("SANDBOXD_SOCKET");
}

// ---- asynchronous client ---------------------------------------------------------------------

struct Outcome {
    std::optional<Result<Reply>> reply;
    std::vector<Event> events;
};

TEST(AsyncClient, ManyInFlightAnsweredOutOfOrderWithEventsInterleaved) {
    FakeServer server([](FakePeer& peer) {
        const Request a = peer.expect_request();
        const Request b = peer.expect_request();
        const Request c = peer.expect_request();
        peer.send(encode_event(b.id, event("accepted", "j-b")));
        peer.send(encode_result(c.id, samples::full_languages()));
        peer.send(encode_event(a.id, event("accepted", "j-a")));
        peer.send(encode_event(b.id, output("stdout", "from b")));
        peer.send(encode_error(b.id, ErrorCode::limit_exceeded, "too much"));
        peer.send(encode_event(a.id, output("stdout", "from a")));
        peer.send(encode_result(a.id, run_result("j-a", "from a")));
        // Then the server waits for the client to hang up.
        EXPECT_FALSE(peer.read_request().has_value());
    });
    boost::asio::io_context io;
    std::shared_ptr<AsyncClient> client;
    std::map<std::string, Outcome> outcomes;
    std::map<std::string, RequestId> ids;
    int finished = 0;
    auto track = [&](const std::string& name) {
        return std::pair{[&, name](Result<Reply> r) {
                             outcomes[name].reply = std::move(r);
                             if (++finished == 3) client->close();
                         },
                         [&, name](const Event& e) { outcomes[name].events.push_back(e); }};
    };
    AsyncClient::connect(io, server.path(), [&](Result<std::shared_ptr<AsyncClient>> connected) {
        ASSERT_TRUE(connected.ok()) << connected.error().message();
        client = *connected;
        EXPECT_EQ(samples::tie(client->hello()), samples::tie(test_hello()));
        EXPECT_TRUE(client->is_open());
        for (const std::string name : {"a", "b", "c"}) {
            auto [on_reply, on_event] = track(name);
            RequestBody body = name == "c" ? RequestBody{LanguagesRequest{}} : RequestBody{RunRequest{}};
            ids[name] = client->call(body, on_reply, on_event);
        }
        EXPECT_EQ(client->pending(), 3u);
    });
    io.run_for(std::chrono::seconds(10));
    ASSERT_EQ(finished, 3);
    EXPECT_EQ(client->pending(), 0u);
    EXPECT_FALSE(client->is_open());

    const auto& a = outcomes["a"];
    ASSERT_TRUE(a.reply->ok()) << a.reply->error().message();
    EXPECT_EQ((*a.reply)->id, ids["a"]);
    EXPECT_EQ(decode_result<RunResult>(**a.reply)->run.stdout_data, "from a");
    ASSERT_EQ(a.events.size(), 2u);
    EXPECT_EQ(a.events[0].job_id, "j-a");
    EXPECT_EQ(a.events[1].data, "from a");

    const auto& b = outcomes["b"];
    ASSERT_TRUE(b.reply->ok());
    EXPECT_EQ((*b.reply)->kind, Reply::Kind::error);
    EXPECT_EQ((*b.reply)->error.code, ErrorCode::limit_exceeded);
    ASSERT_EQ(b.events.size(), 2u);
    EXPECT_EQ(b.events[1].data, "from b");

    const auto& c = outcomes["c"];
    ASSERT_TRUE(c.reply->ok());
    samples::expect_same(*decode_result<LanguagesResult>(**c.reply), samples::full_languages());
    EXPECT_TRUE(c.events.empty());
}

TEST(AsyncClient, ServerClosingMidRequestFailsEveryPendingCall) {
    FakeServer server([](FakePeer& peer) {
        const Request a = peer.expect_request();
        peer.expect_request();
        peer.send(encode_event(a.id, event("accepted")));
        peer.close();
    });
    boost::asio::io_context io;
    std::shared_ptr<AsyncClient> client;
    std::vector<Result<Reply>> replies;
    int events = 0;
    std::optional<Result<Reply>> late;
    AsyncClient::connect(io, server.path(), [&](Result<std::shared_ptr<AsyncClient>> connected) {
        ASSERT_TRUE(connected.ok());
        client = *connected;
        for (int i = 0; i < 2; ++i) {
            client->call(
                RunRequest{},
                [&](Result<Reply> r) {
                    replies.push_back(std::move(r));
                    if (replies.size() == 2) {
                        // A call on the closed connection fails too, from the io_context.
                        client->call(StatsRequest{}, [&](Result<Reply> r2) { late = std::move(r2); });
                        EXPECT_FALSE(late.has_value());
                    }
                },
                [&](const Event&) { ++events; });
        }
    });
    io.run_for(std::chrono::seconds(10));
    ASSERT_EQ(replies.size(), 2u);
    for (const auto& r : replies) {
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().message().find("closed the connection"), std::string::npos) << r.error().message();
    }
    EXPECT_EQ(events, 1);
    ASSERT_TRUE(late.has_value());
    EXPECT_FALSE(late->ok());
    EXPECT_FALSE(client->is_open());
    EXPECT_EQ(client->pending(), 0u);
}

TEST(AsyncClient, ConnectionLevelErrorReachesEveryPendingCall) {
    FakeServer server([](FakePeer& peer) {
        peer.expect_request();
        peer.expect_request();
        peer.send(encode_error(std::nullopt, ErrorCode::malformed_frame, "bad frame"));
        peer.close();
    });
    boost::asio::io_context io;
    std::map<RequestId, Result<Reply>> replies;
    AsyncClient::connect(io, server.path(), [&](Result<std::shared_ptr<AsyncClient>> connected) {
        ASSERT_TRUE(connected.ok());
        auto client = *connected;
        for (int i = 0; i < 2; ++i) {
            auto id = std::make_shared<RequestId>();
            *id = client->call(StatsRequest{}, [&replies, id](Result<Reply> r) { replies.emplace(*id, std::move(r)); });
        }
    });
    io.run_for(std::chrono::seconds(10));
    ASSERT_EQ(replies.size(), 2u);
    for (const auto& [id, r] : replies) {
        ASSERT_TRUE(r.ok()) << r.error().message();
        EXPECT_EQ(r->kind, Reply::Kind::error);
        EXPECT_EQ(r->error.code, ErrorCode::malformed_frame);
        EXPECT_EQ(r->id, id);
    }
}

TEST(AsyncClient, CloseFailsPendingCalls) {
    FakeServer server([](FakePeer& peer) {
        peer.expect_request();
        EXPECT_FALSE(peer.read_request().has_value());  // the client hangs up
    });
    boost::asio::io_context io;
    std::optional<Result<Reply>> reply;
    AsyncClient::connect(io, server.path(), [&](Result<std::shared_ptr<AsyncClient>> connected) {
        ASSERT_TRUE(connected.ok());
        auto client = *connected;
        client->call(RunRequest{}, [&](Result<Reply> r) { reply = std::move(r); });
        client->close();
        EXPECT_FALSE(client->is_open());
    });
    io.run_for(std::chrono::seconds(10));
    ASSERT_TRUE(reply.has_value());
    ASSERT_FALSE(reply->ok());
    EXPECT_NE(reply->error().message().find("closed by the client"), std::string::npos);
}

TEST(AsyncClient, ConnectFailure) {
    boost::asio::io_context io;
    std::optional<Result<std::shared_ptr<AsyncClient>>> outcome;
    AsyncClient::connect(io, "/nonexistent/sandboxd.sock",
                         [&](Result<std::shared_ptr<AsyncClient>> r) { outcome = std::move(r); });
    io.run_for(std::chrono::seconds(10));
    ASSERT_TRUE(outcome.has_value());
    ASSERT_FALSE(outcome->ok());
    EXPECT_EQ(outcome->error().errnum, ENOENT);
}

}  // namespace
}  // namespace sbx::protocol
