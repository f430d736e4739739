#include "tests/e2e/dataset_harness.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sbx::testing {

namespace fs = std::filesystem;

std::string datasets_dir() {
    if (const char* env = std::getenv("SANDBOXD_DATASETS"); env != nullptr && *env != '\0') return env;
    return (fs::path(SANDBOXD_SOURCE_DIR) / ".." / "shared" / "datasets").lexically_normal().string();
}

namespace {

std::string gunzip_file(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) throw std::runtime_error("cannot open " + path + " (set SANDBOXD_DATASETS?)");
    std::string out;
    char buf[65536];
    int n = 0;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    gzclose(f);
    return out;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path + " (set SANDBOXD_DATASETS?)");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---- composing MultiPL-E programs -------------------------------------------------------------

// The code in the first Markdown fence, or the whole text when there is none.
std::string fenced_code(const std::string& text) {
    auto open = text.find("```");
    if (open == std::string::npos) return text;
    auto start = text.find('\n', open);
    if (start == std::string::npos) return text;
    auto close = text.find("```", start + 1);
    return text.substr(start + 1, close == std::string::npos ? std::string::npos : close - start - 1);
}

std::string drop_first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? std::string() : s.substr(nl + 1);
}

// Skips a string, character or comment starting at `i`, returning the index after it, or `i` when
// nothing starts there. C-family lexing, close enough for brace matching: "...", '.' (only when it
// closes within a few characters: Rust lifetimes and Scala symbols are not literals), `...` (Go raw
// strings), // and /* */ comments.
std::size_t skip_literal(const std::string& s, std::size_t i) {
    char c = s[i];
    if (c == '"' || c == '`') {
        for (std::size_t j = i + 1; j < s.size(); ++j) {
            if (s[j] == '\\' && c == '"') {
                ++j;
                continue;
            }
            if (s[j] == c) return j + 1;
            if (s[j] == '\n' && c == '"') return j;  // unterminated: stop at the line's end
        }
        return s.size();
    }
    if (c == '\'') {
        for (std::size_t j = i + 1; j < s.size() && j <= i + 4; ++j) {
            if (s[j] == '\\') {
                ++j;
                continue;
            }
            if (s[j] == '\'') return j + 1;
        }
        return i;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
        auto nl = s.find('\n', i);
        return nl == std::string::npos ? s.size() : nl;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
        auto end = s.find("*/", i + 2);
        return end == std::string::npos ? s.size() : end + 2;
    }
    return i;
}

// Index just after the brace closing the one at `open`, or npos.
std::size_t matching_brace(const std::string& s, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < s.size();) {
        std::size_t after = skip_literal(s, i);
        if (after != i) {
            i = after;
            continue;
        }
        if (s[i] == '{') ++depth;
        if (s[i] == '}' && --depth == 0) return i + 1;
        ++i;
    }
    return std::string::npos;
}

// Removes every definition whose header matches `header` (from the start of its line through
// the brace closing its body). A header whose body does not open on its own or the next line
// (a one-line Scala `def main(...) = expr`) loses just its line.
std::string remove_definitions(std::string code, const std::regex& header) {
    std::size_t from = 0;
    std::smatch m;
    while (from < code.size()) {
        std::string rest = code.substr(from);
        if (!std::regex_search(rest, m, header)) break;
        std::size_t at = from + static_cast<std::size_t>(m.position(0));
        std::size_t line_start = code.rfind('\n', at);
        line_start = line_start == std::string::npos ? 0 : line_start + 1;
        std::size_t brace = code.find('{', at + static_cast<std::size_t>(m.length(0)));
        std::size_t line_end = code.find('\n', at);
        std::size_t next_line_end = line_end == std::string::npos ? std::string::npos : code.find('\n', line_end + 1);
        if (brace == std::string::npos || (next_line_end != std::string::npos && brace > next_line_end)) {
            code.erase(line_start, line_end == std::string::npos ? std::string::npos : line_end - line_start + 1);
            from = line_start;
            continue;
        }
        std::size_t end = matching_brace(code, brace);
        if (end == std::string::npos) break;
        if (end < code.size() && code[end] == '\n') ++end;
        code.erase(line_start, end - line_start);
        from = line_start;
    }
    return code;
}

// Removes the last closing brace outside strings and comments (the end of the solution's class).
std::string reopen_last_block(std::string code) {
    std::size_t last = std::string::npos;
    for (std::size_t i = 0; i < code.size();) {
        std::size_t after = skip_literal(code, i);
        if (after != i) {
            i = after;
            continue;
        }
        if (code[i] == '}') last = i;
        ++i;
    }
    if (last != std::string::npos) code.erase(last, 1);
    return code;
}

std::string compose_go(std::string code, const std::string& tests) {
    code = std::regex_replace(code, std::regex(R"(^package\s+\S+)", std::regex::multiline), "package main", std::regex_constants::format_first_only);
    code = remove_definitions(code, std::regex(R"(func\s+main\s*\()"));
    code = remove_definitions(code, std::regex(R"(func\s+Test\w*\s*\()"));
    for (const char* pkg : {"testing", "fmt"}) {
        const std::string quoted = std::string("\"") + pkg + "\"";
        if (code.find(quoted) != std::string::npos) continue;
        auto block = code.find("import (");
        if (block != std::string::npos) {
            code.insert(block + 8, "\n\t" + quoted);
        } else {
            auto pkg_line = code.find("package main");
            auto nl = code.find('\n', pkg_line == std::string::npos ? 0 : pkg_line);
            code.insert(nl == std::string::npos ? code.size() : nl + 1, "import " + quoted + "\n");
        }
    }
    std::string calls;
    std::smatch m;
    std::string rest = tests;
    std::regex test_func(R"(func\s+(Test\w+)\s*\()");
    while (std::regex_search(rest, m, test_func)) {
        calls += "{Name: \"" + m[1].str() + "\", F: " + m[1].str() + "}, ";
        rest = m.suffix();
    }
    return code + "\n" + tests +
           "\nfunc main() {\n\ttesting.Main(func(pat, str string) (bool, error) { return true, nil },\n"
           "\t\t[]testing.InternalTest{" + calls + "}, nil, nil)\n}\n";
}

}  // namespace

std::string compose_multipl_e(const std::string& lang, const std::string& prompt, const std::string& gpt_solution,
                              const std::string& tests) {
    (void)prompt;  // the solutions repeat it, completed
    std::string code = fenced_code(gpt_solution);
    if (lang == "cpp")
        return remove_definitions(code, std::regex(R"((^|\n)\s*int\s+main\s*\()")) + "\n" + drop_first_line(tests);
    if (lang == "rs") return remove_definitions(code, std::regex(R"(fn\s+main\s*\()")) + "\n" + drop_first_line(tests);
    if (lang == "d") return remove_definitions(code, std::regex(R"((void|int)\s+main\s*\()")) + "\n" + tests;
    if (lang == "java") {
        code = remove_definitions(code, std::regex(R"(public\s+static\s+void\s+main\s*\()"));
        return reopen_last_block(code) + "\n" + drop_first_line(tests);
    }
    if (lang == "scala") {
        code = remove_definitions(code, std::regex(R"(def\s+main\s*\()"));
        return reopen_last_block(code) + "\n" + drop_first_line(tests);
    }
    if (lang == "cs") {
        code = remove_definitions(code, std::regex(R"(static\s+(void|int)\s+Main\s*\()"));
        std::string body = reopen_last_block(code) + "\n" + drop_first_line(tests);
        body = std::regex_replace(body, std::regex(R"(Debug\.Assert\()"), "HarnessCheck.That(");
        return body + "\nstatic class HarnessCheck {\n    public static void That(bool ok) {\n"
                      "        if (!ok) throw new System.Exception(\"assertion failed\");\n    }\n}\n";
    }
    if (lang == "go") return compose_go(code, tests);
    if (lang == "sh" || lang == "swift") return code + "\n" + drop_first_line(tests);
    if (lang == "php") {
        if (code.find("<?php") == std::string::npos) code = "<?php\n" + code;
        auto end = code.rfind("?>");
        if (end != std::string::npos && code.find_first_not_of(" \t\r\n", end + 2) == std::string::npos) code.erase(end);
        return code + "\n" + tests;
    }
    // js, ts, lua, pl, r, rb, rkt, jl: the tests follow a complete program.
    return code + "\n" + tests;
}

std::vector<HumanEvalProblem> load_humaneval() {
    std::vector<HumanEvalProblem> out;
    for (const auto& j : json_lines(gunzip_file(datasets_dir() + "/humaneval/HumanEval.jsonl.gz"))) {
        const std::string entry = j.at("entry_point");
        out.push_back({j.at("task_id"), j.at("prompt").get<std::string>() + j.at("canonical_solution").get<std::string>() +
                                            "\n" + j.at("test").get<std::string>() + "\ncheck(" + entry + ")\n"});
    }
    return out;
}

std::vector<std::string> multipl_e_languages() {
    std::vector<std::string> out;
    // Called while the tests are listed (at build time): without the datasets there is nothing to
    // list, and the HumanEval test fails naming the missing directory, instead of the build failing.
    std::error_code ec;
    fs::directory_iterator dir(datasets_dir() + "/multipl-e", ec);
    if (ec) return out;
    for (const auto& e : dir) {
        std::string name = e.path().filename().string();
        if (name.starts_with("humaneval-") && name.ends_with(".jsonl"))
            out.push_back(name.substr(10, name.size() - 10 - 6));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<MultiplEProblem> load_multipl_e(const std::string& short_name) {
    std::vector<MultiplEProblem> out;
    for (const auto& j : json_lines(slurp(datasets_dir() + "/multipl-e/humaneval-" + short_name + ".jsonl"))) {
        out.push_back({j.at("name"), compose_multipl_e(short_name, j.at("prompt"), j.at("gpt_solution"), j.at("tests"))});
    }
    return out;
}

// ---- the oracle -------------------------------------------------------------------------------

namespace {

constexpr uid_t kNobody = 65534;

struct Spawned {
    bool timed_out = false;
    int status = 0;
};

// Runs argv in `dir` as nobody, its own process group, output to files in `dir`, killed (with
// every process of its group) after `timeout`.
Spawned spawn_as_nobody(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& dir,
                        std::chrono::milliseconds timeout) {
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string out_path = dir + "/.oracle-output";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        int in = ::open("/dev/null", O_RDONLY);
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0 || ::fchown(out, kNobody, kNobody) != 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        if (::chdir(dir.c_str()) != 0 || ::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0)
            ::_exit(126);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    Spawned r;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        pid_t done = ::waitpid(pid, &r.status, WNOHANG);
        if (done == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            r.timed_out = true;
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &r.status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(-pid, SIGKILL);  // whatever it left running in the background
    return r;
}

}  // namespace

std::pair<policy::Duration, policy::Duration> stage_wall_limits(const policy::Catalog& catalog,
                                                                const policy::Language& language, double scale) {
    const policy::Policy& policy = *catalog.policy("default");
    auto wall = [&](const policy::LimitRequest& stage) {
        auto d = std::chrono::duration_cast<policy::Duration>(policy.limits.with_defaults(stage).defaults().wall_time * scale);
        return std::min(d, policy.limits.wall_time.maximum);
    };
    return {wall(language.run_limits.overridden_by(language.compile_limits)), wall(language.run_limits)};
}

OracleOutcome run_oracle(const policy::Catalog& catalog, const policy::Language& language, const std::string& program,
                         double time_scale) {
    char tmpl[] = "/tmp/sandboxd-oracle-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return {false, false, "mkdtemp failed"};
    const std::string dir = tmpl;
    ::chown(dir.c_str(), kNobody, kNobody);
    {
        std::ofstream(dir + "/" + language.source_file, std::ios::binary) << program;
    }
    ::chown((dir + "/" + language.source_file).c_str(), kNobody, kNobody);
    const policy::Policy& policy = *catalog.policy("default");
    std::vector<std::string> env;
    for (const auto& [k, v] : policy.env) env.push_back(k + "=" + v);
    env.push_back("HOME=" + dir);
    for (const auto& [k, v] : language.env) env.push_back(k + "=" + v);
    const auto [compile_wall, run_wall] = stage_wall_limits(catalog, language, time_scale);
    OracleOutcome outcome;
    auto ms = [](policy::Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); };
    auto describe = [](const char* stage, const Spawned& s) {
        if (s.timed_out) return std::string(stage) + ": timeout";
        if (WIFSIGNALED(s.status)) return std::string(stage) + ": signal " + std::to_string(WTERMSIG(s.status));
        return std::string(stage) + ": exit " + std::to_string(WEXITSTATUS(s.status));
    };
    bool ok = true;
    if (language.compiled()) {
        auto c = spawn_as_nobody(language.expand(language.compile), env, dir, ms(compile_wall));
        ok = !c.timed_out && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;
        outcome.timed_out = c.timed_out;
        outcome.detail = describe("compile", c);
    }
    if (ok) {
        auto r = spawn_as_nobody(language.expand(language.run), env, dir, ms(run_wall));
        ok = !r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
        outcome.timed_out = r.timed_out;
        outcome.detail = describe("run", r);
    }
    outcome.passed = ok;
    std::error_code ec;
    fs::remove_all(dir, ec);
    return outcome;
}

void run_parallel(std::size_t count, unsigned workers, const std::function<void(std::size_t)>& each) {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
            for (std::size_t i = next++; i < count; i = next++) each(i);
        });
    }
    for (auto& t : threads) t.join();
}

}  // namespace sbx::testing
