// sandboxctl: the command-line client of sandboxd.
#include <CLI/CLI.hpp>

#include "ctl/commands.hpp"
#include "ctl/exit_codes.hpp"

int main(int argc, char** argv) {
    using namespace sbx::ctl;
    CLI::App app{"sandboxctl: run programs in sandboxd's jails and manage the daemon"};
    app.set_version_flag("--version", "sandboxctl " SANDBOXD_VERSION);
    app.footer(kExitStatusHelp);
    app.require_subcommand(1);
    Common common;
    app.add_option("--socket", common.socket, "sandboxd's socket (default: $SANDBOXD_SOCKET or /run/sandboxd/sandboxd.sock)");

    RunOptions run;
    auto add_run_options = [&](CLI::App* cmd) {
        cmd->add_option("--policy", run.policy, "policy to run under (default: default)");
        cmd->add_option("--stdin", run.stdin_file, "file to give the program as stdin ('-': this terminal's stdin)");
        cmd->add_option("--env", run.env, "KEY=VALUE added to the program's environment (repeatable)");
        cmd->add_option("--time-limit", run.time_limit, "wall-clock limit: seconds or a duration like 2.5s");
        cmd->add_option("--cpu-limit", run.cpu_limit, "CPU-time limit: seconds or a duration like 500ms");
        cmd->add_option("--memory-limit", run.memory_limit, "memory limit: a size like 128MiB");
        cmd->add_option("--output-limit", run.output_limit, "bytes kept per output stream: a size like 64KiB");
        cmd->add_option("--pids-limit", run.pids_limit, "processes and threads at once");
        cmd->add_flag("--stream", run.stream, "print output as it is produced");
        cmd->add_flag("--json", common.json, "print the whole result as JSON, with the protocol's field names");
    };

    auto* run_cmd = app.add_subcommand("run", "run source files in a language (compiled first when needed)");
    run_cmd->add_option("--lang,-l", run.language, "language name or alias (default: from the first file's extension)");
    run_cmd->add_option("--arg", run.args, "argument for the program (repeatable)");
    run_cmd->add_option("--tests", run.tests_file, "JSON file of test cases to judge the program against");
    add_run_options(run_cmd);
    run_cmd->add_option("FILE", run.files, "source files; the first is the main one")->required()->check(CLI::ExistingFile);

    auto* exec_cmd = app.add_subcommand("exec", "run a program from the jail's filesystem: exec -- ARGV...");
    add_run_options(exec_cmd);
    exec_cmd->add_option("ARGV", run.argv, "the program and its arguments (after --)")->required();

    auto* languages_cmd = app.add_subcommand("languages", "list languages, their versions and availability");
    languages_cmd->add_flag("--json", common.json, "JSON output");
    auto* policies_cmd = app.add_subcommand("policies", "list the policies you may use and their limits");
    policies_cmd->add_flag("--json", common.json, "JSON output");
    auto* stats_cmd = app.add_subcommand("stats", "job counts, by status and language, and latencies");
    stats_cmd->add_flag("--json", common.json, "JSON output");
    std::string job_id;
    auto* status_cmd = app.add_subcommand("status", "the daemon's state and its queued and running jobs");
    status_cmd->add_option("JOB", job_id, "one job's id");
    status_cmd->add_flag("--json", common.json, "JSON output");
    auto* cancel_cmd = app.add_subcommand("cancel", "cancel a queued or running job");
    cancel_cmd->add_option("JOB", job_id, "the job's id (from `status` or the run's accepted event)")->required();
    cancel_cmd->add_flag("--json", common.json, "JSON output");
    auto* reload_cmd = app.add_subcommand("reload", "reload policies and languages (root only)");
    reload_cmd->add_flag("--json", common.json, "JSON output");
    SessionOptions session;
    auto add_session_limits = [&](CLI::App* cmd) {
        cmd->add_option("--policy", run.policy, "policy of the session's jail (default: default)");
        cmd->add_option("--env", run.env, "KEY=VALUE added to the interpreter's environment (repeatable)");
        cmd->add_option("--idle-timeout", session.idle_timeout, "close the session after this long without a call");
        cmd->add_option("--max-lifetime", session.max_lifetime, "close the session this long after it opened");
        cmd->add_option("--memory-limit", run.memory_limit, "memory of the session's jail: a size like 512MiB");
        cmd->add_option("--pids-limit", run.pids_limit, "processes and threads at once");
        cmd->add_option("--time-limit", run.time_limit, "wall-clock limit of each call");
        cmd->add_option("--cpu-limit", run.cpu_limit, "CPU-time limit of each call");
        cmd->add_option("--output-limit", run.output_limit, "bytes kept per output stream of each call");
    };
    auto* session_cmd = app.add_subcommand("session", "stateful interpreter sessions: open, exec, close, list");
    session_cmd->require_subcommand(1);
    auto* open_cmd = session_cmd->add_subcommand("open", "open a session and print its id");
    open_cmd->add_option("--lang,-l", run.language, "language of the session (python, javascript, bash)")->required();
    add_session_limits(open_cmd);
    open_cmd->add_flag("--json", common.json, "print the session as JSON");
    auto* sexec_cmd = session_cmd->add_subcommand("exec", "run code in a session: exec ID (-c CODE | FILE | -)");
    sexec_cmd->add_option("ID", session.id, "the session's id (from `session open`)")->required();
    sexec_cmd->add_option("FILE", session.code_file, "file holding the code ('-' or absent: standard input)");
    sexec_cmd->add_option("-c,--code", session.code, "the code itself");
    sexec_cmd->add_option("--time-limit", run.time_limit, "wall-clock limit of this call");
    sexec_cmd->add_option("--cpu-limit", run.cpu_limit, "CPU-time limit of this call");
    sexec_cmd->add_option("--output-limit", run.output_limit, "bytes kept per output stream of this call");
    sexec_cmd->add_option("--images-dir", session.images_dir, "where figures are saved")->capture_default_str();
    sexec_cmd->add_flag("--json", common.json, "print the whole result as JSON (images in base64)");
    auto* close_cmd = session_cmd->add_subcommand("close", "close a session: its state is gone");
    close_cmd->add_option("ID", session.id, "the session's id")->required();
    close_cmd->add_flag("--json", common.json, "JSON output");
    auto* list_cmd = session_cmd->add_subcommand("list", "your open sessions, and the daemon's session counts");
    list_cmd->add_flag("--json", common.json, "JSON output");
    auto* repl_cmd = app.add_subcommand("repl", "an interactive interpreter in a session, closed at end of input");
    repl_cmd->add_option("--lang,-l", run.language, "language (python, javascript, bash)")->required();
    add_session_limits(repl_cmd);
    repl_cmd->add_option("--images-dir", session.images_dir, "where figures are saved")->capture_default_str();
    repl_cmd->add_flag("--json", common.json, "print each result as JSON");

    std::string shell;
    auto* completion_cmd = app.add_subcommand("completion", "print a shell completion script");
    completion_cmd->add_option("SHELL", shell, "bash")->required()->check(CLI::IsMember({"bash"}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    if (*run_cmd) return run_source(common, run);
    if (*exec_cmd) return exec_argv(common, run);
    if (*languages_cmd) return list_languages(common);
    if (*policies_cmd) return list_policies(common);
    if (*stats_cmd) return show_stats(common);
    if (*status_cmd) return show_status(common, job_id);
    if (*cancel_cmd) return cancel_job(common, job_id);
    if (*reload_cmd) return reload(common);
    if (*completion_cmd) return print_completion(shell);
    if (*open_cmd) return session_open(common, run, session);
    if (*sexec_cmd) return session_exec(common, run, session);
    if (*close_cmd) return session_close(common, session);
    if (*list_cmd) return session_list(common);
    if (*repl_cmd) return repl(common, run, session);
    return kExitUsage;
}
