#include "daemon/server/daemon.hpp"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <thread>

#include "daemon/server/connection.hpp"
#include "daemon/server/peer_credentials.hpp"
#include "daemon/server/stale_cleanup.hpp"
#include "daemon/server/unix_listener.hpp"
#include "daemon/jobs/access_control.hpp"

namespace sbx::server {

namespace asio = boost::asio;

Daemon::Daemon(asio::io_context& io, DaemonConfig config)
    : io_(io), config_(std::move(config)), signals_(io, SIGTERM, SIGINT, SIGHUP) {
    if (config_.max_jobs == 0) config_.max_jobs = std::max(2u, 2 * std::thread::hardware_concurrency());
}

Result<std::unique_ptr<Daemon>> Daemon::start(asio::io_context& io, DaemonConfig config) {
    std::unique_ptr<Daemon> daemon(new Daemon(io, std::move(config)));
    if (auto s = daemon->setup(); !s) return std::move(s).error();
    return daemon;
}

Status Daemon::setup() {
    if (::geteuid() != 0) return Error::invalid("sandboxd", "must run as root (it creates namespaces and cgroups)");
    auto registry = jobs::Registry::load(config_.policies_dir, config_.languages_dir);
    if (!registry) return std::move(registry).error().within("load policies and languages");
    registry_ = std::move(*registry);
    spdlog::info("loaded {} policies from {} and {} languages from {}", registry_->catalog().policies().size(),
                 config_.policies_dir, registry_->catalog().languages().size(), config_.languages_dir);

    if (auto s = jail::isolate_mount_namespace(); !s) return s;
    jail::CgroupOptions cgroups;
    cgroups.version = config_.cgroup_version;
    cgroups.subtree = config_.cgroup_name;
    cgroups.favordynmods_mount = config_.favordynmods ? "auto" : "";
    auto runtime = jail::open_jail_runtime(config_.runtime_dir, cgroups);
    if (!runtime) return std::move(runtime).error().within("prepare jails");
    runtime_ = std::move(*runtime);
    spdlog::info("using {}", runtime_->cgroups->name());
    for (const auto& line : runtime_->cgroups->describe()) spdlog::info("  job cgroups: {}", line);

    if (auto s = setup_network(); !s) return s;

    CleanupReport cleanup = remove_leftovers(*runtime_, *registry_, config_.cgroup_name);
    for (const auto& item : cleanup.removed) spdlog::warn("removed leftover of an earlier run: {}", item);
    for (const auto& item : cleanup.warnings) spdlog::warn("{}", item);

    if (config_.compile_cache_bytes > 0) {
        auto cache = jobs::CompileCache::open(config_.cache_dir + "/compile", config_.compile_cache_bytes);
        if (!cache) return std::move(cache).error().within("open the compile cache");
        compile_cache_ = std::move(*cache);
        auto cs = compile_cache_->stats();
        spdlog::info("compile cache {}: {} entries, {} of {}", compile_cache_->dir(), cs.entries,
                     policy::format_size(cs.bytes), policy::format_size(cs.max_bytes));
    }
    scheduler_ = std::make_unique<jobs::Scheduler>(io_, *runtime_, stats_, config_.max_jobs, config_.max_queue,
                                                   compile_cache_.get());
    sessions_ = std::make_unique<sessions::SessionManager>(io_, *runtime_, config_.sessions);

    auto listener = bind_control_socket(config_.socket_path, config_.group);
    if (!listener) return std::move(listener).error();
    socket_bound_ = true;
    acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(io_);
    acceptor_->assign(asio::local::stream_protocol(), listener->release());
    spdlog::info("listening on {} (group {}), {} jobs at once, {} queued at most", config_.socket_path, config_.group,
                 config_.max_jobs, config_.max_queue);

    watch_signals();
    accept();
    versions_ = std::make_shared<jobs::VersionProbe>(io_, *runtime_, registry_, versions_file());
    if (config_.probe_versions_at_start) versions_->start();
    service_manager_.notify("READY=1\nSTATUS=listening on " + config_.socket_path);
    return {};
}

namespace {
bool needs_egress(const jobs::Registry& registry) {
    for (const auto& [name, p] : registry.catalog().policies())
        if (p.network.mode == policy::NetworkMode::egress) return true;
    return false;
}
}  // namespace

Status Daemon::setup_network() {
    jail::NetworkOptions options;
    options.egress_range = config_.egress_range;
    options.isolated_pool = config_.netns_pool;
    options.egress_pool = config_.egress_pool;
    options.warn = [](const std::string& message) { spdlog::warn("network: {}", message); };
    auto network = jail::NetworkRuntime::open(std::move(options));
    if (!network) return std::move(network).error().within("prepare jail networking");
    runtime_->network = std::move(*network);
    if (needs_egress(*registry_)) return enable_egress_if_needed(*registry_);
    auto notes = runtime_->network->remove_leftovers();
    if (!notes) return std::move(notes).error().within("remove network leftovers");
    for (const auto& note : *notes) spdlog::warn("network: {}", note);
    return {};
}

Status Daemon::enable_egress_if_needed(const jobs::Registry& registry) {
    if (!needs_egress(registry) || runtime_->network->egress_enabled()) return {};
    auto notes = runtime_->network->enable_egress();
    if (!notes) return std::move(notes).error().within("egress networking");
    for (const auto& note : *notes) spdlog::info("network: {}", note);
    return {};
}

Daemon::~Daemon() {
    if (versions_) versions_->stop();
    for (auto& [ptr, weak] : connections_)
        if (auto c = weak.lock()) c->close();
    if (socket_bound_) ::unlink(config_.socket_path.c_str());
}

int Daemon::run() {
    io_.run();
    if (auto s = runtime_->cgroups->remove_subtree(); !s) spdlog::warn("removing cgroup subtree: {}", s.error().message());
    // Unmounts the cgroup helper hierarchy, then the directories the jails used go too.
    runtime_.reset();
    std::error_code ec;
    for (const char* sub : {"root", "jobs", "cgroup-favordynmods"})
        std::filesystem::remove(std::filesystem::path(config_.runtime_dir) / sub, ec);
    spdlog::info("stopped");
    return exit_code_;
}

void Daemon::accept() {
    acceptor_->async_accept([this](const boost::system::error_code& ec, asio::local::stream_protocol::socket socket) {
        if (ec) {
            if (ec == asio::error::operation_aborted || shutting_down_) return;
            spdlog::error("accept: {}", ec.message());
        } else {
            auto caller = peer_credentials(socket.native_handle());
            if (!caller) {
                spdlog::error("connection refused: {}", caller.error().message());
            } else {
                auto connection = std::make_shared<Connection>(std::move(socket), *this, std::move(*caller),
                                                               next_connection_++);
                connections_[connection.get()] = connection;
                connection->start();
            }
        }
        if (!shutting_down_) accept();
    });
}

void Daemon::forget(Connection* connection) { connections_.erase(connection); }

void Daemon::watch_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
            auto result = reload();
            if (!result) spdlog::error("reload failed, keeping the loaded set: {}", result.error().message());
        } else {
            spdlog::info("{}: shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
            begin_shutdown();
        }
        if (!shutting_down_ || signal == SIGHUP) watch_signals();
    });
}

void Daemon::begin_shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    service_manager_.notify("STOPPING=1");
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    ::unlink(config_.socket_path.c_str());
    socket_bound_ = false;
    if (versions_) versions_->stop();
    drains_pending_ = 2;
    auto drained = [this] {
        if (--drains_pending_ == 0) finish_shutdown();
    };
    scheduler_->shutdown(config_.shutdown_grace, drained);
    sessions_->shutdown(drained);
}

// Nothing is left to run: once the last handlers return, run() cleans up.
void Daemon::finish_shutdown() {
    for (auto& [ptr, weak] : std::map<Connection*, std::weak_ptr<Connection>>(connections_))
        if (auto c = weak.lock()) c->close();
    signals_.cancel();
    if (versions_) versions_->stop();
}

Result<protocol::ReloadResult> Daemon::reload() {
    service_manager_.notify("RELOADING=1");
    auto registry = jobs::Registry::load(config_.policies_dir, config_.languages_dir);
    if (!registry) {
        service_manager_.notify("READY=1\nSTATUS=reload failed, the previous policies stay in force");
        return std::move(registry).error();
    }
    if (auto s = enable_egress_if_needed(**registry); !s) {
        service_manager_.notify("READY=1\nSTATUS=reload failed, the previous policies stay in force");
        return std::move(s).error();
    }
    registry_ = std::move(*registry);
    if (versions_) versions_->stop();
    versions_ = std::make_shared<jobs::VersionProbe>(io_, *runtime_, registry_, versions_file());
    if (config_.probe_versions_at_start) versions_->start();
    protocol::ReloadResult result;
    result.policies = static_cast<std::uint32_t>(registry_->catalog().policies().size());
    result.languages = static_cast<std::uint32_t>(registry_->catalog().languages().size());
    spdlog::info("reloaded {} policies and {} languages", result.policies, result.languages);
    service_manager_.notify("READY=1\nSTATUS=listening on " + config_.socket_path);
    return result;
}

protocol::ServerHello Daemon::hello() const {
    protocol::ServerHello h;
    h.server = "sandboxd " SANDBOXD_VERSION;
    h.capabilities = {"run", "stream", "tests", "compile", "cancel", "status", "policies", "languages", "stats", "reload", "sessions"};
    h.max_frame = config_.max_frame;
    h.max_inflight = config_.max_inflight;
    return h;
}

protocol::StatusResult Daemon::status(const jobs::Caller& caller) const {
    protocol::StatusResult s;
    s.server = "sandboxd " SANDBOXD_VERSION;
    s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    s.cgroup_backend = std::string(runtime_->cgroups->name());
    s.max_jobs = scheduler_->max_jobs();
    s.max_queue = scheduler_->max_queue();
    s.running = scheduler_->running();
    s.queued = scheduler_->queued();
    s.jobs = scheduler_->jobs(caller);
    return s;
}

protocol::PoliciesResult Daemon::policies(const jobs::Caller& caller) const {
    protocol::PoliciesResult result;
    for (const auto& [name, p] : registry_->catalog().policies()) {
        if (!jobs::may_use(p.access, caller)) continue;
        result.policies.push_back({p.name, p.description, std::string(policy::to_string(p.network.mode)), p.limits});
    }
    return result;
}

std::string Daemon::versions_file() const {
    // Beside the compile cache; without a cache directory nothing is remembered.
    return config_.compile_cache_bytes > 0 ? config_.cache_dir + "/versions" : std::string();
}

protocol::LanguagesResult Daemon::languages() const {
    if (versions_ && !shutting_down_) versions_->start();  // on demand, when not at start-up
    protocol::LanguagesResult result;
    for (const auto& [name, lang] : registry_->catalog().languages()) {
        const auto& state = registry_->language_state(name);
        protocol::LanguageInfo info;
        info.name = lang.name;
        info.display_name = lang.display_name;
        info.aliases = lang.aliases;
        info.extensions = lang.extensions;
        info.compiled = lang.compiled();
        info.version = versions_ ? versions_->version(name) : "";
        info.available = state.available;
        info.reason = state.reason;
        result.languages.push_back(std::move(info));
    }
    return result;
}

protocol::StatsResult Daemon::stats() const { return stats_.snapshot(scheduler_->running(), scheduler_->queued()); }

}  // namespace sbx::server
