#include "daemon/sessions/session_manager.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <random>

#include "daemon/jobs/run_validation.hpp"
#include "policy/units.hpp"

namespace sbx::sessions {

namespace asio = boost::asio;
using protocol::ErrorCode;
using protocol::ProtocolError;
using std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kReapInterval{250};

ProtocolError refuse(ErrorCode code, std::string message) { return ProtocolError{code, std::move(message), {}}; }

// 128 random bits: a session id cannot be guessed.
std::string new_session_id() {
    std::random_device rd;
    std::string id;
    char buf[9];
    for (int i = 0; i < 4; ++i) {
        std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
        id += buf;
    }
    return id;
}

std::uint64_t half_the_memory() {
    long pages = ::sysconf(_SC_PHYS_PAGES);
    long page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 4ull << 30;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 2;
}

std::string who(const jobs::Caller& caller, const std::string& owner) {
    return "uid " + std::to_string(caller.uid) + (owner.empty() ? "" : " (owner '" + owner + "')");
}

// A call may set only its own time and output; the rest belongs to the session's jail.
bool only_call_limits(const policy::LimitRequest& l) {
    return !l.memory_bytes && !l.pids && !l.cpu_cores && !l.tmpfs_bytes && !l.open_files && !l.file_size_bytes &&
           !l.stack_bytes;
}

}  // namespace

SessionManager::SessionManager(asio::io_context& io, jail::JailRuntime& runtime, SessionConfig config)
    : io_(io), runtime_(runtime), config_(std::move(config)), reaper_(io) {
    if (config_.memory_budget_bytes == 0) config_.memory_budget_bytes = half_the_memory();
}

std::uint64_t SessionManager::memory_committed() const {
    std::uint64_t total = 0;
    for (const auto& [id, s] : sessions_) total += s->spec().limits.memory_bytes;
    return total;
}

protocol::Decoded<SessionSpec> SessionManager::validate(const jobs::Caller& caller,
                                                        std::shared_ptr<const jobs::Registry> registry,
                                                        const protocol::SessionOpenRequest& request) const {
    if (shutting_down_) return refuse(ErrorCode::shutting_down, "sandboxd is shutting down");
    SessionSpec spec;
    auto policy = jobs::usable_policy(*registry, caller, request.policy);
    if (!policy) return policy.error();
    spec.policy = *policy;
    auto language = jobs::available_language(*registry, request.language);
    if (!language) return language.error();
    spec.language = *language;
    if (!spec.language->has_session()) {
        std::string with;
        for (const auto& [name, l] : registry->catalog().languages())
            if (l.has_session()) with += (with.empty() ? "" : ", ") + name;
        return refuse(ErrorCode::invalid_request, "session.language: '" + spec.language->name +
                                                      "' has no session driver (sessions speak: " + with + ")");
    }
    // As for one-shot runs, the language's defaults replace the policy's, capped at its maximums.
    spec.bounds = spec.policy->limits.with_defaults(spec.language->run_limits);
    auto limits = policy::resolve_limits(spec.bounds, request.limits);
    if (!limits) return refuse(ErrorCode::limit_exceeded, "session.limits: " + limits.error().message());
    spec.limits = *limits;
    spec.requested_limits = request.limits;
    auto bounded = [](const char* field, std::optional<policy::Duration> asked, policy::Duration fallback,
                      policy::Duration maximum, policy::Duration& out) -> std::optional<ProtocolError> {
        out = asked.value_or(fallback);
        if (out > maximum)
            return refuse(ErrorCode::limit_exceeded, std::string("session.") + field + ": " +
                                                         policy::format_duration(out) + " exceeds the maximum of " +
                                                         policy::format_duration(maximum));
        return std::nullopt;
    };
    if (auto e = bounded("idle_timeout", request.idle_timeout, config_.default_idle_timeout, config_.max_idle_timeout,
                         spec.idle_timeout))
        return *e;
    if (auto e = bounded("max_lifetime", request.max_lifetime, config_.default_max_lifetime, config_.max_lifetime,
                         spec.max_lifetime))
        return *e;
    if (auto e = jobs::check_env(request.env, "session.env")) return *e;
    for (const auto& [k, v] : spec.language->env) spec.env.push_back(k + "=" + v);
    for (const auto& [k, v] : request.env) spec.env.push_back(k + "=" + v);

    std::size_t mine = 0;
    for (const auto& [id, s] : sessions_) mine += s->belongs_to(caller.uid, request.owner) ? 1 : 0;
    if (mine >= config_.max_sessions_per_client)
        return refuse(ErrorCode::too_many_sessions,
                      who(caller, request.owner) + " already has " + std::to_string(mine) +
                          " open sessions, the most one client may have; close one (session.close) first");
    if (sessions_.size() >= config_.max_sessions)
        return refuse(ErrorCode::too_many_sessions, "sandboxd has " + std::to_string(sessions_.size()) +
                                                        " open sessions, the most it keeps; retry later");
    std::uint64_t committed = memory_committed();
    if (committed + spec.limits.memory_bytes > config_.memory_budget_bytes)
        return refuse(ErrorCode::session_memory_exhausted,
                      "a session with " + policy::format_size(spec.limits.memory_bytes) + " of memory does not fit: " +
                          std::to_string(sessions_.size()) + " open sessions hold " + policy::format_size(committed) +
                          " of the sessions' budget of " + policy::format_size(config_.memory_budget_bytes));
    spec.uid = caller.uid;
    spec.owner = request.owner;
    spec.registry = std::move(registry);
    spec.drivers_dir = config_.drivers_dir;
    return spec;
}

void SessionManager::open(const jobs::Caller& caller, std::shared_ptr<const jobs::Registry> registry,
                          protocol::SessionOpenRequest request, Opened opened) {
    auto spec = validate(caller, std::move(registry), request);
    if (!spec) {
        asio::post(io_, [opened = std::move(opened), error = spec.error()] { opened(error); });
        return;
    }
    do {
        spec->id = new_session_id();
    } while (sessions_.count(spec->id) != 0);
    const std::string id = spec->id;
    auto session = std::make_shared<Session>(io_, runtime_, std::move(*spec));
    sessions_[id] = session;  // counts against the caps while it starts
    schedule_reaper();
    spdlog::info("session {} opening: {} {}, policy {}", id, who(caller, request.owner), session->spec().language->name,
                 session->spec().policy->name);
    session->open([this, id, weak = std::weak_ptr<Session>(session), opened = std::move(opened)](Status status) {
        auto self = weak.lock();
        if (!self || sessions_.count(id) == 0) {
            opened(refuse(ErrorCode::shutting_down, "the session was closed while it started"));
            return;
        }
        if (!status) {
            sessions_.erase(id);
            spdlog::error("session {} did not start: {}", id, status.error().message());
            check_drained();
            opened(refuse(ErrorCode::internal_error, "the session could not start: " + status.error().message()));
            return;
        }
        opened(self->info());
    });
}

std::shared_ptr<Session> SessionManager::find(const jobs::Caller& caller, const std::string& id,
                                              const std::string& owner) const {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || !it->second->belongs_to(caller.uid, owner)) return nullptr;
    return it->second;
}

void SessionManager::exec(const jobs::Caller& caller, protocol::SessionExecRequest request, Answer answer) {
    auto fail = [&](ProtocolError e) { asio::post(io_, [answer = std::move(answer), e = std::move(e)] { answer(e); }); };
    auto session = find(caller, request.session_id, request.owner);
    if (!session) return fail(refuse(ErrorCode::not_found, "no session '" + request.session_id + "'"));
    if (!only_call_limits(request.limits))
        return fail(refuse(ErrorCode::invalid_request,
                           "session.exec.limits: a call may set only wall_time_limit, cpu_time_limit and output_limit"));
    const SessionSpec& spec = session->spec();
    auto limits = policy::resolve_limits(spec.bounds, spec.requested_limits.overridden_by(request.limits));
    if (!limits) return fail(refuse(ErrorCode::limit_exceeded, "session.exec.limits: " + limits.error().message()));
    CallLimits call{limits->wall_time, limits->cpu_time, limits->output_bytes};
    if (!session->exec(std::move(request.code), call,
                       [answer](protocol::SessionExecResult result) { answer(std::move(result)); }))
        return fail(refuse(ErrorCode::busy, "session '" + request.session_id + "' has too many calls waiting"));
}

protocol::Decoded<protocol::SessionCloseResult> SessionManager::close(const jobs::Caller& caller,
                                                                      const protocol::SessionCloseRequest& request) {
    if (!find(caller, request.session_id, request.owner))
        return refuse(ErrorCode::not_found, "no session '" + request.session_id + "'");
    remove(request.session_id, "closed by its owner");
    return protocol::SessionCloseResult{true};
}

protocol::SessionListResult SessionManager::list(const jobs::Caller& caller,
                                                 const protocol::SessionListRequest& request) const {
    protocol::SessionListResult r;
    for (const auto& [id, s] : sessions_)
        if (s->belongs_to(caller.uid, request.owner)) r.sessions.push_back(s->info());
    r.open = static_cast<std::uint32_t>(sessions_.size());
    r.max_sessions = config_.max_sessions;
    r.max_sessions_per_client = config_.max_sessions_per_client;
    r.memory_committed_bytes = memory_committed();
    r.memory_budget_bytes = config_.memory_budget_bytes;
    return r;
}

void SessionManager::remove(const std::string& id, const std::string& reason) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    auto session = std::move(it->second);
    sessions_.erase(it);
    ++closing_;
    spdlog::info("session {} {}", id, reason);
    session->close("the session was " + reason, [this, session] {
        --closing_;
        check_drained();
    });
}

void SessionManager::schedule_reaper() {
    if (reaper_armed_ || sessions_.empty() || shutting_down_) return;
    reaper_armed_ = true;
    reaper_.expires_after(kReapInterval);
    reaper_.async_wait([this](const boost::system::error_code& ec) {
        reaper_armed_ = false;
        if (ec) return;
        reap();
        schedule_reaper();
    });
}

void SessionManager::reap() {
    auto now = steady_clock::now();
    std::vector<std::pair<std::string, std::string>> due;
    for (const auto& [id, s] : sessions_) {
        std::string why;
        if (s->expired(now, why)) due.emplace_back(id, std::move(why));
    }
    for (const auto& [id, why] : due) remove(id, "closed: it " + why);
}

void SessionManager::shutdown(std::function<void()> done) {
    shutting_down_ = true;
    drained_ = std::move(done);
    reaper_.cancel();
    std::vector<std::string> ids;
    for (const auto& [id, s] : sessions_) ids.push_back(id);
    for (const auto& id : ids) remove(id, "closed: sandboxd is shutting down");
    check_drained();
}

void SessionManager::check_drained() {
    if (!shutting_down_ || closing_ > 0 || !sessions_.empty() || !drained_) return;
    asio::post(io_, std::move(drained_));
    drained_ = nullptr;
}

}  // namespace sbx::sessions
