// The native API (/v1/), health, metrics and the OpenAPI document, through a real proxy.
#include <regex>
#include <set>

#include "tests/http/http_fixture.hpp"

namespace sbx::testing {
namespace {

using nlohmann::json;
using Native = AnonymousProxy;

std::set<std::string> keys(const json& object) {
    std::set<std::string> out;
    for (const auto& [k, v] : object.items()) out.insert(k);
    return out;
}

TEST_F(Native, RunReturnsTheProtocolsResultWithItsFieldNames) {
    auto c = client();
    auto r = c.post("/v1/run", python("print(1+1)"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    json j = r.json();
    EXPECT_EQ(keys(j), (std::set<std::string>{"job_id", "policy", "language", "status", "exit_code", "signal", "wall_ms",
                                              "cpu_ms", "memory_peak_bytes", "stdout", "stderr", "stdout_truncated",
                                              "stderr_truncated"}));
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["language"], "python");
    EXPECT_EQ(j["policy"], "default");
    EXPECT_EQ(j["stdout"], "2\n");
    EXPECT_EQ(j["exit_code"], 0);
    EXPECT_TRUE(j["wall_ms"].is_number_float());
    EXPECT_GT(j["memory_peak_bytes"].get<std::uint64_t>(), 0u);

    // Keep-alive: the same connection serves the next request; a failing program is still 200.
    r = c.post("/v1/run", python("import sys\nsys.stderr.write('no\\n')\nsys.exit(4)"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["status"], "runtime_error");
    EXPECT_EQ(r.json()["exit_code"], 4);
    EXPECT_EQ(r.json()["stderr"], "no\n");

    // argv runs, stdin, env.
    r = c.post("/v1/run", json{{"argv", {"/bin/sh", "-c", "read x; echo \"$x $GREETING\""}},
                               {"stdin", "hi\n"},
                               {"env", {{"GREETING", "there"}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["stdout"], "hi there\n");
    EXPECT_EQ(r.json()["language"], "");
}

TEST_F(Native, RunWithCompileStageAndTestCases) {
    auto c = client();
    json body = {{"language", "cpp"},
                 {"source", "#include <iostream>\nint main(){long a,b; std::cin>>a>>b; std::cout<<a+b<<\"\\n\";}"},
                 {"tests", {{{"stdin", "1 2\n"}, {"expected_output", "3\n"}}, {{"stdin", "5 5\n"}, {"expected_output", "11"}}}},
                 {"compare", "tokens"}};
    auto r = c.post("/v1/run", body);
    ASSERT_EQ(r.status, 200) << r.body;
    json j = r.json();
    ASSERT_TRUE(j.contains("compile"));
    EXPECT_EQ(j["compile"]["status"], "ok");
    ASSERT_EQ(j["tests"].size(), 2u);
    EXPECT_EQ(j["tests"][0]["verdict"], "accepted");
    EXPECT_EQ(j["tests"][0]["stdout"], "3\n");
    EXPECT_EQ(j["tests"][1]["verdict"], "wrong_answer");
    EXPECT_EQ(j["passed"], 1);
    EXPECT_EQ(j["total"], 2);

    r = c.post("/v1/run", json{{"language", "c"}, {"source", "int main(){ return x; }"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["status"], "compile_error");
    EXPECT_NE(r.json()["compile"]["stderr"].get<std::string>().find("undeclared"), std::string::npos);
}

TEST_F(Native, BadRequestsGetTheDocumentedErrors) {
    auto c = client();
    auto expect_error = [&](const HttpResult& r, int status, const std::string& code, const std::string& in_message) {
        EXPECT_EQ(r.status, status) << r.body;
        json j = r.json();
        ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
        EXPECT_EQ(keys(j["error"]), (std::set<std::string>{"code", "message"}));
        EXPECT_EQ(j["error"]["code"], code) << r.body;
        EXPECT_NE(j["error"]["message"].get<std::string>().find(in_message), std::string::npos) << r.body;
    };
    expect_error(c.post("/v1/run", std::string("{\"language\": ")), 400, "malformed_json", "not valid JSON");
    expect_error(c.post("/v1/run", std::string("[1, 2]")), 400, "malformed_json", "must be a JSON object");
    expect_error(c.post("/v1/run", json{{"language", "python"}, {"source", "x"}, {"stdin", 5}}), 422, "invalid_request",
                 "run.stdin must be a string");
    expect_error(c.post("/v1/run", json{{"language", "python"}, {"source", "x"}, {"limits", {{"memory_limit", "12XB"}}}}),
                 422, "invalid_request", "run.limits.memory_limit");
    expect_error(c.post("/v1/run", json{{"language", "intercal"}, {"source", "x"}}), 400, "unknown_language", "intercal");
    expect_error(c.post("/v1/run", json{{"language", "python"}, {"source", "x"}, {"policy", "gpu"}}), 400,
                 "unknown_policy", "gpu");
    expect_error(c.post("/v1/run", json{{"language", "python"}, {"source", "x"}, {"limits", {{"memory_limit", "64GiB"}}}}),
                 422, "limit_exceeded", "memory_limit");
    expect_error(c.post("/v1/run", json{{"language", "python"}, {"source", "x"}, {"stream", true}}), 422,
                 "invalid_request", "run.stream");
    expect_error(c.post("/v1/run", json{{"language", "python"}}), 422, "invalid_request", "source");
    expect_error(c.get("/v2/run"), 404, "not_found", "/v2/run");
    auto r = c.get("/v1/run");
    expect_error(r, 405, "method_not_allowed", "GET");
    EXPECT_EQ(r.header("Allow"), "POST");
    // After all these the connection still works.
    EXPECT_EQ(c.post("/v1/run", python("print(3)")).json()["stdout"], "3\n");
}

TEST_F(Native, LanguagesAndPolicies) {
    auto c = client();
    auto r = c.get("/v1/languages");
    ASSERT_EQ(r.status, 200) << r.body;
    bool python_seen = false;
    const json languages = r.json()["languages"];
    for (const auto& l : languages) {
        EXPECT_EQ(keys(l), (std::set<std::string>{"name", "display_name", "aliases", "extensions", "compiled", "version",
                                                  "available", "reason"}));
        if (l["name"] == "python") {
            python_seen = true;
            EXPECT_TRUE(l["available"].get<bool>());
            EXPECT_NE(l["version"].get<std::string>().find("3."), std::string::npos);
        }
    }
    EXPECT_TRUE(python_seen) << r.body;
    r = c.get("/v1/policies");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_FALSE(r.json()["policies"].empty());
    json p = r.json()["policies"][0];
    EXPECT_EQ(p["name"], "default");
    EXPECT_EQ(keys(p), (std::set<std::string>{"name", "description", "network", "limits"}));
    EXPECT_EQ(p["limits"]["memory_limit"]["default"], 256 * 1024 * 1024);
    EXPECT_EQ(p["limits"]["memory_limit"]["max"], 2LL * 1024 * 1024 * 1024);
    EXPECT_EQ(p["limits"]["wall_time_limit"]["default"], 10.0);
    EXPECT_EQ(p["limits"]["wall_time_limit"]["max"], 120.0);
}

TEST_F(Native, HealthzMetricsAndOpenApi) {
    auto c = client();
    auto r = c.get("/healthz");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["status"], "ok");
    EXPECT_EQ(keys(r.json()["sandboxd"]), (std::set<std::string>{"server", "uptime_s", "cgroup_backend", "max_jobs",
                                                                  "max_queue", "running", "queued"}));

    ASSERT_EQ(c.post("/v1/run", python("print(1)")).status, 200);
    r = c.get("/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    for (const char* needle :
         {"# TYPE sandbox_http_requests_total counter", "sandbox_http_requests_total{route=\"/v1/run\",method=\"POST\",code=\"200\"}",
          "# TYPE sandbox_http_request_duration_seconds histogram",
          "sandbox_http_request_duration_seconds_bucket{route=\"/v1/run\",le=\"+Inf\"}",
          "sandbox_http_jobs_total{status=\"ok\",language=\"python\"}", "sandboxd_up 1", "sandboxd_queue_depth 0",
          "sandboxd_jobs_running", "sandboxd_jobs_total{status=\"ok\"}", "sandboxd_jobs_by_language_total{language=\"python\"}",
          "# TYPE sandboxd_job_latency_seconds histogram", "sandbox_http_daemon_connections 4"})
        EXPECT_NE(r.body.find(needle), std::string::npos) << needle << "\n" << r.body;

    r = c.get("/openapi.json");
    ASSERT_EQ(r.status, 200);
    json doc = r.json();
    EXPECT_EQ(doc["openapi"], "3.0.3");
    // Every route of every API, and nothing else.
    std::set<std::string> expected = {
        "post /v1/run", "get /v1/languages", "get /v1/policies", "post /v1/sessions", "get /v1/sessions",
        "get /v1/sessions/{id}", "post /v1/sessions/{id}/exec", "delete /v1/sessions/{id}", "get /healthz", "get /metrics",
        "get /openapi.json", "post /py_exec", "post /any_exec", "post /py_coverage", "get /health", "post /run",
        "post /api/v1/execute", "get /api/v1/languages", "get /api/v1/health", "get /api/v1/metrics", "post /execute",
        "post /submit", "get /submissions/{id}", "post /release", "get /status", "post /api/v2/execute",
        "get /api/v2/runtimes"};
    std::set<std::string> documented;
    for (const auto& [path, ops] : doc["paths"].items())
        for (const auto& [method, op] : ops.items()) {
            documented.insert(method + " " + path);
            EXPECT_TRUE(op.contains("summary")) << method << " " << path;
            EXPECT_FALSE(op["responses"].empty()) << method << " " << path;
        }
    EXPECT_EQ(documented, expected);
    EXPECT_TRUE(doc["paths"]["/v1/run"]["post"].contains("security"));
    EXPECT_FALSE(doc["paths"]["/healthz"]["get"].contains("security"));
    EXPECT_TRUE(doc["components"]["schemas"].contains("RunResult"));
    for (const char* schema : {"SessionOpenRequest", "Session", "SessionList", "SessionExecRequest", "SessionExecResult"})
        EXPECT_TRUE(doc["components"]["schemas"].contains(schema)) << schema;
    EXPECT_EQ(doc["paths"]["/v1/sessions"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
              "#/components/schemas/Session");
    EXPECT_EQ(doc["paths"]["/execute"]["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"][1]
                 ["required"],
              json({"user_uuid", "code"}));
}

}  // namespace
}  // namespace sbx::testing
