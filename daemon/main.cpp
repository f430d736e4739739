// sandboxd: the privileged sandbox daemon. See daemon/server/daemon.hpp for how it works and
// docs/operations.md for how to run it.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "daemon/server/daemon.hpp"
#include "daemon/server/logging.hpp"
#include "policy/catalog.hpp"
#include "policy/units.hpp"

namespace {

// Run from the build tree of a checkout: use the checkout's policy files; installed: /etc.
std::filesystem::path default_policy_root() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::string build_dir = SANDBOXD_BUILD_DIR;
    if (!ec && exe.string().rfind(build_dir + "/", 0) == 0) return sbx::policy::source_tree_policy_dir();
    return "/etc/sandboxd";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace sbx;
    server::DaemonConfig config;
    std::filesystem::path root = default_policy_root();
    config.policies_dir = (root / "policies").string();
    config.languages_dir = (root / "languages").string();
    config.sessions.drivers_dir = (root / "drivers").string();
    if (const char* env = std::getenv("SANDBOXD_SOCKET"); env != nullptr && *env != '\0') config.socket_path = env;
    std::string log_level = "info";
    std::string log_format = "text";
    std::string cgroup_version = "auto";
    double grace_s = 10;
    bool no_favordynmods = false;

    CLI::App app{"sandboxd: runs untrusted programs in namespace, cgroup and seccomp jails for local clients"};
    app.set_version_flag("--version", "sandboxd " SANDBOXD_VERSION);
    app.add_option("--socket", config.socket_path, "control socket path (also $SANDBOXD_SOCKET)")->capture_default_str();
    app.add_option("--policies", config.policies_dir, "directory of policy files")->capture_default_str();
    app.add_option("--languages", config.languages_dir, "directory of language files")->capture_default_str();
    app.add_option("--group", config.group, "group that may connect to the socket (mode 0660)")->capture_default_str();
    app.add_option("--max-jobs", config.max_jobs, "jobs running at once (default: two per CPU)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-queue", config.max_queue, "jobs waiting at most; beyond that requests get 'busy'")
        ->capture_default_str();
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
    app.add_option("--log-format", log_format, "text or json (one object per line)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    app.add_option("--runtime-dir", config.runtime_dir, "where jails are built and workspaces mounted")
        ->capture_default_str();
    app.add_option("--cgroup-name", config.cgroup_name, "directory under sandboxd's own cgroup for job cgroups")
        ->capture_default_str();
    app.add_option("--cgroup-version", cgroup_version, "auto, v1 or v2")
        ->check(CLI::IsMember({"auto", "v1", "v2"}))
        ->capture_default_str();
    app.add_flag("--no-favordynmods", no_favordynmods,
                 "cgroup v1: do not switch the kernel to favordynmods (job starts then wait for RCU)");
    app.add_option("--shutdown-grace", grace_s, "seconds running jobs get to finish on SIGTERM")->capture_default_str();
    app.add_option("--max-frame", config.max_frame, "largest protocol frame in bytes")->capture_default_str();
    std::string session_memory;
    app.add_option("--drivers", config.sessions.drivers_dir, "directory of the session drivers")->capture_default_str();
    app.add_option("--max-sessions", config.sessions.max_sessions, "stateful sessions open at once")
        ->capture_default_str();
    app.add_option("--max-sessions-per-client", config.sessions.max_sessions_per_client,
                   "sessions one client (uid, and owner within it) may have open")
        ->capture_default_str();
    app.add_option("--session-memory", session_memory,
                   "memory limits of all open sessions added up, at most (a size; default: half the RAM)");
    CLI11_PARSE(app, argc, argv);

    auto format = log_format == "json" ? server::LogFormat::json : server::LogFormat::text;
    if (auto s = server::setup_logging(log_level, format); !s) {
        std::fprintf(stderr, "sandboxd: %s\n", s.error().message().c_str());
        return 2;
    }
    config.cgroup_version = cgroup_version == "v1"   ? jail::CgroupVersion::v1
                            : cgroup_version == "v2" ? jail::CgroupVersion::v2
                                                     : jail::CgroupVersion::automatic;
    config.favordynmods = !no_favordynmods;
    if (!session_memory.empty()) {
        auto bytes = policy::parse_size(session_memory);
        if (!bytes) {
            std::fprintf(stderr, "sandboxd: --session-memory: %s\n", bytes.error().message().c_str());
            return 2;
        }
        config.sessions.memory_budget_bytes = *bytes;
    }
    config.shutdown_grace = std::chrono::milliseconds(static_cast<long>(grace_s * 1000));

    boost::asio::io_context io(1);
    auto daemon = server::Daemon::start(io, config);
    if (!daemon) {
        spdlog::critical("cannot start: {}", daemon.error().message());
        return 1;
    }
    return (*daemon)->run();
}
