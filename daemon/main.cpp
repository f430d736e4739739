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
#include "policy/network_address.hpp"
#include "policy/units.hpp"

namespace {

// Run from the build tree of a checkout: use the checkout's policy files; installed: the
// configuration directory of the installation (/etc/sandboxd).
std::filesystem::path default_policy_root() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    // The very file the build wrote, not a copy installed below the build directory (the
    // install tests stage one there).
    if (!ec && exe == std::filesystem::path(SANDBOXD_BUILT_BINARY)) return sbx::policy::source_tree_policy_dir();
    return SANDBOXD_CONFIG_DIR;
}

// The session drivers: the checkout's from a build tree; installed, <prefix>/share/sandboxd/drivers
// beside <prefix>/sbin/sandboxd, whatever the prefix was.
std::filesystem::path default_drivers_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "/usr/share/sandboxd/drivers";
    if (exe == std::filesystem::path(SANDBOXD_BUILT_BINARY)) return sbx::policy::source_tree_policy_dir() / "drivers";
    return (exe.parent_path().parent_path() / "share" / "sandboxd" / "drivers").lexically_normal();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace sbx;
    server::DaemonConfig config;
    std::filesystem::path root = default_policy_root();
    config.policies_dir = (root / "policies").string();
    config.languages_dir = (root / "languages").string();
    config.sessions.drivers_dir = default_drivers_dir().string();
    if (const char* env = std::getenv("SANDBOXD_SOCKET"); env != nullptr && *env != '\0') config.socket_path = env;
    std::string log_level = "info";
    std::string log_format = "text";
    std::string cgroup_version = "auto";
    double grace_s = 10;
    bool no_favordynmods = false;
    std::string egress_range = config.egress_range.to_string();

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
    app.add_option("--egress-range", egress_range,
                   "IPv4 range egress jails get their addresses from, a /30 each (routed by sandboxd only)")
        ->capture_default_str();
    app.add_option("--netns-pool", config.netns_pool,
                   "network namespaces for 'none' jobs made ahead of time (0: each jail creates its own)")
        ->capture_default_str();
    app.add_option("--egress-pool", config.egress_pool, "egress namespaces (with veth) made ahead of time")
        ->capture_default_str();
    std::string compile_cache_size = "1GiB";
    app.add_option("--cache-dir", config.cache_dir, "root-only directory for the compile cache (<dir>/compile)")
        ->capture_default_str();
    app.add_option("--compile-cache-size", compile_cache_size, "size bound of the compile cache, like 512MiB; 0: none")
        ->capture_default_str();
    std::string probe_versions = "start";
    app.add_option("--probe-versions", probe_versions,
                   "ask language runtimes for their versions at start, or on the first `languages` request")
        ->check(CLI::IsMember({"start", "on-demand"}))
        ->capture_default_str();
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
    auto range = policy::parse_ipv4_cidr(egress_range);
    if (!range) {
        std::fprintf(stderr, "sandboxd: --egress-range: %s\n", range.error().message().c_str());
        return 2;
    }
    config.egress_range = *range;
    auto cache_bytes = policy::parse_size(compile_cache_size);
    if (!cache_bytes) {
        std::fprintf(stderr, "sandboxd: --compile-cache-size: %s\n", cache_bytes.error().message().c_str());
        return 2;
    }
    config.compile_cache_bytes = *cache_bytes;
    config.probe_versions_at_start = probe_versions == "start";
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
