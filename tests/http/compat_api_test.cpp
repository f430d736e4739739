// The compatibility APIs other than Piston: the MultiPL-E style server, POST /run, /api/v1/ and
// /execute + /submit, each with its original's exact shapes.
#include <regex>
#include <set>

#include "tests/http/http_fixture.hpp"

namespace sbx::testing {
namespace {

using nlohmann::json;
using Compat = AnonymousProxy;

std::set<std::string> keys_of(const json& object) {
    std::set<std::string> out;
    for (const auto& [k, v] : object.items()) out.insert(k);
    return out;
}

TEST_F(Compat, PyExecAnswersStatusLineThenOutput) {
    auto c = client();
    auto r = c.post("/py_exec", json{{"code", "print(1+1)"}, {"timeout", 30}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.body, "0\n2\n");

    // stdin, and a body sent without a content type, as code_exec_reqs.py sends it.
    r = c.post("/py_exec", json{{"code", "print(input()[::-1])"}, {"timeout", 5}, {"stdin", "abc\n"}}.dump(),
               {{"Content-Type", "text/plain"}});
    EXPECT_EQ(r.body, "0\ncba\n");

    r = c.post("/py_exec", json{{"code", "print('out')\nraise ValueError('boom')"}, {"timeout", 5}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.rfind("1\nTraceback (most recent call last):", 0), 0u) << r.body;
    EXPECT_NE(r.body.find("ValueError: boom"), std::string::npos);
    EXPECT_EQ(r.body.find("out"), std::string::npos) << "stdout is not part of a failure's output";

    r = c.post("/py_exec", json{{"code", "while True: pass"}, {"timeout", 1}});
    EXPECT_EQ(r.body, "1\nTimeout");

    r = c.post("/py_exec", json{{"code", "print(1+1)"}, {"timeout", 5}, {"json_resp", true}});
    EXPECT_EQ(r.body, "{\"output\":\"2\\n\",\"status\":0}");
    r = c.post("/py_exec", json{{"code", "import sys; sys.exit('bad')"}, {"timeout", 5}, {"json_resp", true}});
    EXPECT_EQ(r.body, "{\"output\":\"bad\\n\",\"status\":1}");

    // A generous client timeout (the original's client defaults to 30 s) is lowered to the policy's maximum.
    r = c.post("/py_exec", json{{"code", "print(5)"}, {"timeout", 3600}});
    EXPECT_EQ(r.body, "0\n5\n");

    r = c.post("/py_exec", std::string("{\"code\": "));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.rfind("1\nInvalid JSON input", 0), 0u) << r.body;
    r = c.post("/py_exec", json{{"code", 5}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body, "1\nInvalid JSON input: code must be a string, got number");
    r = c.post("/py_exec", json{{"code", "x"}, {"testhash", {"bank", "0123"}}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body.rfind("1\nTesthash is not supported", 0), 0u) << r.body;
}

TEST_F(Compat, AnyExecAnswersTheMultiplEEvaluatorsJson) {
    auto c = client();
    auto r = c.post("/any_exec", json{{"code", "print(1+1)"}, {"lang", "py"}, {"timeout", 10}});
    ASSERT_EQ(r.status, 200) << r.body;
    // Python's json.dumps: ", " and ": " separators, non-ASCII escaped, a newline after (print).
    EXPECT_EQ(r.body, "0\n{\"status\": \"OK\", \"exit_code\": 0, \"stdout\": \"2\\n\", \"stderr\": \"\"}\n");

    r = c.post("/any_exec", json{{"code", "print('\xc3\xa9\xf0\x9f\x98\x80')\nassert 1 == 2"}, {"lang", "python"}, {"timeout", 10}});
    json j = json::parse(r.body.substr(2));
    EXPECT_EQ(j["status"], "Exception");
    EXPECT_EQ(j["exit_code"], 1);
    EXPECT_EQ(j["stdout"], "\xc3\xa9\xf0\x9f\x98\x80\n");
    EXPECT_NE(r.body.find("\\u00e9\\ud83d\\ude00"), std::string::npos) << r.body;
    EXPECT_NE(j["stderr"].get<std::string>().find("AssertionError"), std::string::npos);

    r = c.post("/any_exec", json{{"code", "def f(:\n  pass"}, {"lang", "py"}, {"timeout", 10}});
    EXPECT_EQ(json::parse(r.body.substr(2))["status"], "SyntaxError");

    r = c.post("/any_exec", json{{"code", "while True: pass"}, {"lang", "py"}, {"timeout", 1}});
    j = json::parse(r.body.substr(2));
    EXPECT_EQ(j["status"], "Timeout");
    EXPECT_EQ(j["exit_code"], -1);

    r = c.post("/any_exec", json{{"code", "int main() { return 3; }"}, {"lang", "cpp"}, {"timeout", 10}});
    j = json::parse(r.body.substr(2));
    EXPECT_EQ(j["status"], "Exception");
    EXPECT_EQ(j["exit_code"], 3);
    r = c.post("/any_exec", json{{"code", "int main() { return x; }"}, {"lang", "cpp"}, {"timeout", 10}});
    j = json::parse(r.body.substr(2));
    EXPECT_EQ(j["status"], "SyntaxError");
    EXPECT_NE(j["exit_code"], 0);
    EXPECT_NE(j["stderr"].get<std::string>().find("error"), std::string::npos);

    r = c.post("/any_exec", json{{"code", "console.log([1,2].map(x => x * 2).join(','))"}, {"lang", "js"}, {"timeout", 10}});
    EXPECT_EQ(json::parse(r.body.substr(2))["stdout"], "2,4\n");
    r = c.post("/any_exec", json{{"code", "echo $((6 * 7))"}, {"lang", "sh"}, {"timeout", 10}});
    EXPECT_EQ(json::parse(r.body.substr(2))["stdout"], "42\n");
    // A process killed by a signal reports -N, as Python's subprocess does.
    r = c.post("/any_exec", json{{"code", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"}, {"lang", "py"}, {"timeout", 10}});
    EXPECT_EQ(json::parse(r.body.substr(2))["exit_code"], -11);

    r = c.post("/any_exec", json{{"code", "x"}, {"lang", "intercal"}, {"timeout", 10}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.rfind("1\n", 0), 0u);
    EXPECT_NE(r.body.find("intercal"), std::string::npos);
}

TEST_F(Compat, PyCoverageAndHealth) {
    auto c = client();
    auto r = c.post("/py_coverage",
                    json{{"code", "def f(x):\n    if x:\n        return 1\n    return 2\nprint(f(1))\n"}, {"timeout", 10}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "{\"coverage\":80}");
    r = c.post("/py_coverage", json{{"code", "print(1)"}, {"timeout", 10}});
    EXPECT_EQ(r.body, "{\"coverage\":100}");
    r = c.post("/py_coverage", json{{"code", "raise SystemExit(2)"}, {"timeout", 10}});
    EXPECT_EQ(r.body, "{\"coverage\":-1}");
    r = c.post("/py_coverage", std::string("nope"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, "-1");

    r = c.get("/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "OK");
}

TEST_F(Compat, RunAnswersStdoutFinishedTime) {
    auto c = client();
    auto r = c.post("/run", json{{"code", "print('hello')"}});
    ASSERT_EQ(r.status, 200) << r.body;
    json j = r.json();
    EXPECT_EQ(j.size(), 3u);
    EXPECT_EQ(j["stdout"], "hello\n");
    EXPECT_EQ(j["finished"], true);
    EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(), std::regex(R"(\d+ ms)"))) << j["time"];

    r = c.post("/run", json{{"code", "echo $0 >&2; exit 3"}, {"language", "bash"}});
    EXPECT_EQ(r.json()["finished"], true);
    EXPECT_NE(r.json()["stdout"].get<std::string>().find("main.sh"), std::string::npos) << r.body;

    r = c.post("/run", json{{"code", "import time\ntime.sleep(60)"}, {"language", "python"}});
    EXPECT_EQ(r.json()["finished"], false);

    r = c.post("/run", json{{"source", "print(1)"}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.json()["error"], "code is required");
}

TEST_F(Compat, ApiV1ExecuteWithTestCases) {
    auto c = client();
    auto r = c.post("/api/v1/execute", json{{"language", "python"}, {"code", "print(input() * 2)"}, {"stdin", "ab"}});
    ASSERT_EQ(r.status, 200) << r.body;
    json j = r.json();
    EXPECT_EQ(j["status"], "success");
    EXPECT_EQ(j["stdout"], "abab\n");
    EXPECT_EQ(j["exit_code"], 0);
    EXPECT_TRUE(j["execution_time"].is_number());
    EXPECT_TRUE(j["memory_usage"].is_number());
    EXPECT_FALSE(j.contains("test_results"));

    r = c.post("/api/v1/execute", json{{"language", "python"},
                                       {"code", "a, b = map(int, input().split())\nprint(a + b)"},
                                       {"test_cases", {{{"input", "1 2"}, {"expected_output", "3"}},
                                                       {{"input", "2 2"}, {"expected_output", "5"}}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    j = r.json();
    EXPECT_EQ(j["status"], "wrong_answer");
    EXPECT_EQ(j["passed"], 1);
    EXPECT_EQ(j["total"], 2);
    ASSERT_EQ(j["test_results"].size(), 2u);
    json t0 = j["test_results"][0];
    EXPECT_EQ(t0["test_case"], 1);
    EXPECT_EQ(t0["passed"], true);
    EXPECT_EQ(t0["status"], "success");
    EXPECT_EQ(t0["input"], "1 2");
    EXPECT_EQ(t0["expected_output"], "3");
    EXPECT_EQ(t0["actual_output"], "3\n");
    EXPECT_EQ(j["test_results"][1]["passed"], false);
    EXPECT_EQ(j["test_results"][1]["actual_output"], "4\n");

    r = c.post("/api/v1/execute", json{{"language", "python"}, {"code", "while True: pass"}, {"timeout", 0.5}});
    EXPECT_EQ(r.json()["status"], "time_limit_exceeded");
    r = c.post("/api/v1/execute", json{{"language", "python"}, {"code", "x"}, {"test_cases", {{{"input", "1"}}}}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.json()["message"], "test_cases[0].expected_output is required");

    r = c.get("/api/v1/languages");
    ASSERT_EQ(r.status, 200);
    bool seen = false;
    for (const auto& l : r.json())
        if (l["id"] == "python") {
            seen = true;
            EXPECT_TRUE(std::regex_match(l["version"].get<std::string>(), std::regex(R"(3\.\d+\.\d+)"))) << l;
        }
    EXPECT_TRUE(seen);
    r = c.get("/api/v1/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["status"], "healthy");
    r = c.get("/api/v1/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_GE(r.json()["jobs_total"].get<int>(), 3);
    EXPECT_TRUE(r.json()["jobs_by_status"].contains("ok"));
}

TEST_F(Compat, ExecuteSubmitAndStoredSubmissions) {
    auto c = client();
    auto r = c.post("/execute", json{{"code", "import sys\nprint('out')\nprint('err', file=sys.stderr)"}});
    ASSERT_EQ(r.status, 200) << r.body;
    json j = r.json();
    EXPECT_EQ(j.size(), 4u);
    EXPECT_EQ(j["output"], "out\nerr\n");
    EXPECT_TRUE(j["time"].is_number_float());
    EXPECT_GT(j["memory"].get<int>(), 0);
    EXPECT_EQ(j["exit_code"], 0);

    r = c.post("/submit", json{{"code", "print(input())"}, {"stdin", "kept"}, {"language", "python"}});
    ASSERT_EQ(r.status, 200) << r.body;
    j = r.json();
    std::string id = j["submission_id"];
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}")));
    EXPECT_EQ(j["output"], "kept\n");

    r = c.get("/submissions/" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    j = r.json();
    EXPECT_EQ(j["submission_id"], id);
    EXPECT_EQ(j["code"], "print(input())");
    EXPECT_EQ(j["stdin"], "kept");
    EXPECT_EQ(j["language"], "python");
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["output"], "kept\n");
    EXPECT_EQ(j["exit_code"], 0);
    EXPECT_TRUE(std::regex_match(j["created_at"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));

    r = c.get("/submissions/00000000000000000000000000000000");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(r.json().contains("error"));

    // With user_uuid, /execute is the stateful interpreter (tests/http/session_api_test.cpp has the
    // rest): in anonymous mode too, the state is kept per user_uuid.
    r = c.post("/execute", json{{"code", "x = 41"}, {"user_uuid", "4f1c"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(keys_of(r.json()), (std::set<std::string>{"result_text", "result_base64", "images_base64", "status",
                                                        "state_lost"}));
    r = c.post("/execute", json{{"code", "x + 1"}, {"user_uuid", "4f1c"}});
    EXPECT_EQ(r.json()["result_text"], "42\n") << r.body;
    EXPECT_EQ(c.get("/status").json()["users"][0]["user_uuid"], "4f1c");
    EXPECT_EQ(c.post("/release", json{{"user_uuid", "4f1c"}}).status, 200);

    r = c.post("/execute", json{{"code", "raise SystemExit(7)"}});
    EXPECT_EQ(r.json()["exit_code"], 7);
    r = c.post("/execute", json{{"code", "import os; os.kill(os.getpid(), 9)"}});
    EXPECT_EQ(r.json()["exit_code"], 137);
}

}  // namespace
}  // namespace sbx::testing
