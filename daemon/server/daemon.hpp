// sandboxd: the root daemon. Theory of operation:
//
// One event loop (Boost.Asio, one thread) does everything: it accepts clients on the control
// socket, decodes their frames, checks each request against the caller's SO_PEERCRED identity
// and the policy in force, and hands runs to the scheduler, which runs at most --max-jobs at
// once and queues up to --max-queue more (then answers `busy`). A running job is a chain of
// asynchronous jail executions (daemon/jail/execution.hpp): nothing in the loop waits for a
// program, so one thread keeps up with hundreds of jobs a second.
//
// The daemon lives in a private mount namespace, so the workspaces it mounts are invisible to
// the host and vanish with it even after kill -9. What a crash can leave behind - job cgroups
// and their processes, workspace directories - is removed at the next start, and logged.
//
// Networking: jails of "none" policies join network namespaces a background thread made ahead
// of time. Once an "egress" policy is loaded the daemon owns the nftables table `inet sandboxd`
// of its network namespace (deleting a crashed run's table first, its own at shutdown) and turns
// on IPv4 forwarding there; with only "none" policies it touches neither.
//
// SIGHUP reloads policies and languages into a new Registry that replaces the old one only if
// every file is good. Under systemd (Type=notify) it reports READY=1 once listening,
// RELOADING=1/READY=1 around a reload and STOPPING=1 at shutdown. SIGTERM stops accepting,
// refuses queued jobs, gives running jobs --shutdown-grace to finish, cancels the rest, removes the socket and its cgroup subtree.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "daemon/jail/runtime.hpp"
#include "daemon/jobs/compile_cache.hpp"
#include "daemon/jobs/registry.hpp"
#include "daemon/jobs/scheduler.hpp"
#include "daemon/jobs/stats.hpp"
#include "daemon/jobs/version_probe.hpp"
#include "daemon/server/service_manager.hpp"
#include "policy/network_address.hpp"
#include "daemon/sessions/session_manager.hpp"
#include "protocol/messages.hpp"

namespace sbx::server {

class Connection;

struct DaemonConfig {
    std::string socket_path = "/run/sandboxd/sandboxd.sock";
    std::string policies_dir;
    std::string languages_dir;
    std::string group = "sandbox";
    std::uint32_t max_jobs = 0;  // 0: two per CPU
    std::uint32_t max_queue = 256;
    std::string runtime_dir = "/run/sandboxd";
    std::string cgroup_name = "sandboxd";
    jail::CgroupVersion cgroup_version = jail::CgroupVersion::automatic;
    bool favordynmods = true;
    std::chrono::milliseconds shutdown_grace{10000};
    std::size_t max_frame = protocol::kDefaultMaxFrame;
    std::uint32_t max_inflight = 1024;
    // Networking (daemon/jail/network_runtime.hpp).
    policy::Ipv4Cidr egress_range{0x0AE70000, 16};  // 10.231.0.0/16
    unsigned netns_pool = 4;
    unsigned egress_pool = 2;
    std::string cache_dir = "/var/cache/sandboxd";      // the compile cache is <cache_dir>/compile
    std::uint64_t compile_cache_bytes = 1ull << 30;     // 0: no compile cache
    bool probe_versions_at_start = true;                // false: at the first `languages` request
    sessions::SessionConfig sessions;
};

class Daemon {
public:
    // Sets everything up (cleaning what a crashed run left) and starts accepting. Returns an
    // error naming the step that failed; nothing is left behind then.
    static Result<std::unique_ptr<Daemon>> start(boost::asio::io_context& io, DaemonConfig config);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Runs until shut down; returns the process exit code.
    int run();

    // For connections.
    std::shared_ptr<const jobs::Registry> registry() const { return registry_; }
    jobs::Scheduler& scheduler() { return *scheduler_; }
    sessions::SessionManager& sessions() { return *sessions_; }
    const DaemonConfig& config() const { return config_; }
    bool shutting_down() const { return shutting_down_; }
    protocol::ServerHello hello() const;
    protocol::StatusResult status(const jobs::Caller& caller) const;
    protocol::PoliciesResult policies(const jobs::Caller& caller) const;
    protocol::LanguagesResult languages() const;
    protocol::StatsResult stats() const;
    Result<protocol::ReloadResult> reload();
    void forget(Connection* connection);

private:
    Daemon(boost::asio::io_context& io, DaemonConfig config);
    Status setup();
    // Jail networking; egress (nftables table, forwarding) only when a policy needs it.
    Status setup_network();
    Status enable_egress_if_needed(const jobs::Registry& registry);
    void accept();
    void watch_signals();
    void begin_shutdown();
    void finish_shutdown();
    std::string versions_file() const;

    boost::asio::io_context& io_;
    DaemonConfig config_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::unique_ptr<jail::JailRuntime> runtime_;
    std::shared_ptr<const jobs::Registry> registry_;
    jobs::Stats stats_;
    std::unique_ptr<jobs::CompileCache> compile_cache_;
    std::unique_ptr<jobs::Scheduler> scheduler_;
    std::unique_ptr<sessions::SessionManager> sessions_;
    int drains_pending_ = 0;  // at shutdown: the scheduler and the sessions
    std::shared_ptr<jobs::VersionProbe> versions_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
    boost::asio::signal_set signals_;
    ServiceManager service_manager_ = ServiceManager::from_environment();  // systemd Type=notify
    std::map<Connection*, std::weak_ptr<Connection>> connections_;
    std::uint64_t next_connection_ = 1;
    bool shutting_down_ = false;
    bool socket_bound_ = false;
    int exit_code_ = 0;
};

}  // namespace sbx::server
