// The daemon's open sessions: opening (checked against the policy, the language, and the caps
// on open sessions and on their memory), calls and closing by their owners only, listing, and
// reaping of idle and over-age sessions. Sessions die with the daemon: shutdown() closes them
// all, and their jails have PR_SET_PDEATHSIG; what a crash leaves (cgroups, workspaces) goes at
// the next start with the jobs' leftovers.
//
// A session is its owner's alone: the uid that opened it and, within that uid, the `owner` name
// a front end gives its own clients. Anyone else asking for it gets `not_found`, exactly as if
// it did not exist, so session ids cannot be probed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "daemon/jobs/caller.hpp"
#include "daemon/jobs/registry.hpp"
#include "daemon/sessions/session.hpp"
#include "protocol/messages.hpp"

namespace sbx::sessions {

struct SessionConfig {
    std::uint32_t max_sessions = 64;            // open at once, everyone's
    std::uint32_t max_sessions_per_client = 8;  // open at once per uid and owner
    std::uint64_t memory_budget_bytes = 0;      // memory limits of open sessions, added up; 0: half the RAM
    policy::Duration default_idle_timeout = std::chrono::minutes(10);
    policy::Duration max_idle_timeout = std::chrono::hours(1);
    policy::Duration default_max_lifetime = std::chrono::hours(1);
    policy::Duration max_lifetime = std::chrono::hours(24);
    std::string drivers_dir;  // the host directory of the drivers (policy/drivers)
};

class SessionManager {
public:
    using Opened = std::function<void(protocol::Decoded<protocol::SessionInfo>)>;
    using Answer = std::function<void(protocol::Decoded<protocol::SessionExecResult>)>;

    SessionManager(boost::asio::io_context& io, jail::JailRuntime& runtime, SessionConfig config);
    SessionManager(const SessionManager&) = delete;
    SessionManager& operator=(const SessionManager&) = delete;

    // `opened` runs once the interpreter is ready (or with the reason it is not); never inside
    // this call.
    void open(const jobs::Caller& caller, std::shared_ptr<const jobs::Registry> registry,
              protocol::SessionOpenRequest request, Opened opened);
    void exec(const jobs::Caller& caller, protocol::SessionExecRequest request, Answer answer);
    protocol::Decoded<protocol::SessionCloseResult> close(const jobs::Caller& caller,
                                                          const protocol::SessionCloseRequest& request);
    protocol::SessionListResult list(const jobs::Caller& caller, const protocol::SessionListRequest& request) const;

    // Refuses new sessions, closes every open one; `done` runs once their jails are gone.
    void shutdown(std::function<void()> done);

    const SessionConfig& config() const { return config_; }
    std::size_t open_count() const { return sessions_.size(); }

private:
    protocol::Decoded<SessionSpec> validate(const jobs::Caller& caller, std::shared_ptr<const jobs::Registry> registry,
                                            const protocol::SessionOpenRequest& request) const;
    std::shared_ptr<Session> find(const jobs::Caller& caller, const std::string& id, const std::string& owner) const;
    void remove(const std::string& id, const std::string& reason);
    void reap();
    void schedule_reaper();
    void check_drained();
    std::uint64_t memory_committed() const;

    boost::asio::io_context& io_;
    jail::JailRuntime& runtime_;
    SessionConfig config_;
    std::map<std::string, std::shared_ptr<Session>> sessions_;
    boost::asio::steady_timer reaper_;
    bool reaper_armed_ = false;
    bool shutting_down_ = false;
    std::size_t closing_ = 0;  // sessions whose jails are still going away
    std::function<void()> drained_;
};

}  // namespace sbx::sessions
