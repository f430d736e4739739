// The sandboxctl commands. Each returns the process exit status (ctl/exit_codes.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/limits.hpp"

namespace sbx::ctl {

struct Common {
    std::string socket;  // empty: $SANDBOXD_SOCKET or the default
    bool json = false;
};

struct RunOptions {
    std::string language;
    std::string policy;
    std::string stdin_file;  // "-" reads sandboxctl's own stdin
    std::vector<std::string> args;
    std::vector<std::string> env;  // KEY=VALUE
    std::string time_limit;        // wall clock
    std::string cpu_limit;
    std::string memory_limit;
    std::string output_limit;
    std::string pids_limit;
    std::string tests_file;
    bool stream = false;
    std::vector<std::string> files;  // run: source files, the first is the main one
    std::vector<std::string> argv;   // exec: the program and its arguments
};

// Stateful sessions (docs/sessions.md).
struct SessionOptions {
    std::string id;            // exec, close
    std::string code;          // exec: -c CODE
    std::string code_file;     // exec: FILE or "-"
    std::string idle_timeout;  // open, repl
    std::string max_lifetime;
    std::string images_dir = ".";  // exec, repl: where figures are written
};

int run_source(const Common& common, const RunOptions& options);
int exec_argv(const Common& common, const RunOptions& options);
int list_languages(const Common& common);
int list_policies(const Common& common);
int show_stats(const Common& common);
int show_status(const Common& common, const std::string& job_id);
int cancel_job(const Common& common, const std::string& job_id);
int reload(const Common& common);
int print_completion(const std::string& shell);
int session_open(const Common& common, const RunOptions& run, const SessionOptions& options);
int session_exec(const Common& common, const RunOptions& run, const SessionOptions& options);
int session_close(const Common& common, const SessionOptions& options);
int session_list(const Common& common);
int repl(const Common& common, const RunOptions& run, const SessionOptions& options);

// Shared by the commands: a file's content ("-": stdin), a usage error (exit status 2), and
// the limit options of RunOptions checked into a request (the message names the bad option).
std::optional<std::string> slurp(const std::string& path);
int usage_error(const std::string& message);
std::optional<std::string> parse_limits(const RunOptions& options, policy::LimitRequest& limits);

}  // namespace sbx::ctl
