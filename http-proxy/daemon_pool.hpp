// sandbox-http's connections to sandboxd: a small, fixed number of protocol connections
// (protocol/async_client.hpp), each carrying many requests at once. A connection that breaks
// (the daemon restarted, or closed it) is reconnected in the background with a growing delay;
// requests go to the open connection with the fewest requests in flight, and fail at once when
// none is open. The pool also keeps the daemon's policy list, refreshed on every (re)connection
// and every 30 s, so that compatibility APIs can fit their timeouts to a policy's maximum
// without a round trip.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/async_client.hpp"

namespace sbx::http {

class DaemonPool {
public:
    DaemonPool(boost::asio::io_context& io, std::string socket_path, std::size_t connections);
    ~DaemonPool();
    DaemonPool(const DaemonPool&) = delete;
    DaemonPool& operator=(const DaemonPool&) = delete;

    void start();
    // Closes every connection (their requests fail) and stops reconnecting.
    void stop();

    // Sends a request on the least busy open connection. Without one, on_reply gets an error
    // (asynchronously) naming why the daemon is unreachable.
    void call(const protocol::RequestBody& body, protocol::AsyncClient::ReplyHandler on_reply,
              protocol::AsyncClient::EventHandler on_event = {});
    // Fire and forget: cancels a job this process started.
    void cancel_job(const std::string& job_id);

    std::size_t open_connections() const;
    const std::string& socket_path() const { return socket_path_; }
    // The largest request frame the daemon accepts (from its hello), 0 before the first hello.
    std::size_t max_frame() const { return max_frame_; }
    // Why the last connection attempt failed ("" when connected).
    const std::string& last_error() const { return last_error_; }
    // The daemon's policies as last fetched, if ever.
    const std::optional<protocol::PoliciesResult>& policies() const { return policies_; }
    const protocol::PolicyInfo* policy(const std::string& name) const;  // "" = default
    // Runs `then` once the policy list is known (at once when it is; after a fetch otherwise,
    // whether or not the fetch succeeded).
    void with_policies(std::function<void()> then);

private:
    struct Slot {
        std::shared_ptr<protocol::AsyncClient> client;
        bool connecting = false;
        std::chrono::milliseconds backoff{100};
        std::chrono::steady_clock::time_point next_attempt{};
    };
    void connect(std::size_t index);
    void watch();
    void refresh_policies();

    boost::asio::io_context& io_;
    std::string socket_path_;
    std::vector<Slot> slots_;
    boost::asio::steady_timer watchdog_;
    std::chrono::steady_clock::time_point next_policy_refresh_{};
    std::optional<protocol::PoliciesResult> policies_;
    bool fetching_policies_ = false;
    std::vector<std::function<void()>> policy_waiters_;
    std::string last_error_ = "not connected yet";
    std::size_t max_frame_ = 0;
    bool stopped_ = false;
    // Outlives the pool in handlers that may run after it is gone.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sbx::http
