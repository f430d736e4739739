// Piston v2: /api/v2/execute and /api/v2/runtimes with Piston's shapes and messages.
#include <regex>

#include "tests/http/http_fixture.hpp"

namespace sbx::testing {
namespace {

using nlohmann::json;
using Piston = AnonymousProxy;

HttpResult execute(HttpClient& c, const json& body) { return c.post("/api/v2/execute", body); }

json file(const std::string& content) { return json::array({{{"content", content}}}); }

TEST_F(Piston, Runtimes) {
    auto c = client();
    auto r = c.get("/api/v2/runtimes");
    ASSERT_EQ(r.status, 200) << r.body;
    json list = r.json();
    ASSERT_TRUE(list.is_array());
    bool python = false;
    for (const auto& rt : list) {
        EXPECT_EQ(rt.size(), 3u) << rt;
        EXPECT_TRUE(rt["language"].is_string());
        EXPECT_TRUE(std::regex_match(rt["version"].get<std::string>(), std::regex(R"(\d+(\.\d+)*)"))) << rt;
        EXPECT_TRUE(rt["aliases"].is_array());
        if (rt["language"] == "python") {
            python = true;
            EXPECT_NE(std::find(rt["aliases"].begin(), rt["aliases"].end(), "py"), rt["aliases"].end());
        }
    }
    EXPECT_TRUE(python);
}

TEST_F(Piston, ExecuteInterpretedAndCompiled) {
    auto c = client();
    auto r = execute(c, {{"language", "python"}, {"version", "3"}, {"files", file("import sys\nprint(repr(sys.stdin.read()), sys.argv[1:])")},
                         {"stdin", "abc"}, {"args", {"x", "y"}}});
    ASSERT_EQ(r.status, 200) << r.body;
    // Keys in Piston's order; no compile stage for an interpreted language.
    EXPECT_EQ(r.body.rfind("{\"run\":{\"signal\":null,\"stdout\":", 0), 0u) << r.body;
    json j = r.json();
    EXPECT_EQ(j.size(), 3u);
    EXPECT_EQ(j["language"], "python");
    EXPECT_TRUE(std::regex_match(j["version"].get<std::string>(), std::regex(R"(3\.\d+\.\d+)")));
    json run = j["run"];
    EXPECT_EQ(run.size(), 10u);
    // Piston ends stdin with a newline.
    EXPECT_EQ(run["stdout"], "'abc\\n' ['x', 'y']\n");
    EXPECT_EQ(run["stderr"], "");
    EXPECT_EQ(run["output"], run["stdout"]);
    EXPECT_EQ(run["code"], 0);
    EXPECT_TRUE(run["signal"].is_null());
    EXPECT_TRUE(run["status"].is_null());
    EXPECT_TRUE(run["message"].is_null());
    EXPECT_GT(run["memory"].get<long>(), 0);
    EXPECT_TRUE(run["cpu_time"].is_number());
    EXPECT_TRUE(run["wall_time"].is_number());

    // By alias, with a version selector, files by name and base64.
    r = execute(c, {{"language", "c++"},
                    {"version", "*"},
                    {"files", {{{"name", "main.cpp"}, {"content", "#include <fstream>\n#include <iostream>\nint main(){std::ifstream f(\"data.txt\"); std::string s; f >> s; std::cout << s << \"!\\n\";}"}},
                               {{"name", "data.txt"}, {"content", "aGVsbG8="}, {"encoding", "base64"}}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    j = r.json();
    EXPECT_EQ(j["language"], "cpp");
    ASSERT_TRUE(j.contains("compile"));
    EXPECT_EQ(r.body.rfind("{\"compile\":{", 0), 0u);
    EXPECT_EQ(j["compile"]["code"], 0);
    EXPECT_EQ(j["run"]["stdout"], "hello!\n");

    // A compile error: the compile stage, repeated as run.
    r = execute(c, {{"language", "c"}, {"version", "*"}, {"files", file("int main() { return x; }")}});
    ASSERT_EQ(r.status, 200) << r.body;
    j = r.json();
    EXPECT_EQ(j["compile"]["status"], "RE");
    EXPECT_EQ(j["compile"]["code"], 1);
    EXPECT_EQ(j["compile"]["message"], "Exited with error status 1");
    EXPECT_EQ(j["run"], j["compile"]);
}

TEST_F(Piston, StatusesAsIsolateReportsThem) {
    auto c = client();
    auto r = execute(c, {{"language", "python"}, {"version", "*"}, {"files", file("import sys\nprint('e', file=sys.stderr)\nsys.exit(3)")}});
    json run = r.json()["run"];
    EXPECT_EQ(run["status"], "RE");
    EXPECT_EQ(run["code"], 3);
    EXPECT_EQ(run["message"], "Exited with error status 3");
    EXPECT_EQ(run["stderr"], "e\n");
    EXPECT_EQ(run["output"], "e\n");

    r = execute(c, {{"language", "python"}, {"version", "*"}, {"files", file("import os\nos.kill(os.getpid(), 6)")}});
    run = r.json()["run"];
    EXPECT_EQ(run["status"], "SG");
    EXPECT_EQ(run["signal"], "SIGABRT");
    EXPECT_TRUE(run["code"].is_null());
    EXPECT_EQ(run["message"], "Caught fatal signal 6");

    r = execute(c, {{"language", "python"}, {"version", "*"}, {"files", file("while True: pass")}, {"run_timeout", 300}});
    run = r.json()["run"];
    EXPECT_EQ(run["status"], "TO");
    EXPECT_EQ(run["signal"], "SIGKILL");
    EXPECT_LT(run["wall_time"].get<double>(), 3000);

    r = execute(c, {{"language", "python"}, {"version", "*"}, {"files", file("x = b'a' * (200 << 20)")},
                    {"run_memory_limit", 64 << 20}});
    run = r.json()["run"];
    EXPECT_EQ(run["signal"], "SIGKILL") << r.body;
    EXPECT_EQ(run["status"], "SG");
}

TEST_F(Piston, ErrorsUsePistonsMessages) {
    auto c = client();
    auto expect_message = [&](const json& body, int status, const std::string& message) {
        auto r = execute(c, body);
        EXPECT_EQ(r.status, status) << body;
        EXPECT_EQ(r.json(), json({{"message", message}})) << r.body;
    };
    expect_message({{"version", "*"}, {"files", file("x")}}, 400, "language is required as a string");
    expect_message({{"language", "python"}, {"files", file("x")}}, 400, "version is required as a string");
    expect_message({{"language", "python"}, {"version", "*"}}, 400, "files is required as an array");
    expect_message({{"language", "python"}, {"version", "*"}, {"files", {{{"name", "a"}}}}}, 400,
                   "files[0].content is required as a string");
    expect_message({{"language", "python"}, {"version", "9.9"}, {"files", file("x")}}, 400, "python-9.9 runtime is unknown");
    expect_message({{"language", "brainfuck"}, {"version", "*"}, {"files", file("x")}}, 400,
                   "brainfuck-* runtime is unknown");
    expect_message({{"language", "python"}, {"version", "*"}, {"files", file("x")}, {"run_timeout", "5"}}, 400,
                   "If specified, run_timeout must be a number");
    expect_message({{"language", "python"}, {"version", "*"}, {"files", file("x")}, {"run_timeout", 120001}}, 400,
                   "run_timeout cannot exceed the configured limit of 120000");
    expect_message({{"language", "python"}, {"version", "*"}, {"files", file("x")}, {"compile_memory_limit", -5}}, 400,
                   "compile_memory_limit must be non-negative");
    expect_message({{"language", "python"}, {"version", "*"}, {"files", {{{"content", "eA=="}, {"encoding", "base64"}}}}},
                   400, "files must include at least one utf8 encoded file");
    auto r = c.post("/api/v2/execute", json{{"language", "python"}}.dump(), {{"Content-Type", "text/plain"}});
    EXPECT_EQ(r.status, 415);
    EXPECT_EQ(r.json(), json({{"message", "requests must be of type application/json"}}));
}

}  // namespace
}  // namespace sbx::testing
