// The sandboxctl commands. Each returns the process exit status (ctl/exit_codes.hpp).
#pragma once

#include <string>
#include <vector>

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

int run_source(const Common& common, const RunOptions& options);
int exec_argv(const Common& common, const RunOptions& options);
int list_languages(const Common& common);
int list_policies(const Common& common);
int show_stats(const Common& common);
int show_status(const Common& common, const std::string& job_id);
int cancel_job(const Common& common, const std::string& job_id);
int reload(const Common& common);
int print_completion(const std::string& shell);

}  // namespace sbx::ctl
