// Tokens, per-token limits (429), a full daemon (503) and the request deadline (504).
#include "tests/http/http_fixture.hpp"

namespace sbx::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kGrader = "grader-token-0123456789abcdef";
constexpr const char* kSlow = "slow-token-0123456789abcdef01";
constexpr const char* kSingle = "single-token-0123456789abcdef";

class Tokens : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        DaemonOptions options;
        options.group = "sandbox";
        daemon_ = std::make_unique<DaemonProcess>(options);
        std::string tokens = std::string("# token name options\n") + kGrader + "  grader\n" + kSlow +
                             "  slow  rate=1 burst=1\n" + kSingle + "  single concurrency=1\n";
        proxy_ = std::make_unique<ProxyProcess>(ProxyOptions{daemon_->socket(), {}, tokens, "sandbox-http"});
    }
    static void TearDownTestSuite() {
        proxy_.reset();
        daemon_.reset();
    }
    static inline std::unique_ptr<DaemonProcess> daemon_;
    static inline std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(Tokens, AcceptedAsHeaderOrBearerRefusedOtherwise) {
    HttpClient c(proxy_->port());
    auto r = c.post("/v1/run", python("print(1)"));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"sandbox-http\"");
    EXPECT_EQ(r.json()["error"]["code"], "unauthorized");
    r = c.post("/v1/run", python("print(1)"), {{"X-Auth-Token", "wrong-token-0123456789abcdef"}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.json()["error"]["message"], "the token is not valid");
    r = c.post("/v1/run", python("print(1)"), {{"Authorization", "Basic dXNlcjpwYXNz"}});
    EXPECT_EQ(r.status, 401);

    r = c.post("/v1/run", python("print(1)"), {{"X-Auth-Token", kGrader}});
    EXPECT_EQ(r.status, 200) << r.body;
    r = c.post("/v1/run", python("print(2)"), {{"Authorization", std::string("Bearer ") + kGrader}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["stdout"], "2\n");

    // Each API refuses in its own shape.
    r = c.post("/py_exec", json{{"code", "print(1)"}, {"timeout", 5}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body.rfind("1\n", 0), 0u);
    r = c.post("/api/v2/execute", json{{"language", "python"}, {"version", "*"}, {"files", {{{"content", "print(1)"}}}}});
    EXPECT_EQ(r.status, 401);
    EXPECT_TRUE(r.json().contains("message"));
    r = c.post("/execute", json{{"code", "print(1)"}});
    EXPECT_EQ(r.status, 401);
    EXPECT_TRUE(r.json()["error"].is_string());

    // Health, metrics and the OpenAPI document need no token.
    EXPECT_EQ(c.get("/healthz").status, 200);
    EXPECT_EQ(c.get("/health").status, 200);
    EXPECT_EQ(c.get("/api/v1/health").status, 200);
    EXPECT_EQ(c.get("/metrics").status, 200);
    EXPECT_EQ(c.get("/openapi.json").status, 200);
    EXPECT_NE(c.get("/metrics").body.find("sandbox_http_refused_total{reason=\"unauthorized\"}"), std::string::npos);
}

TEST_F(Tokens, SubmissionsAreVisibleToTheirOwnerOnly) {
    HttpClient c(proxy_->port());
    auto r = c.post("/submit", json{{"code", "print(1)"}}, {{"X-Auth-Token", kGrader}});
    ASSERT_EQ(r.status, 200) << r.body;
    std::string id = r.json()["submission_id"];
    EXPECT_EQ(c.get("/submissions/" + id, {{"X-Auth-Token", kGrader}}).status, 200);
    EXPECT_EQ(c.get("/submissions/" + id, {{"X-Auth-Token", kSingle}}).status, 404);
}

TEST_F(Tokens, RateLimitAnswers429WithRetryAfter) {
    HttpClient c(proxy_->port());
    auto r = c.get("/v1/languages", {{"X-Auth-Token", kSlow}});
    EXPECT_EQ(r.status, 200);
    r = c.get("/v1/languages", {{"X-Auth-Token", kSlow}});
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.header("Retry-After"), "1");
    EXPECT_EQ(r.json()["error"]["code"], "rate_limit");
    // Another token is not affected.
    EXPECT_EQ(c.get("/v1/languages", {{"X-Auth-Token", kGrader}}).status, 200);
    std::this_thread::sleep_for(1100ms);
    EXPECT_EQ(c.get("/v1/languages", {{"X-Auth-Token", kSlow}}).status, 200);
}

TEST_F(Tokens, ConcurrencyLimitAnswers429) {
    HttpClient first(proxy_->port());
    ASSERT_TRUE(first.send(boost::beast::http::verb::post, "/v1/run", python("import time\ntime.sleep(2)\nprint('done')").dump(),
                           {{"X-Auth-Token", kSingle}}));
    ASSERT_TRUE(daemon_running(*daemon_, 1, 10s));
    HttpClient second(proxy_->port());
    auto r = second.post("/v1/run", python("print(1)"), {{"X-Auth-Token", kSingle}});
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.json()["error"]["code"], "concurrency_limit");
    EXPECT_FALSE(r.header("Retry-After").empty());
    r = first.receive();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["stdout"], "done\n");
    // The slot is free again.
    EXPECT_EQ(second.post("/v1/run", python("print(1)"), {{"X-Auth-Token", kSingle}}).status, 200);
}

// A daemon with one job slot and no queue.
class FullDaemon : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        DaemonOptions options;
        options.group = "sandbox";
        options.extra_args = {"--max-jobs", "1", "--max-queue", "0"};
        daemon_ = std::make_unique<DaemonProcess>(options);
        proxy_ = std::make_unique<ProxyProcess>(ProxyOptions{daemon_->socket(), {"--anonymous"}, "", "sandbox-http"});
    }
    static void TearDownTestSuite() {
        proxy_.reset();
        daemon_.reset();
    }
    static inline std::unique_ptr<DaemonProcess> daemon_;
    static inline std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(FullDaemon, BusyBecomes503WithRetryAfterInEveryApi) {
    HttpClient first(proxy_->port());
    ASSERT_TRUE(first.send(boost::beast::http::verb::post, "/v1/run", python("import time\ntime.sleep(3)").dump()));
    ASSERT_TRUE(daemon_running(*daemon_, 1, 10s));
    HttpClient c(proxy_->port());
    auto r = c.post("/v1/run", python("print(1)"));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.header("Retry-After"), "1");
    EXPECT_EQ(r.json()["error"]["code"], "busy");
    r = c.post("/py_exec", json{{"code", "print(1)"}, {"timeout", 5}});
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body.rfind("1\n", 0), 0u);
    EXPECT_EQ(r.header("Retry-After"), "1");
    r = c.post("/api/v2/execute", json{{"language", "python"}, {"version", "*"}, {"files", {{{"content", "print(1)"}}}}});
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(r.json().contains("message"));
    r = c.post("/execute", json{{"code", "print(1)"}});
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(c.get("/metrics").body.find("sandbox_http_refused_total{reason=\"busy\"} 4"), std::string::npos);
    EXPECT_EQ(first.receive().status, 200);
    EXPECT_EQ(c.post("/v1/run", python("print(1)")).status, 200);
}

TEST_F(FullDaemon, DeadlineBecomes504AndCancelsTheJob) {
    HttpClient c(proxy_->port());
    auto start = std::chrono::steady_clock::now();
    auto r = c.post("/v1/run", python("import time\ntime.sleep(8)"), {{"X-Request-Timeout", "0.5"}});
    EXPECT_EQ(r.status, 504) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "timeout");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_TRUE(daemon_idle(*daemon_, 3s)) << "the job outlived its request";
}

}  // namespace
}  // namespace sbx::testing
