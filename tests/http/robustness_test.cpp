// What a public service must survive: clients that leave mid-job, huge bodies, many keep-alive
// connections, SIGTERM with requests in flight, a daemon restart; and that it runs unprivileged.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "tests/http/http_fixture.hpp"

namespace sbx::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Robustness = AnonymousProxy;

int raw_connect(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

TEST_F(Robustness, RunsAsTheUnprivilegedUser) {
    passwd* pw = getpwnam("sandbox-http");
    ASSERT_NE(pw, nullptr) << "run scripts/install-deps.sh";
    EXPECT_EQ(proxy_->uid(), static_cast<long>(pw->pw_uid));
    std::ifstream status("/proc/" + std::to_string(proxy_->pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("CapEff:", 0) == 0 || line.rfind("CapPrm:", 0) == 0) {
            EXPECT_NE(line.find("0000000000000000"), std::string::npos) << line;
        }
        if (line.rfind("NoNewPrivs:", 0) == 0) {
            EXPECT_NE(line.find("1"), std::string::npos) << line;
        }
    }
}

TEST(ProxyStartUp, RefusesRootWithoutUserAndContradictoryOptions) {
    auto root = ProxyProcess::start_only(ProxyOptions{"/nonexistent.sock", {"--anonymous"}, "", ""});
    EXPECT_EQ(root.wait_exit(), 1);
    EXPECT_NE(root.log().find("refusing to run as root"), std::string::npos) << root.log();

    auto both = ProxyProcess::start_only(ProxyOptions{"/nonexistent.sock", {"--anonymous", "--tokens", "/dev/null"}, "", "sandbox-http"});
    EXPECT_NE(both.wait_exit(), 0);
    EXPECT_NE(both.log().find("excludes"), std::string::npos) << both.log();

    auto bad_tokens = ProxyProcess::start_only(ProxyOptions{"/nonexistent.sock", {}, "short bob\n", "sandbox-http"});
    EXPECT_EQ(bad_tokens.wait_exit(), 1);
    EXPECT_NE(bad_tokens.log().find("tokens:1: a token must be 16 to 256 printable characters"), std::string::npos)
        << bad_tokens.log();

    auto neither = ProxyProcess::start_only(ProxyOptions{"/nonexistent.sock", {}, "", "sandbox-http"});
    EXPECT_EQ(neither.wait_exit(), 1);
    EXPECT_NE(neither.log().find("--anonymous"), std::string::npos) << neither.log();
}

TEST_F(Robustness, ClientThatDisconnectsMidJobCancelsIt) {
    for (bool before_accepted : {false, true}) {
        int fd = raw_connect(proxy_->port());
        ASSERT_GE(fd, 0);
        std::string body = python("import time\ntime.sleep(30)").dump();
        std::string request = "POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
        ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
        if (!before_accepted) {
            ASSERT_TRUE(daemon_running(*daemon_, 1, 10s));
        }
        ::close(fd);
        EXPECT_TRUE(daemon_idle(*daemon_, 5s)) << "the job is still there after its client left";
    }
    // The proxy counted the abandoned requests and still serves.
    auto c = client();
    EXPECT_EQ(c.post("/v1/run", python("print(1)")).status, 200);
    EXPECT_NE(c.get("/metrics").body.find("route=\"/v1/run\",method=\"POST\",code=\"499\"} 2"), std::string::npos);
}

// AddressSanitizer keeps freed memory in quarantine and adds shadow memory, so the proxy's RSS
// says nothing about its buffering there; the release build asserts the bounds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssIsMeaningful = false;
#else
constexpr bool kRssIsMeaningful = true;
#endif

TEST_F(Robustness, HugeBodyIsRefusedWithoutMemoryGrowth) {
    long before = proxy_->rss_kib();
    ASSERT_GT(before, 0);
    // 100 MB announced with Content-Length: refused at the header, the rest discarded as it comes.
    int fd = raw_connect(proxy_->port());
    ASSERT_GE(fd, 0);
    const std::size_t total = 100u << 20;
    std::string head = "POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(total) + "\r\n\r\n";
    ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    std::string chunk(1 << 20, 'a');
    std::size_t sent = 0;
    long peak = before;
    while (sent < total) {
        ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
        if (sent % (16u << 20) < chunk.size()) peak = std::max(peak, proxy_->rss_kib());
    }
    std::string answer = read_all(fd);
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
    EXPECT_NE(answer.find("\"too_large\""), std::string::npos);
    peak = std::max(peak, proxy_->rss_kib());
    if (kRssIsMeaningful) {
        EXPECT_LT(peak - before, 4 * 1024) << "RSS grew from " << before << " KiB to " << peak << " KiB";
    }

    // Chunked, without a length: cut off at the limit (16 MiB by default) while reading.
    fd = raw_connect(proxy_->port());
    head = "POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
    for (int i = 0; i < 100; ++i) {
        std::string piece = size_line + chunk + "\r\n";
        if (::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) <= 0) break;
    }
    answer = read_all(fd);
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
    if (kRssIsMeaningful) {
        EXPECT_LT(proxy_->rss_kib() - before, 24 * 1024);
    }
    // And the proxy is fine.
    EXPECT_EQ(client().post("/v1/run", python("print(1)")).status, 200);
}

TEST_F(Robustness, TwoHundredConcurrentKeepAliveConnections) {
    constexpr int kConnections = 200;
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < kConnections; ++i) {
        clients.push_back(std::make_unique<HttpClient>(proxy_->port()));
        ASSERT_TRUE(clients.back()->connected()) << i;
    }
    // Every connection has a job in flight at once.
    for (int i = 0; i < kConnections; ++i)
        ASSERT_TRUE(clients[i]->send(boost::beast::http::verb::post, "/v1/run",
                                     json{{"language", "bash"}, {"source", "echo $1"}, {"args", {std::to_string(i)}}}.dump()));
    for (int i = 0; i < kConnections; ++i) {
        auto r = clients[i]->receive();
        ASSERT_EQ(r.status, 200) << i << ": " << r.error << r.body;
        EXPECT_TRUE(r.keep_alive);
        EXPECT_EQ(r.json()["stdout"], std::to_string(i) + "\n");
    }
    // And each connection is reused.
    for (int i = 0; i < kConnections; ++i) ASSERT_TRUE(clients[i]->send(boost::beast::http::verb::get, "/v1/policies"));
    for (int i = 0; i < kConnections; ++i) EXPECT_EQ(clients[i]->receive().status, 200) << i;
}

TEST(ProxyLifecycle, SigtermLetsRequestsInFlightFinish) {
    DaemonOptions options;
    options.group = "sandbox";
    DaemonProcess daemon(options);
    ProxyProcess proxy(ProxyOptions{daemon.socket(), {"--anonymous"}, "", "sandbox-http"});
    HttpClient busy(proxy.port());
    HttpClient idle(proxy.port());
    ASSERT_EQ(idle.get("/healthz").status, 200);
    ASSERT_TRUE(busy.send(boost::beast::http::verb::post, "/v1/run", python("import time\ntime.sleep(1.5)\nprint('finished')").dump()));
    ASSERT_TRUE(daemon_running(daemon, 1, 10s));
    proxy.signal(SIGTERM);
    auto r = busy.receive();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["stdout"], "finished\n");
    EXPECT_FALSE(r.keep_alive) << "answers during shutdown close their connection";
    int status = proxy.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) : "exit " + std::to_string(WEXITSTATUS(status)))
        << "\n" << proxy.log();
    EXPECT_EQ(HttpClient(proxy.port()).connected(), false);
}

TEST(ProxyLifecycle, ReconnectsWhenSandboxdRestarts) {
    DaemonOptions options;
    options.group = "sandbox";
    DaemonProcess daemon(options);
    ProxyProcess proxy(ProxyOptions{daemon.socket(), {"--anonymous"}, "", "sandbox-http"});
    HttpClient c(proxy.port());
    ASSERT_EQ(c.post("/v1/run", python("print(1)")).status, 200);
    daemon.stop();
    auto r = c.get("/healthz");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.json()["status"], "unavailable");
    r = c.post("/v1/run", python("print(1)"));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.json()["error"]["code"], "unavailable");
    EXPECT_EQ(c.get("/health").status, 503);
    daemon.start();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline && (status = c.get("/healthz").status) != 200)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(status, 200);
    r = c.post("/v1/run", python("print('back')"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["stdout"], "back\n");
}

}  // namespace
}  // namespace sbx::testing
