// sandbox-http's pieces without a network or a daemon.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "http-proxy/access_limits.hpp"
#include "http-proxy/code_exec_api.hpp"
#include "http-proxy/compat_support.hpp"
#include "http-proxy/daemon_call.hpp"
#include "http-proxy/exchange.hpp"
#include "http-proxy/json_body.hpp"
#include "http-proxy/judge_api.hpp"
#include "http-proxy/listen_address.hpp"
#include "http-proxy/metrics.hpp"
#include "http-proxy/piston_api.hpp"
#include "http-proxy/router.hpp"
#include "http-proxy/session_backend.hpp"
#include "http-proxy/session_book.hpp"
#include "http-proxy/submission_store.hpp"
#include "http-proxy/token_file.hpp"
#include "protocol/json_codec.hpp"

namespace sbx::http {
namespace {

using namespace std::chrono_literals;
using beast_http::verb;

TEST(Router, LiteralSegmentsWinAndParametersAreCaptured) {
    Router router;
    auto render = [](const HttpError& e) { return native_error(e); };
    router.add(verb::get, "/submissions/{id}", Access::token, render, [](auto&) {}, {});
    router.add(verb::get, "/submissions/latest", Access::token, render, [](auto&) {}, {});
    router.add(verb::post, "/v1/run", Access::token, render, [](auto&) {}, {});
    auto m = router.match(verb::get, "/submissions/abc");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, "/submissions/{id}");
    EXPECT_EQ(m.params["id"], "abc");
    m = router.match(verb::get, "/submissions/latest");
    EXPECT_EQ(m.route->pattern, "/submissions/latest");
    m = router.match(verb::get, "/v1/run");
    EXPECT_EQ(m.route, nullptr);
    ASSERT_EQ(m.allowed.size(), 1u);
    EXPECT_EQ(m.allowed[0], verb::post);
    EXPECT_EQ(router.match(verb::post, "/v1/run/").route->pattern, "/v1/run");
    EXPECT_EQ(router.match(verb::post, "/v1/runs").route, nullptr);
    EXPECT_TRUE(router.match(verb::post, "/v1/runs").allowed.empty());
}

TEST(Exchange, AnswersOnceAndAbortRunsHooks) {
    int sent = 0, aborted = 0;
    Request req{verb::get, "/x?a=1&name=J%C3%BCrgen+M&flag", 11};
    {
        Exchange ex(req, "127.0.0.1", [&](Response) { ++sent; });
        EXPECT_EQ(ex.path(), "/x");
        EXPECT_EQ(ex.query_param("name"), "J\xc3\xbcrgen M");
        EXPECT_EQ(ex.query_param("flag"), "");
        EXPECT_FALSE(ex.query_param("b"));
        ex.on_abort([&] { ++aborted; });
        ex.respond(text_response(HttpStatus::ok, "a"));
        ex.respond(text_response(HttpStatus::ok, "b"));
        ex.abort();
    }
    EXPECT_EQ(sent, 1);
    EXPECT_EQ(aborted, 0);
    {
        Exchange ex(req, "127.0.0.1", [&](Response) { ++sent; });
        bool released = false;
        ex.hold(std::shared_ptr<void>(nullptr, [&](void*) { released = true; }));
        ex.on_abort([&] { ++aborted; });
        ex.abort();
        EXPECT_TRUE(released);
        ex.on_abort([&] { ++aborted; });  // runs at once
        ex.respond(text_response(HttpStatus::ok, "late"));
    }
    EXPECT_EQ(sent, 1);
    EXPECT_EQ(aborted, 2);
    {
        // Dropped without an answer: the client still gets a 500.
        Exchange ex(req, "127.0.0.1", [&](Response r) { EXPECT_EQ(r.result(), HttpStatus::internal_server_error); ++sent; });
    }
    EXPECT_EQ(sent, 2);
}

TEST(TokenFile, ParsesTokensNamesAndLimits) {
    std::string path = "/tmp/sandbox-http-tokens-" + std::to_string(getpid());
    ClientLimits defaults{5, 0, 8, 4};
    auto write = [&](const std::string& text) { std::ofstream(path) << text; };
    write("# comment\n\n0123456789abcdef0123 grader rate=2.5 burst=10 concurrency=3 sessions=40  # trailing\nfedcba9876543210fedc nb\n");
    auto table = load_token_file(path, defaults);
    ASSERT_TRUE(table) << table.error().message();
    ASSERT_EQ(table->size(), 2u);
    const TokenEntry& grader = table->at("0123456789abcdef0123");
    EXPECT_EQ(grader.name, "grader");
    EXPECT_DOUBLE_EQ(grader.limits.rate, 2.5);
    EXPECT_EQ(grader.limits.burst, 10u);
    EXPECT_EQ(grader.limits.concurrency, 3u);
    EXPECT_EQ(grader.limits.sessions, 40u);
    EXPECT_DOUBLE_EQ(table->at("fedcba9876543210fedc").limits.rate, 5);
    EXPECT_EQ(table->at("fedcba9876543210fedc").limits.concurrency, 8u);
    EXPECT_EQ(table->at("fedcba9876543210fedc").limits.sessions, 4u);

    auto error_of = [&](const std::string& text) {
        write(text);
        auto t = load_token_file(path, defaults);
        return t ? std::string() : t.error().message();
    };
    EXPECT_EQ(error_of("short name\n"), path + ":1: a token must be 16 to 256 printable characters without spaces");
    EXPECT_EQ(error_of("\n0123456789abcdef0123\n"), path + ":2: the token has no name (TOKEN NAME [OPTION=VALUE]...)");
    EXPECT_EQ(error_of("0123456789abcdef0123 a rate=-1\n"),
              path + ":1: rate=-1: must be a number of requests per second, 0 or more");
    EXPECT_EQ(error_of("0123456789abcdef0123 a speed=3\n"), path + ":1: unknown option 'speed' (rate, burst, concurrency, sessions)");
    EXPECT_EQ(error_of("0123456789abcdef0123 a sessions=many\n"),
              path + ":1: sessions=many: must be a whole number of sessions");
    EXPECT_EQ(error_of("0123456789abcdef0123 a\n0123456789abcdef0123 b\n"), path + ":2: this token is listed twice");
    EXPECT_EQ(error_of("0123456789abcdef0123 a\n0123456789abcdef0124 a\n"), path + ":2: the name 'a' is used twice");
    EXPECT_EQ(error_of("0123456789abcdef0123 a/b\n"), path + ":1: name 'a/b' must be 1 to 64 of [A-Za-z0-9_.-]");
    EXPECT_NE(error_of("# nothing\n").find("no tokens"), std::string::npos);
    ::unlink(path.c_str());
    EXPECT_FALSE(load_token_file(path, defaults));
}

TEST(AccessLimiter, TokenBucketAndConcurrency) {
    AccessLimiter limiter;
    auto t0 = std::chrono::steady_clock::now();
    ClientLimits rate{2, 2, 0};
    std::shared_ptr<void> a, b, c;
    EXPECT_FALSE(limiter.admit("x", rate, a, t0));
    EXPECT_FALSE(limiter.admit("x", rate, b, t0));
    auto refusal = limiter.admit("x", rate, c, t0);
    ASSERT_TRUE(refusal);
    EXPECT_EQ(refusal->reason, "rate_limit");
    EXPECT_EQ(refusal->retry_after_s, 1u);
    EXPECT_FALSE(limiter.admit("y", rate, c, t0)) << "clients are counted apart";
    EXPECT_FALSE(limiter.admit("x", rate, c, t0 + 500ms)) << "one token back after 1/rate s";
    EXPECT_TRUE(limiter.admit("x", rate, c, t0 + 500ms));

    ClientLimits one{0, 0, 1};
    std::shared_ptr<void> held;
    EXPECT_FALSE(limiter.admit("z", one, held));
    EXPECT_EQ(limiter.in_flight("z"), 1u);
    std::shared_ptr<void> other;
    auto busy = limiter.admit("z", one, other);
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->reason, "concurrency_limit");
    held.reset();
    EXPECT_EQ(limiter.in_flight("z"), 0u);
    EXPECT_FALSE(limiter.admit("z", one, other));
}

TEST(PythonJson, MatchesJsonDumps) {
    EXPECT_EQ(python_json_string("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
    EXPECT_EQ(python_json_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\"\\u00e9\\u20ac\\ud83d\\ude00\"");
    // Invalid UTF-8 is dropped, as bytes.decode("utf-8", errors="ignore") does.
    EXPECT_EQ(python_json_string("a\xff" "b\xc3"), "\"ab\"");
    EXPECT_EQ(python_json_string("/"), "\"/\"");
}

TEST(Piston, VersionSelectorsAndStages) {
    EXPECT_TRUE(piston_version_matches("*", "3.11.2"));
    EXPECT_TRUE(piston_version_matches("3", "3.11.2"));
    EXPECT_TRUE(piston_version_matches("3.11", "3.11.2"));
    EXPECT_TRUE(piston_version_matches("3.x", "3.11.2"));
    EXPECT_TRUE(piston_version_matches("3.11.2", "3.11.2"));
    EXPECT_FALSE(piston_version_matches("3.1", "3.11.2"));
    EXPECT_FALSE(piston_version_matches("3.10.0", "3.11.2"));
    EXPECT_FALSE(piston_version_matches("3.11.2.1", "3.11.2"));
    EXPECT_EQ(version_number("Python 3.11.2"), "3.11.2");
    EXPECT_EQ(version_number("GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)"), "5.2.15");
    EXPECT_EQ(version_number("v20.20.2"), "20.20.2");
    EXPECT_EQ(version_number("gcc (Debian 12.2.0-14) 12.2.0"), "12.2.0");

    protocol::ExecutionReport r;
    r.status = "time_limit";
    r.stdout_data = "a";
    r.stderr_data = "b";
    auto stage = piston_stage(r);
    EXPECT_EQ(stage.dump(), "{\"signal\":\"SIGKILL\",\"stdout\":\"a\",\"stderr\":\"b\",\"code\":null,\"output\":\"ab\","
                            "\"memory\":0,\"message\":\"Time limit exceeded\",\"status\":\"TO\",\"cpu_time\":0.0,"
                            "\"wall_time\":0.0}");
    r.status = "output_limit";
    r.stderr_truncated = true;
    EXPECT_EQ(piston_stage(r)["status"], "EL");
    r.status = "internal_error";
    r.message = "no box uid";
    EXPECT_EQ(piston_stage(r)["status"], "XX");
    EXPECT_EQ(piston_stage(r)["message"], "no box uid");
}

TEST(CompatNames, StatusWordsAndMultiplENames) {
    EXPECT_EQ(judge_status("time_limit"), "time_limit_exceeded");
    EXPECT_EQ(judge_status("accepted"), "success");
    EXPECT_EQ(judge_status("compile_error"), "compilation_error");
    EXPECT_EQ(multiple_language("dlang"), "d");
    EXPECT_EQ(multiple_language("humaneval_to_r.py"), "r");
    EXPECT_EQ(multiple_language("rkt"), "rkt");
}

TEST(ListenAddress, Forms) {
    auto e = parse_listen_address("0.0.0.0:8000");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->port(), 8000);
    e = parse_listen_address("[::1]:9");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->address().is_v6());
    e = parse_listen_address(":8080");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->address().to_string(), "0.0.0.0");
    EXPECT_EQ(parse_listen_address("localhost:1")->address().to_string(), "127.0.0.1");
    EXPECT_FALSE(parse_listen_address("8000"));
    EXPECT_FALSE(parse_listen_address("1.2.3.4:99999"));
    EXPECT_FALSE(parse_listen_address("example.com:80"));
}

TEST(Metrics, PrometheusExposition) {
    Metrics m;
    m.request_started();
    m.request_finished("/v1/run", "POST", 200, 0.03);
    m.request_started();
    m.request_finished("/v1/run", "POST", 200, 3);
    m.job_finished("ok", "python");
    m.refused("rate_limit");
    protocol::StatsResult s;
    s.jobs_total = 2;
    s.by_status = {{"ok", 2}};
    s.queued = 3;
    s.latency_bounds_ms = {10, 100};
    s.latency_counts = {1, 2};
    s.latency_sum_ms = 60;
    std::string text = m.render(s, 4);
    for (const char* line :
         {"sandbox_http_requests_total{route=\"/v1/run\",method=\"POST\",code=\"200\"} 2",
          "sandbox_http_request_duration_seconds_bucket{route=\"/v1/run\",le=\"0.025\"} 0",
          "sandbox_http_request_duration_seconds_bucket{route=\"/v1/run\",le=\"0.05\"} 1",
          "sandbox_http_request_duration_seconds_bucket{route=\"/v1/run\",le=\"5\"} 2",
          "sandbox_http_request_duration_seconds_count{route=\"/v1/run\"} 2", "sandbox_http_requests_in_flight 0",
          "sandbox_http_jobs_total{status=\"ok\",language=\"python\"} 1", "sandbox_http_refused_total{reason=\"rate_limit\"} 1",
          "sandboxd_queue_depth 3", "sandboxd_job_latency_seconds_bucket{le=\"0.01\"} 1",
          "sandboxd_job_latency_seconds_bucket{le=\"+Inf\"} 2", "sandboxd_job_latency_seconds_sum 0.06"})
        EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
    EXPECT_NE(m.render(std::nullopt, 0).find("sandboxd_up 0\n"), std::string::npos);
}

TEST(SubmissionStore, StoresAndFinds) {
    auto store = SubmissionStore::open(":memory:");
    ASSERT_TRUE(store) << store.error().message();
    Submission s;
    s.owner = "grader";
    s.language = "python";
    s.code = std::string("print(1)\0x", 10);
    s.output = "1\n";
    s.time_s = 0.25;
    s.memory_kb = 4096;
    s.exit_code = 3;
    s.status = "runtime_error";
    ASSERT_TRUE((*store)->insert(s));
    EXPECT_EQ(s.id.size(), 32u);
    auto found = (*store)->find(s.id);
    ASSERT_TRUE(found);
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->code, s.code) << "binary-safe";
    EXPECT_EQ((*found)->exit_code, 3);
    EXPECT_EQ((*found)->memory_kb, 4096u);
    EXPECT_EQ((*found)->created_at, s.created_at);
    EXPECT_FALSE((*store)->find("nope")->has_value());
    EXPECT_NE(random_id(), random_id());
}

TEST(JsonBody, ErrorsNameTheField) {
    auto parsed = parse_json_object("{\"a\": [1,");
    ASSERT_TRUE(std::holds_alternative<HttpError>(parsed));
    EXPECT_EQ(std::get<HttpError>(parsed).status, HttpStatus::bad_request);
    auto ok = parse_json_object("{\"code\": 1, \"n\": 2.0, \"list\": {}}");
    const auto& j = std::get<nlohmann::json>(ok);
    FieldReader f(j, "body.");
    EXPECT_EQ(f.integer("n"), 2);
    EXPECT_FALSE(f.string("code"));
    ASSERT_TRUE(f.error());
    EXPECT_EQ(f.error()->status, HttpStatus::unprocessable_entity);
    EXPECT_EQ(f.error()->message, "body.code must be a string, got number");
    FieldReader g(j);
    EXPECT_EQ(g.array("list"), nullptr);
    EXPECT_EQ(g.error()->message, "list must be an array, got object");
    FieldReader h(j);
    h.string("missing", true);
    EXPECT_EQ(h.error()->message, "missing is required");
}


protocol::SessionInfo session_info(std::string id, std::string language) {
    protocol::SessionInfo info;
    info.session_id = std::move(id);
    info.language = std::move(language);
    return info;
}

TEST(SessionBook, FindsByOwnerAndLanguageAndCountsPerClient) {
    SessionBook book;
    book.add("token:a", "token:a/user:u1", session_info("s1", "python"), "py");
    book.add("token:a", "token:a/user:u1", session_info("s2", "javascript"));
    book.add("token:a", "token:a", session_info("s3", "bash"));
    book.add("token:b", "token:b/user:u1", session_info("s4", "python"));
    EXPECT_EQ(book.find("token:a/user:u1", "python"), "s1");
    EXPECT_EQ(book.find("token:a/user:u1", "py"), "s1") << "the alias it was asked by";
    EXPECT_EQ(book.find("token:a/user:u1", "javascript"), "s2");
    EXPECT_EQ(book.find("token:b/user:u1", "python"), "s4");
    EXPECT_FALSE(book.find("token:a/user:u2", "python"));
    EXPECT_FALSE(book.find("token:b/user:u1", "py")) << "another owner's alias";
    EXPECT_EQ(book.held("token:a"), 3u);
    EXPECT_EQ(book.held("token:b"), 1u);
    book.reserve("token:b");
    EXPECT_EQ(book.held("token:b"), 2u);
    book.unreserve("token:b");
    book.unreserve("token:b");  // no underflow
    EXPECT_EQ(book.held("token:b"), 1u);
    EXPECT_EQ(book.owners_of("token:a"), (std::vector<std::string>{"token:a", "token:a/user:u1"}));

    // sandboxd's list is the truth: s1 is gone, s5 appeared.
    std::uint64_t asked = book.now();
    book.sync("token:a", "token:a/user:u1", {session_info("s2", "javascript"), session_info("s5", "python")}, asked);
    EXPECT_EQ(book.find("token:a/user:u1", "python"), "s5");
    EXPECT_EQ(book.entry("s1"), nullptr);
    EXPECT_EQ(book.held("token:a"), 3u);
    book.forget("s3");
    // An open answered while a list was on its way is not forgotten by that list.
    asked = book.now();
    book.add("token:a", "token:a/user:u1", session_info("s6", "bash"));
    book.sync("token:a", "token:a/user:u1", {}, asked);
    EXPECT_EQ(book.find("token:a/user:u1", "bash"), "s6");
    EXPECT_EQ(book.held("token:a"), 1u);
    book.sync("token:a", "token:a/user:u1", {}, book.now());
    EXPECT_EQ(book.held("token:a"), 0u);
    EXPECT_EQ(book.all_owners().size(), 1u);
}

TEST(SessionBackend, OwnerNamesKeepTokensAndUsersApart) {
    EXPECT_EQ(SessionBackend::client_owner({"grader", false}), "token:grader");
    EXPECT_EQ(SessionBackend::user_owner({"grader", false}, "u-1"), "token:grader/user:u-1");
    EXPECT_EQ(SessionBackend::client_owner({"anonymous@127.0.0.1", true}), "anonymous@127.0.0.1");
    EXPECT_EQ(SessionBackend::user_owner({"anonymous@::1", true}, "x"), "anonymous@::1/user:x");
}

TEST(SessionBackend, ResultTextIsWhatANotebookCellShows) {
    protocol::SessionExecResult r;
    r.run.status = "ok";
    r.run.stdout_data = "out\n";
    r.run.stderr_data = "err\n";
    r.value = "42";
    EXPECT_EQ(SessionBackend::result_text(r, false), "out\nerr\n42\n");
    r.value.reset();
    r.run.status = "runtime_error";
    r.error = protocol::SessionErrorInfo{"ZeroDivisionError", "division by zero", "Traceback...\nZeroDivisionError: division by zero\n"};
    EXPECT_EQ(SessionBackend::result_text(r, false),
              "out\nerr\nTraceback...\nZeroDivisionError: division by zero\n");
    protocol::SessionExecResult t;
    t.run.status = "time_limit";
    t.run.message = "wall-clock limit of 1s exceeded; the interpreter was replaced and its state is lost";
    t.state_lost = true;
    EXPECT_EQ(SessionBackend::result_text(t, false),
              "[time_limit: wall-clock limit of 1s exceeded; the interpreter was replaced and its state is lost]\n");
    protocol::SessionExecResult lost;
    lost.run.status = "ok";
    lost.state_lost = true;
    lost.value = "1";
    EXPECT_EQ(SessionBackend::result_text(lost, false),
              "1\n[the interpreter had ended since the last call and was restarted: earlier state is lost]\n");
    lost.state_lost = false;
    EXPECT_NE(SessionBackend::result_text(lost, true).find("a new one was started: earlier state is lost]"),
              std::string::npos);
}

TEST(SessionBackend, SessionErrorsBecomeHttpStatuses) {
    auto cap = http_error_from({protocol::ErrorCode::too_many_sessions, "uid 7 already has 8 open sessions", {}});
    EXPECT_EQ(cap.status, HttpStatus::too_many_requests);
    EXPECT_EQ(cap.code, "too_many_sessions");
    auto memory = http_error_from({protocol::ErrorCode::session_memory_exhausted, "does not fit", {}});
    EXPECT_EQ(memory.status, HttpStatus::service_unavailable);
    EXPECT_TRUE(memory.retry_after_s);
    EXPECT_EQ(http_error_from({protocol::ErrorCode::not_found, "no session 'x'", {}}).status, HttpStatus::not_found);

    // The exec body needs its code (an empty cell is fine).
    auto missing = protocol::session_exec_from_json(nlohmann::json::parse(R"({"limits": {}})"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, protocol::ErrorCode::invalid_request);
    EXPECT_EQ(missing.error().message, "exec.code: missing");
    EXPECT_TRUE(protocol::session_exec_from_json(nlohmann::json::parse(R"({"code": ""})")));
}

}  // namespace
}  // namespace sbx::http
