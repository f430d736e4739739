// sandboxctl session open / exec / close / list, and repl: stateful sessions from the command
// line. A session outlives the sandboxctl process that opened it (until it is closed or idles
// out), so a script can open one, run several `session exec` against its id, and close it.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "ctl/commands.hpp"
#include "ctl/exit_codes.hpp"
#include "ctl/session.hpp"
#include "policy/units.hpp"
#include "protocol/json_codec.hpp"

namespace sbx::ctl {

namespace {

std::optional<std::string> parse_duration_option(const std::string& text, const char* flag,
                                                 std::optional<policy::Duration>& into) {
    if (text.empty()) return std::nullopt;
    auto d = policy::parse_duration(text);
    if (!d) return std::string(flag) + ": " + d.error().message();
    into = *d;
    return std::nullopt;
}

std::optional<std::string> open_request(const RunOptions& run, const SessionOptions& o,
                                        protocol::SessionOpenRequest& req) {
    req.language = run.language;
    req.policy = run.policy;
    for (const auto& kv : run.env) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return "--env: expected KEY=VALUE, got '" + kv + "'";
        req.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (auto e = parse_duration_option(o.idle_timeout, "--idle-timeout", req.idle_timeout)) return e;
    if (auto e = parse_duration_option(o.max_lifetime, "--max-lifetime", req.max_lifetime)) return e;
    return parse_limits(run, req.limits);
}

// Figures go to files named after the session and the call: <dir>/<id8>-<call>-<n>.png.
void save_images(const protocol::SessionExecResult& r, const std::string& dir) {
    for (std::size_t i = 0; i < r.images.size(); ++i) {
        const auto& image = r.images[i];
        std::string ext = image.mime == "image/png" ? "png" : "bin";
        auto path = std::filesystem::path(dir) / (r.session_id.substr(0, 8) + "-" + std::to_string(r.execution_count) +
                                                  "-" + std::to_string(i + 1) + "." + ext);
        std::ofstream out(path, std::ios::binary);
        out.write(image.data.data(), static_cast<std::streamsize>(image.data.size()));
        if (out)
            std::fprintf(stderr, "[%s figure saved to %s]\n", image.mime.c_str(), path.c_str());
        else
            std::fprintf(stderr, "sandboxctl: cannot write %s\n", path.c_str());
    }
}

// Like an interactive interpreter: the code's output, the value, the traceback, the figures.
int show_exec_result(const Common& common, const protocol::SessionExecResult& r, const std::string& images_dir) {
    int status = exit_status_for(r.run.status, r.run.exit_code, r.run.signal);
    if (common.json) {
        std::cout << protocol::dump(protocol::to_json(r), 2) << "\n";
        return status;
    }
    std::fwrite(r.run.stdout_data.data(), 1, r.run.stdout_data.size(), stdout);
    if (r.value) std::printf("%s\n", r.value->c_str());
    std::fflush(stdout);
    std::fwrite(r.run.stderr_data.data(), 1, r.run.stderr_data.size(), stderr);
    if (r.error) std::fputs(r.error->traceback.c_str(), stderr);
    save_images(r, images_dir);
    bool notable = !(r.run.status == "ok" || r.run.status == "runtime_error") || r.state_lost ||
                   r.run.stdout_truncated || r.run.stderr_truncated || !r.run.message.empty();
    if (notable) {
        std::fprintf(stderr, "sandboxctl: %s", r.run.status.c_str());
        if (!r.run.message.empty()) std::fprintf(stderr, ": %s", r.run.message.c_str());
        if (r.run.stdout_truncated || r.run.stderr_truncated) std::fprintf(stderr, " (output cut at the limit)");
        if (r.state_lost) std::fprintf(stderr, " [state lost: the session restarted]");
        std::fprintf(stderr, "\n");
    }
    return status;
}

void print_info(const protocol::SessionInfo& s) {
    std::printf("%-32s %-10s %-8s %-8s %6llu %4u %8.0f s %8.0f s %10.1f MiB\n", s.session_id.c_str(),
                s.language.c_str(), s.policy.c_str(), s.state.c_str(), static_cast<unsigned long long>(s.calls),
                s.restarts, s.age_s, s.idle_s, static_cast<double>(s.memory_peak_bytes) / (1 << 20));
}

// Whether a line opens a block that goes on until an empty line (a Python `def ...:`, an open
// brace or bracket, a trailing backslash or comma).
bool opens_block(const std::string& line) {
    auto end = line.find_last_not_of(" \t\r");
    if (end == std::string::npos) return false;
    return std::string_view(":{([,\\").find(line[end]) != std::string_view::npos;
}

}  // namespace

int session_open(const Common& common, const RunOptions& run, const SessionOptions& o) {
    protocol::SessionOpenRequest req;
    if (auto e = open_request(run, o, req)) return usage_error(*e);
    auto r = request<protocol::SessionInfo>(common, req);
    if (!r) return kExitSandboxError;
    if (common.json)
        std::cout << protocol::dump(protocol::to_json(*r), 2) << "\n";
    else
        std::printf("%s\n", r->session_id.c_str());
    return 0;
}

int session_exec(const Common& common, const RunOptions& run, const SessionOptions& o) {
    protocol::SessionExecRequest req;
    req.session_id = o.id;
    if (!o.code.empty() && !o.code_file.empty()) return usage_error("give the code with -c or as a FILE, not both");
    if (!o.code.empty()) {
        req.code = o.code;
    } else {
        auto code = slurp(o.code_file.empty() ? "-" : o.code_file);
        if (!code) return usage_error("cannot read " + o.code_file);
        req.code = std::move(*code);
    }
    if (auto e = parse_limits(run, req.limits)) return usage_error(*e);
    auto r = request<protocol::SessionExecResult>(common, req);
    if (!r) return kExitSandboxError;
    return show_exec_result(common, *r, o.images_dir);
}

int session_close(const Common& common, const SessionOptions& o) {
    auto r = request<protocol::SessionCloseResult>(common, protocol::SessionCloseRequest{o.id, {}});
    if (!r) return kExitSandboxError;
    if (common.json)
        std::cout << protocol::dump(protocol::to_json(*r), 2) << "\n";
    else
        std::printf("closed %s\n", o.id.c_str());
    return 0;
}

int session_list(const Common& common) {
    auto r = request<protocol::SessionListResult>(common, protocol::SessionListRequest{});
    if (!r) return kExitSandboxError;
    if (common.json) {
        std::cout << protocol::dump(protocol::to_json(*r), 2) << "\n";
        return 0;
    }
    std::printf("%u of %u sessions open in sandboxd (%u per client); memory committed %s of %s\n", r->open,
                r->max_sessions, r->max_sessions_per_client, policy::format_size(r->memory_committed_bytes).c_str(),
                policy::format_size(r->memory_budget_bytes).c_str());
    if (r->sessions.empty()) return 0;
    std::printf("%-32s %-10s %-8s %-8s %6s %4s %10s %10s %14s\n", "SESSION", "LANGUAGE", "POLICY", "STATE", "CALLS",
                "RST", "AGE", "IDLE", "MEMORY PEAK");
    for (const auto& s : r->sessions) print_info(s);
    return 0;
}

int repl(const Common& common, const RunOptions& run, const SessionOptions& o) {
    protocol::SessionOpenRequest open;
    if (auto e = open_request(run, o, open)) return usage_error(*e);
    policy::LimitRequest call_limits;
    call_limits.wall_time = open.limits.wall_time;
    call_limits.cpu_time = open.limits.cpu_time;
    call_limits.output_bytes = open.limits.output_bytes;
    auto client = connect(common);
    if (!client) return kExitSandboxError;
    // One connection for the whole conversation.
    auto opened = request<protocol::SessionInfo>(common, *client, open);
    if (!opened) return kExitSandboxError;
    const bool interactive = ::isatty(STDIN_FILENO) != 0;
    if (interactive)
        std::fprintf(stderr, "sandboxctl repl: %s session %s (policy %s); end with Ctrl-D\n", opened->language.c_str(),
                     opened->session_id.c_str(), opened->policy.c_str());
    int last = 0;
    std::string line;
    for (;;) {
        if (interactive) std::fputs(">>> ", stderr);
        if (!std::getline(std::cin, line)) break;
        std::string chunk = line;
        if (opens_block(line)) {
            while (true) {
                if (interactive) std::fputs("... ", stderr);
                if (!std::getline(std::cin, line) || line.find_first_not_of(" \t\r") == std::string::npos) break;
                chunk += "\n" + line;
            }
        }
        if (chunk.find_first_not_of(" \t\r") == std::string::npos) continue;
        protocol::SessionExecRequest exec{opened->session_id, {}, chunk + "\n", call_limits};
        auto result = request<protocol::SessionExecResult>(common, *client, exec);
        if (!result) {
            last = kExitSandboxError;
            break;
        }
        last = show_exec_result(common, *result, o.images_dir);
    }
    (void)request<protocol::SessionCloseResult>(common, *client, protocol::SessionCloseRequest{opened->session_id, {}});
    return last;
}

}  // namespace sbx::ctl
