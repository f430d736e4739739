// Stateful sessions through HTTP: the interpreter API (POST /execute with user_uuid, /release,
// /status) and the native /v1/sessions routes, on a real sandboxd and sandbox-http with tokens.
#include <set>

#include "common/base64.hpp"
#include "tests/http/http_fixture.hpp"

namespace sbx::testing {
namespace {

using nlohmann::json;
using boost::beast::http::verb;
using namespace std::chrono_literals;

constexpr const char* kAlice = "alice-token-0123456789abcdef";
constexpr const char* kBob = "bob-token-0123456789abcdef012";
constexpr const char* kCapped = "capped-token-0123456789abcdef";

Headers as(const char* token) { return {{"X-Auth-Token", token}}; }

std::set<std::string> keys(const json& object) {
    std::set<std::string> out;
    for (const auto& [k, v] : object.items()) out.insert(k);
    return out;
}

class Sessions : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        DaemonOptions options;
        options.group = "sandbox";
        daemon_ = std::make_unique<DaemonProcess>(options);
        std::string tokens = std::string(kAlice) + " alice\n" + kBob + " bob\n" + kCapped + " capped sessions=2\n";
        proxy_ = std::make_unique<ProxyProcess>(ProxyOptions{daemon_->socket(), {}, tokens, "sandbox-http"});
    }
    static void TearDownTestSuite() {
        proxy_.reset();
        daemon_.reset();
    }

    // POST /execute for a user of a token; the answer's JSON (the test fails on a non-200).
    static json execute(const char* token, const std::string& user, const std::string& code, json extra = json::object()) {
        HttpClient c(proxy_->port());
        extra["user_uuid"] = user;
        extra["code"] = code;
        auto r = c.post("/execute", extra, as(token));
        EXPECT_EQ(r.status, 200) << code << ": " << r.body;
        return r.json();
    }
    static std::string text(const char* token, const std::string& user, const std::string& code) {
        return execute(token, user, code).value("result_text", "<no result_text>");
    }
    static void release(const char* token, const std::string& user) {
        HttpClient c(proxy_->port());
        c.post("/release", json{{"user_uuid", user}}, as(token));
    }

    static inline std::unique_ptr<DaemonProcess> daemon_;
    static inline std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(Sessions, InterpreterStateSurvivesAcrossCalls) {
    json r = execute(kAlice, "state-user", "a = 100");
    EXPECT_EQ(keys(r), (std::set<std::string>{"result_text", "result_base64", "images_base64", "status", "state_lost"}));
    EXPECT_EQ(r["result_text"], "");
    EXPECT_EQ(r["result_base64"], "");
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["state_lost"], false);
    EXPECT_EQ(text(kAlice, "state-user", "print('a is', a)\na + 1"), "a is 100\n101\n");
    EXPECT_EQ(text(kAlice, "state-user", "def f(x):\n    return x * a\nf(2)"), "200\n");

    // An exception is reported with its traceback and loses nothing.
    r = execute(kAlice, "state-user", "1 / 0");
    EXPECT_EQ(r["status"], "runtime_error");
    EXPECT_EQ(r["state_lost"], false);
    std::string tb = r["result_text"];
    EXPECT_NE(tb.find("Traceback"), std::string::npos) << tb;
    EXPECT_NE(tb.find("ZeroDivisionError: division by zero"), std::string::npos) << tb;
    EXPECT_EQ(text(kAlice, "state-user", "f(3)"), "300\n");

    // Another language is another session of the same user; neither disturbs the other.
    json js = execute(kAlice, "state-user", "var b = 7; b * 6", {{"language", "javascript"}});
    EXPECT_EQ(js["result_text"], "42\n") << js;
    EXPECT_EQ(execute(kAlice, "state-user", "b + 1", {{"language", "javascript"}})["result_text"], "8\n");
    EXPECT_EQ(text(kAlice, "state-user", "a"), "100\n");

    HttpClient c(proxy_->port());
    auto released = c.post("/release", json{{"user_uuid", "state-user"}}, as(kAlice));
    ASSERT_EQ(released.status, 200) << released.body;
    EXPECT_EQ(released.json()["sessions_closed"], 2) << "the python and the javascript session";
}

TEST_F(Sessions, UsersAndTokensNeverSeeEachOthersVariablesOrFiles) {
    const std::string plant =
        "secret = 'alice-u1'\n"
        "import os\n"
        "open('/tmp/planted.txt', 'w').write('x')\n"
        "open(os.path.expanduser('~/planted.txt'), 'w').write('x')\n"
        "open('planted.txt', 'w').write('x')\n"
        "secret";
    ASSERT_EQ(text(kAlice, "u1", plant), "'alice-u1'\n");
    const std::string probe =
        "import os\n"
        "found = [p for p in ('/tmp/planted.txt', os.path.expanduser('~/planted.txt'), 'planted.txt') "
        "if os.path.exists(p)]\n"
        "print(len(found), 'secret' in globals())";
    EXPECT_EQ(text(kAlice, "u1", probe), "3 True\n");
    // Another user of the same token, and the same user_uuid under another token.
    EXPECT_EQ(text(kAlice, "u2", probe), "0 False\n");
    EXPECT_EQ(text(kBob, "u1", probe), "0 False\n");
    std::string bob = text(kBob, "u1", "secret");
    EXPECT_NE(bob.find("NameError"), std::string::npos) << bob;

    // Bob's /status lists his users only; Alice's lists hers.
    HttpClient c(proxy_->port());
    auto users_of = [&](const char* token) {
        std::set<std::string> users;
        auto r = c.get("/status", as(token));
        EXPECT_EQ(r.status, 200) << r.body;
        json status = r.json();
        for (const auto& u : status["users"]) users.insert(u["user_uuid"].get<std::string>());
        return users;
    };
    EXPECT_EQ(users_of(kBob), (std::set<std::string>{"u1"}));
    EXPECT_EQ(users_of(kAlice), (std::set<std::string>{"u1", "u2"}));
    // Bob releasing "u1" closes his own session, not Alice's.
    EXPECT_EQ(c.post("/release", json{{"user_uuid", "u1"}}, as(kBob)).status, 200);
    EXPECT_EQ(text(kAlice, "u1", "secret"), "'alice-u1'\n");
    release(kAlice, "u1");
    release(kAlice, "u2");
}

TEST_F(Sessions, ConcurrentFirstCallsOfAUserShareOneSession) {
    // Four calls of a new user at once: one session is opened, the calls run in it one by one.
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<HttpClient>(proxy_->port()));
        ASSERT_TRUE(clients.back()->send(verb::post, "/execute",
                                         json{{"user_uuid", "crowd"}, {"code", "n = globals().get('n', 0) + 1\nn"}}.dump(),
                                         as(kAlice)));
    }
    std::set<std::string> answers;
    for (auto& c : clients) {
        auto r = c->receive();
        ASSERT_EQ(r.status, 200) << r.body;
        answers.insert(r.json()["result_text"].get<std::string>());
    }
    EXPECT_EQ(answers, (std::set<std::string>{"1\n", "2\n", "3\n", "4\n"}));
    HttpClient c(proxy_->port());
    auto status = c.get("/status", as(kAlice)).json();
    int crowd = 0;
    for (const auto& u : status["users"]) crowd += u["user_uuid"] == "crowd" ? 1 : 0;
    EXPECT_EQ(crowd, 1) << status;
    release(kAlice, "crowd");
}

TEST_F(Sessions, AnotherTokenCannotCallCloseOrListASessionById) {
    HttpClient c(proxy_->port());
    auto opened = c.post("/v1/sessions", json{{"language", "python"}}, as(kAlice));
    ASSERT_EQ(opened.status, 201) << opened.body;
    std::string id = opened.json()["session_id"];
    ASSERT_EQ(c.post("/v1/sessions/" + id + "/exec", json{{"code", "mine = 1"}}, as(kAlice)).status, 200);

    auto r = c.post("/v1/sessions/" + id + "/exec", json{{"code", "mine"}}, as(kBob));
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "not_found");
    EXPECT_EQ(c.get("/v1/sessions/" + id, as(kBob)).status, 404);
    EXPECT_EQ(c.request(verb::delete_, "/v1/sessions/" + id, "", as(kBob)).status, 404);
    r = c.get("/v1/sessions", as(kBob));
    ASSERT_EQ(r.status, 200) << r.body;
    json bobs = r.json();
    for (const auto& s : bobs["sessions"]) EXPECT_NE(s["session_id"], id);

    // Alice's session is untouched; her interpreter users cannot reach it by id either.
    r = c.post("/v1/sessions/" + id + "/exec", json{{"code", "mine + 1"}}, as(kAlice));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["value"], "2");
    EXPECT_EQ(c.request(verb::delete_, "/v1/sessions/" + id, "", as(kAlice)).status, 200);
}

TEST_F(Sessions, MatplotlibPlotComesBackAsPng) {
    json r = execute(kAlice, "plotter",
                     "import matplotlib\nimport matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title('squares')\n"
                     "plt.show()\nprint('plotted')");
    ASSERT_EQ(r["status"], "ok") << r;
    EXPECT_EQ(r["result_text"], "plotted\n");
    ASSERT_TRUE(r["result_base64"].is_string());
    auto png = base64_decode(r["result_base64"].get<std::string>());
    ASSERT_TRUE(png) << "result_base64 is not base64";
    ASSERT_GT(png->size(), 33u);
    EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(png->substr(12, 4), "IHDR");
    auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::uint8_t((*png)[at + i]);
        return v;
    };
    EXPECT_GT(be32(16), 50u) << "width";
    EXPECT_GT(be32(20), 30u) << "height";
    EXPECT_EQ(png->substr(png->size() - 8, 4), "IEND");
    ASSERT_EQ(r["images_base64"].size(), 1u);
    EXPECT_EQ(r["images_base64"][0], r["result_base64"]);
    // Figures are closed once returned.
    EXPECT_EQ(execute(kAlice, "plotter", "1")["result_base64"], "");
    release(kAlice, "plotter");
}

TEST_F(Sessions, TimeoutSaysTheStateWasLostAndTheNextCallGetsAFreshInterpreter) {
    ASSERT_EQ(text(kAlice, "sleeper", "kept = 1\nkept"), "1\n");
    json r = execute(kAlice, "sleeper", "print('going to sleep', flush=True)\nimport time\ntime.sleep(60)",
                     {{"timeout", 1}});
    EXPECT_EQ(r["status"], "time_limit") << r;
    EXPECT_EQ(r["state_lost"], true) << r;
    std::string said = r["result_text"];
    EXPECT_EQ(said.rfind("going to sleep\n", 0), 0u) << said;
    EXPECT_NE(said.find("[time_limit: wall-clock limit of 1s exceeded; the interpreter was replaced and its state is lost]"),
              std::string::npos)
        << said;
    r = execute(kAlice, "sleeper", "kept");
    EXPECT_EQ(r["status"], "runtime_error");
    EXPECT_NE(r["result_text"].get<std::string>().find("NameError"), std::string::npos) << r;
    EXPECT_EQ(r["state_lost"], false) << "already said once";
    EXPECT_EQ(text(kAlice, "sleeper", "kept = 2\nkept * 21"), "42\n");
    release(kAlice, "sleeper");
}

TEST_F(Sessions, ACallPastTheRequestDeadlineIs504AndTheSessionGoesOn) {
    ASSERT_EQ(text(kAlice, "patient", "n = 1\nn"), "1\n");
    HttpClient c(proxy_->port());
    Headers headers = as(kAlice);
    headers["X-Request-Timeout"] = "1";
    auto r = c.post("/execute", json{{"user_uuid", "patient"}, {"code", "import time\ntime.sleep(2)\nn = 2"}}, headers);
    EXPECT_EQ(r.status, 504) << r.body;
    EXPECT_EQ(r.json()["code"], "timeout");
    EXPECT_NE(r.json()["error"].get<std::string>().find("the call goes on in its session"), std::string::npos) << r.body;
    // The call finished in the session: the next one (queued behind it) sees its effect.
    EXPECT_EQ(text(kAlice, "patient", "n"), "2\n");
    release(kAlice, "patient");
}

TEST_F(Sessions, ReleaseThenExecuteStartsFresh) {
    ASSERT_EQ(text(kAlice, "releaser", "x = 5\nx"), "5\n");
    HttpClient c(proxy_->port());
    auto r = c.post("/release", json{{"user_uuid", "releaser"}}, as(kAlice));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json(), (json{{"status", "released"}, {"sessions_closed", 1}}));
    std::string fresh = text(kAlice, "releaser", "x");
    EXPECT_NE(fresh.find("NameError: name 'x' is not defined"), std::string::npos) << fresh;
    EXPECT_EQ(c.post("/release", json{{"user_uuid", "releaser"}}, as(kAlice)).status, 200);
    // Nothing left to release.
    r = c.post("/release", json{{"user_uuid", "releaser"}}, as(kAlice));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()["code"], "not_found");
    EXPECT_EQ(r.json()["error"], "user_uuid 'releaser' has no session");
}

TEST_F(Sessions, BadInputGetsDocumentedErrors) {
    HttpClient c(proxy_->port());
    auto expect = [&](HttpResult r, int status, const std::string& code, const std::string& message_part) {
        EXPECT_EQ(r.status, status) << r.body;
        json j = r.json();
        // The interpreter API's shape {"error", "code"}, the native API's {"error": {"code", "message"}}.
        std::string got_code = j["error"].is_object() ? j["error"].value("code", "") : j.value("code", "");
        std::string message = j["error"].is_object() ? j["error"].value("message", "") : j.value("error", "");
        EXPECT_EQ(got_code, code) << r.body;
        EXPECT_NE(message.find(message_part), std::string::npos) << r.body;
    };
    // Interpreter API.
    expect(c.post("/execute", json{{"user_uuid", "bad"}}, as(kAlice)), 422, "invalid_request", "code is required");
    expect(c.post("/execute", json{{"user_uuid", 7}, {"code", "1"}}, as(kAlice)), 422, "invalid_request",
           "user_uuid must be a string, got number");
    expect(c.post("/execute", json{{"user_uuid", ""}, {"code", "1"}}, as(kAlice)), 422, "invalid_request",
           "user_uuid must be 1 to 128 printable ASCII characters");
    expect(c.post("/execute", json{{"user_uuid", "has space"}, {"code", "1"}}, as(kAlice)), 422, "invalid_request",
           "without spaces");
    expect(c.post("/execute", json{{"user_uuid", "bad"}, {"code", "1"}, {"timeout", -1}}, as(kAlice)), 422,
           "invalid_request", "timeout must be a positive number");
    expect(c.post("/execute", json{{"user_uuid", "bad"}, {"code", "1"}, {"timeout", 100000}}, as(kAlice)), 422,
           "limit_exceeded", "wall");
    expect(c.post("/execute", json{{"user_uuid", "bad"}, {"code", "1"}, {"language", "klingon"}}, as(kAlice)), 400,
           "unknown_language", "klingon");
    expect(c.post("/execute", json{{"user_uuid", "bad"}, {"code", "1"}, {"language", "c"}}, as(kAlice)), 422,
           "invalid_request", "has no session driver");
    expect(c.post("/execute", std::string("{\"user_uuid\": \"bad\", \"code\": "), as(kAlice)), 400, "malformed_json",
           "");
    expect(c.post("/release", json::object(), as(kAlice)), 422, "invalid_request", "user_uuid is required");
    expect(c.post("/release", std::string("[1]"), as(kAlice)), 400, "malformed_json", "must be a JSON object");
    expect(c.post("/execute", json{{"user_uuid", "bad"}, {"code", "1"}}), 401, "unauthorized", "token");

    // Native API.
    expect(c.post("/v1/sessions", std::string(""), as(kAlice)), 422, "invalid_request", "session.language");
    expect(c.post("/v1/sessions", json{{"language", "python"}, {"idle_timeout", "forever"}}, as(kAlice)), 422,
           "invalid_request", "session.idle_timeout");
    expect(c.post("/v1/sessions", json{{"language", "python"}, {"idle_timeout", "100h"}}, as(kAlice)), 422,
           "limit_exceeded", "idle_timeout");
    expect(c.post("/v1/sessions", std::string("{not json"), as(kAlice)), 400, "malformed_json", "");
    expect(c.post("/v1/sessions/0123456789abcdef0123456789abcdef/exec", json{{"code", "1"}}, as(kAlice)), 404,
           "not_found", "no session '0123456789abcdef0123456789abcdef'");
    expect(c.get("/v1/sessions/nope", as(kAlice)), 404, "not_found", "no session 'nope'");
    expect(c.request(verb::delete_, "/v1/sessions/nope", "", as(kAlice)), 404, "not_found", "no session 'nope'");
    auto opened = c.post("/v1/sessions", json{{"language", "bash"}}, as(kAlice));
    ASSERT_EQ(opened.status, 201) << opened.body;
    std::string id = opened.json()["session_id"];
    expect(c.post("/v1/sessions/" + id + "/exec", json::object(), as(kAlice)), 422, "invalid_request", "exec.code");
    expect(c.post("/v1/sessions/" + id + "/exec", json{{"code", "true"}, {"limits", {{"memory_limit", "1GiB"}}}},
                  as(kAlice)),
           422, "invalid_request", "a call may set only");
    expect(c.request(verb::put, "/v1/sessions/" + id, "", as(kAlice)), 405, "method_not_allowed", "allowed");
    EXPECT_EQ(c.request(verb::delete_, "/v1/sessions/" + id, "", as(kAlice)).status, 200);
}

TEST_F(Sessions, NativeOpenExecListDeleteRoundTrip) {
    HttpClient c(proxy_->port());
    auto r = c.post("/v1/sessions", json{{"language", "python"}, {"idle_timeout", 120}, {"limits", {{"memory_limit", "200MiB"}}}},
                    as(kBob));
    ASSERT_EQ(r.status, 201) << r.body;
    json info = r.json();
    EXPECT_EQ(keys(info), (std::set<std::string>{"session_id", "policy", "language", "state", "age_s", "idle_s",
                                                 "idle_timeout_s", "max_lifetime_s", "calls", "restarts", "cpu_ms",
                                                 "memory_peak_bytes", "memory_limit_bytes"}));
    std::string id = info["session_id"];
    EXPECT_EQ(r.header("Location"), "/v1/sessions/" + id);
    EXPECT_EQ(info["language"], "python");
    EXPECT_EQ(info["policy"], "default");
    EXPECT_EQ(info["idle_timeout_s"], 120.0);
    EXPECT_EQ(info["memory_limit_bytes"], 200 << 20);

    r = c.post("/v1/sessions/" + id + "/exec", json{{"code", "x = 2\nprint('set')"}}, as(kBob));
    ASSERT_EQ(r.status, 200) << r.body;
    json call = r.json();
    EXPECT_EQ(call["status"], "ok");
    EXPECT_EQ(call["stdout"], "set\n");
    EXPECT_TRUE(call["value"].is_null());
    EXPECT_TRUE(call["error"].is_null());
    EXPECT_EQ(call["images"], json::array());
    EXPECT_EQ(call["state_lost"], false);
    EXPECT_EQ(call["session_id"], id);
    r = c.post("/v1/sessions/" + id + "/exec", json{{"code", "x * 21"}}, as(kBob));
    EXPECT_EQ(r.json()["value"], "42");
    EXPECT_EQ(r.json()["execution_count"], 2);
    r = c.post("/v1/sessions/" + id + "/exec", json{{"code", "raise KeyError('k')"}}, as(kBob));
    EXPECT_EQ(r.json()["status"], "runtime_error");
    EXPECT_EQ(r.json()["error"]["name"], "KeyError");
    EXPECT_NE(r.json()["error"]["traceback"].get<std::string>().find("KeyError: 'k'"), std::string::npos);
    r = c.post("/v1/sessions/" + id + "/exec", json{{"code", "import time; time.sleep(30)"},
                                                    {"limits", {{"wall_time_limit", "500ms"}}}},
               as(kBob));
    EXPECT_EQ(r.json()["status"], "time_limit");
    EXPECT_EQ(r.json()["state_lost"], true);

    r = c.get("/v1/sessions", as(kBob));
    ASSERT_EQ(r.status, 200) << r.body;
    json listed = r.json();
    ASSERT_EQ(listed["sessions"].size(), 1u) << listed;
    EXPECT_EQ(listed["sessions"][0]["session_id"], id);
    EXPECT_EQ(listed["sessions"][0]["calls"], 4);
    EXPECT_EQ(listed["sessions"][0]["restarts"], 1);
    EXPECT_GE(listed["open"].get<int>(), 1);
    EXPECT_GT(listed["max_sessions"].get<int>(), 0);
    r = c.get("/v1/sessions/" + id, as(kBob));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["session_id"], id);

    r = c.request(verb::delete_, "/v1/sessions/" + id, "", as(kBob));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json(), (json{{"closed", true}}));
    EXPECT_EQ(c.post("/v1/sessions/" + id + "/exec", json{{"code", "x"}}, as(kBob)).status, 404);
    EXPECT_EQ(c.get("/v1/sessions/" + id, as(kBob)).status, 404);
    EXPECT_EQ(c.get("/v1/sessions", as(kBob)).json()["sessions"], json::array());
}

TEST_F(Sessions, PerClientCapAnswers429AcrossBothApis) {
    HttpClient c(proxy_->port());
    ASSERT_EQ(text(kCapped, "c1", "1"), "1\n");
    auto native = c.post("/v1/sessions", json{{"language", "bash"}}, as(kCapped));
    ASSERT_EQ(native.status, 201) << native.body;
    std::string id = native.json()["session_id"];

    auto r = c.post("/execute", json{{"user_uuid", "c2"}, {"code", "1"}}, as(kCapped));
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(r.json()["code"], "too_many_sessions");
    EXPECT_EQ(r.json()["error"],
              "token:capped has 2 open sessions, the most one client may have (2); close one (DELETE "
              "/v1/sessions/{id}, POST /release) or wait until an idle one is reaped");
    r = c.post("/v1/sessions", json{{"language", "python"}}, as(kCapped));
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "too_many_sessions");
    // A user who has a session keeps using it; another token is not concerned.
    EXPECT_EQ(text(kCapped, "c1", "2"), "2\n");
    EXPECT_EQ(text(kBob, "c2", "3"), "3\n");
    EXPECT_EQ(c.get("/status", as(kCapped)).json()["sessions"], 2);
    EXPECT_EQ(c.get("/status", as(kCapped)).json()["max_sessions"], 2);
    EXPECT_NE(c.get("/metrics").body.find("sandbox_http_refused_total{reason=\"too_many_sessions\"} 2"),
              std::string::npos);

    // Closing one makes room.
    ASSERT_EQ(c.request(verb::delete_, "/v1/sessions/" + id, "", as(kCapped)).status, 200);
    EXPECT_EQ(text(kCapped, "c2", "4"), "4\n");
    release(kCapped, "c1");
    release(kCapped, "c2");
    release(kBob, "c2");
}

// A separate proxy whose interpreter sessions are reaped after 1 s idle.
TEST_F(Sessions, AReapedSessionIsReplacedAndTheAnswerSaysSo) {
    ProxyProcess quick(ProxyOptions{daemon_->socket(), {"--session-idle-timeout", "1"}, std::string(kAlice) + " alice\n",
                                    "sandbox-http"});
    HttpClient c(quick.port());
    auto run = [&](const std::string& code) {
        auto r = c.post("/execute", json{{"user_uuid", "napper"}, {"code", code}}, as(kAlice));
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json();
    };
    ASSERT_EQ(run("y = 3\ny")["result_text"], "3\n");
    // Wait until sandboxd reaped it (its reaper looks four times a second). Nothing asks the proxy
    // meanwhile, so it still holds the session's id.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline && daemon_->log().find("was idle for 1s") == std::string::npos)
        std::this_thread::sleep_for(100ms);
    ASSERT_NE(daemon_->log().find("was idle for 1s"), std::string::npos) << "not reaped within 20 s";

    // The call finds the session gone, opens a fresh one and says the state was lost.
    json r = run("y");
    std::string said = r["result_text"];
    EXPECT_NE(said.find("NameError"), std::string::npos) << said;
    EXPECT_NE(said.find("[this user_uuid's session had been closed (idle timeout, maximum lifetime or a restart of "
                        "sandboxd) and a new one was started: earlier state is lost]"),
              std::string::npos)
        << said;
    EXPECT_EQ(r["state_lost"], true);
    EXPECT_EQ(run("y = 4\ny")["result_text"], "4\n");
    auto status = c.get("/status", as(kAlice)).json();
    ASSERT_EQ(status["users"].size(), 1u) << status;
    EXPECT_EQ(status["users"][0]["user_uuid"], "napper");
    EXPECT_EQ(status["users"][0]["idle_timeout_s"], 1.0) << "--session-idle-timeout";
    EXPECT_EQ(c.post("/release", json{{"user_uuid", "napper"}}, as(kAlice)).status, 200);
}

}  // namespace
}  // namespace sbx::testing
