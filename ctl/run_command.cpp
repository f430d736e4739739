// sandboxctl run / exec.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ctl/commands.hpp"
#include "ctl/exit_codes.hpp"
#include "ctl/session.hpp"
#include "policy/units.hpp"
#include "protocol/json_codec.hpp"

namespace sbx::ctl {

std::optional<std::string> slurp(const std::string& path) {
    std::stringstream ss;
    if (path == "-") {
        ss << std::cin.rdbuf();
        return ss.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    ss << in.rdbuf();
    return ss.str();
}

int usage_error(const std::string& message) {
    std::fprintf(stderr, "sandboxctl: %s\n", message.c_str());
    return kExitUsage;
}

std::optional<std::string> parse_limits(const RunOptions& o, policy::LimitRequest& limits) {
    auto duration = [](const std::string& text, const char* flag,
                       std::optional<policy::Duration>& into) -> std::optional<std::string> {
        if (text.empty()) return std::nullopt;
        auto d = policy::parse_duration(text);
        if (!d) return std::string(flag) + ": " + d.error().message();
        into = *d;
        return std::nullopt;
    };
    auto size = [](const std::string& text, const char* flag,
                   std::optional<std::uint64_t>& into) -> std::optional<std::string> {
        if (text.empty()) return std::nullopt;
        auto s = policy::parse_size(text);
        if (!s) return std::string(flag) + ": " + s.error().message();
        into = *s;
        return std::nullopt;
    };
    if (auto e = duration(o.time_limit, "--time-limit", limits.wall_time)) return e;
    if (auto e = duration(o.cpu_limit, "--cpu-limit", limits.cpu_time)) return e;
    if (auto e = size(o.memory_limit, "--memory-limit", limits.memory_bytes)) return e;
    if (auto e = size(o.output_limit, "--output-limit", limits.output_bytes)) return e;
    if (!o.pids_limit.empty()) {
        try {
            limits.pids = static_cast<std::uint32_t>(std::stoul(o.pids_limit));
        } catch (const std::exception&) {
            return "--pids-limit: '" + o.pids_limit + "' is not a number";
        }
    }
    return std::nullopt;
}

namespace {

std::optional<std::string> common_request(const RunOptions& o, protocol::RunRequest& req) {
    req.policy = o.policy;
    req.stream = o.stream;
    if (!o.stdin_file.empty()) {
        auto data = slurp(o.stdin_file);
        if (!data) return "--stdin: cannot read " + o.stdin_file;
        req.stdin_data = std::move(*data);
    }
    for (const auto& kv : o.env) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return "--env: expected KEY=VALUE, got '" + kv + "'";
        req.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return parse_limits(o, req.limits);
}

// A test file is a JSON array of {"stdin", "expected_output", "limits"?} cases, or an object
// {"tests": [...], "compare": ..., "float_tolerance": ..., "stop_on_failure": ...}.
std::optional<std::string> load_tests(const std::string& path, protocol::RunRequest& req) {
    auto text = slurp(path);
    if (!text) return "--tests: cannot read " + path;
    auto json = nlohmann::json::parse(*text, nullptr, false);
    if (json.is_discarded()) return "--tests: " + path + " is not valid JSON";
    nlohmann::json run = json.is_array() ? nlohmann::json{{"tests", json}} : json;
    if (!run.is_object() || !run.contains("tests")) return "--tests: " + path + " needs a \"tests\" array";
    auto parsed = protocol::run_request_from_json(run);
    if (!parsed) return "--tests: " + path + ": " + parsed.error().message;
    req.tests = std::move(parsed->tests);
    req.compare = parsed->compare;
    req.float_tolerance = parsed->float_tolerance;
    req.stop_on_failure = parsed->stop_on_failure;
    return std::nullopt;
}

void print_stream(const protocol::Event& e) {
    if (e.event != "output") return;
    FILE* out = e.stream == "stdout" && e.stage != "compile" ? stdout : stderr;
    std::fwrite(e.data.data(), 1, e.data.size(), out);
    std::fflush(out);
}

std::string human_size(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return buf;
}

int show_result(const Common& common, const protocol::RunResult& r, bool streamed) {
    bool has_tests = r.total > 0;
    int status = has_tests ? (r.run.status != "ok"                          ? exit_status_for(r.run.status, 0, 0)
                              : r.passed == r.total                         ? 0
                                                                            : kExitTestsFailed)
                           : exit_status_for(r.run.status, r.run.exit_code, r.run.signal);
    if (common.json) {
        std::cout << protocol::dump(protocol::to_json(r), 2) << "\n";
        return status;
    }
    if (r.compile && (r.compile->status != "ok" || !streamed)) {
        std::fwrite(r.compile->stdout_data.data(), 1, r.compile->stdout_data.size(), stderr);
        std::fwrite(r.compile->stderr_data.data(), 1, r.compile->stderr_data.size(), stderr);
    }
    if (!streamed && !has_tests) {
        std::fwrite(r.run.stdout_data.data(), 1, r.run.stdout_data.size(), stdout);
        std::fflush(stdout);
        std::fwrite(r.run.stderr_data.data(), 1, r.run.stderr_data.size(), stderr);
    }
    if (has_tests) {
        for (size_t i = 0; i < r.tests.size(); ++i) {
            const auto& t = r.tests[i];
            std::printf("test %zu: %s", i + 1, t.verdict.c_str());
            if (t.verdict != "skipped") std::printf(" (%.1f ms, %s)", t.run.wall_ms, human_size(t.run.memory_peak_bytes).c_str());
            std::printf("\n");
        }
        std::printf("passed %u of %u\n", r.passed, r.total);
    }
    bool notable = !(r.run.status == "ok" || r.run.status == "runtime_error") || r.run.stdout_truncated ||
                   r.run.stderr_truncated;
    if (notable) {
        std::fprintf(stderr, "sandboxctl: %s", r.run.status.c_str());
        if (!r.run.message.empty()) std::fprintf(stderr, ": %s", r.run.message.c_str());
        if (r.run.stdout_truncated || r.run.stderr_truncated) std::fprintf(stderr, " (output cut at the limit)");
        std::fprintf(stderr, " [job %s, wall %.1f ms, cpu %.1f ms, memory %s]\n", r.job_id.c_str(), r.run.wall_ms,
                     r.run.cpu_ms, human_size(r.run.memory_peak_bytes).c_str());
    }
    return status;
}

int submit(const Common& common, const protocol::RunRequest& req) {
    bool streamed = req.stream && !common.json;
    auto result = request<protocol::RunResult>(common, req, [&](const protocol::Event& e) {
        if (streamed) print_stream(e);
    });
    if (!result) return kExitSandboxError;
    return show_result(common, *result, streamed);
}

}  // namespace

int run_source(const Common& common, const RunOptions& o) {
    protocol::RunRequest req;
    if (auto e = common_request(o, req)) return usage_error(*e);
    req.args = o.args;
    req.language = o.language;
    if (req.language.empty()) {
        std::string ext = std::filesystem::path(o.files.front()).extension().string();
        if (!ext.empty()) ext.erase(0, 1);
        auto languages = request<protocol::LanguagesResult>(common, protocol::LanguagesRequest{});
        if (!languages) return kExitSandboxError;
        for (const auto& lang : languages->languages)
            for (const auto& e : lang.extensions)
                if (e == ext && req.language.empty()) req.language = lang.name;
        if (req.language.empty())
            return usage_error("cannot tell the language of " + o.files.front() + " from its extension; use --lang");
    }
    for (size_t i = 0; i < o.files.size(); ++i) {
        auto content = slurp(o.files[i]);
        if (!content) return usage_error("cannot read " + o.files[i]);
        if (i == 0) {
            req.source = std::move(*content);
        } else {
            req.files.push_back({std::filesystem::path(o.files[i]).filename().string(), std::move(*content), false});
        }
    }
    if (!o.tests_file.empty()) {
        if (auto e = load_tests(o.tests_file, req)) return usage_error(*e);
    }
    return submit(common, req);
}

int exec_argv(const Common& common, const RunOptions& o) {
    protocol::RunRequest req;
    if (auto e = common_request(o, req)) return usage_error(*e);
    req.argv = o.argv;
    return submit(common, req);
}

}  // namespace sbx::ctl
