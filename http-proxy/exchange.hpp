// One HTTP request on its way through sandbox-http: the request, what routing and
// authentication learned about it, and the way back to the client. Handlers answer
// asynchronously (most wait for sandboxd) by calling respond() once. When the client goes away
// first, or the server must close the connection, the exchange is aborted: its abort hooks run
// (a handler waiting for a job cancels it there) and a later respond() is dropped.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http-proxy/access_limits.hpp"
#include "http-proxy/http_types.hpp"

namespace sbx::http {

// Who sent a request: a token's name, or "anonymous" (keyed by address) in anonymous mode.
struct Principal {
    std::string name;
    bool anonymous = true;
};

class Exchange {
public:
    using Send = std::function<void(Response)>;

    Exchange(Request request, std::string remote_address, Send send);
    ~Exchange();
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    const Request& request() const { return request_; }
    const std::string& body() const { return request_.body(); }
    std::string_view path() const;   // the target without its query string
    std::string_view query() const;  // after '?', without it
    std::optional<std::string> query_param(std::string_view name) const;
    std::optional<std::string> header(std::string_view name) const;
    const std::string& remote_address() const { return remote_address_; }
    std::chrono::steady_clock::time_point started() const { return started_; }

    // Filled in by the dispatcher.
    std::string route;                          // the matched pattern ("/submissions/{id}"), for metrics
    std::map<std::string, std::string> params;  // path parameters
    Principal principal;
    ClientLimits limits;  // the principal's

    // Sends the response (once; later calls and calls after abort() are ignored). Releases what
    // was held for the request (its concurrency slot).
    void respond(Response response);
    bool answered() const { return answered_; }
    bool aborted() const { return aborted_; }

    // Run when the exchange is aborted; immediately when it already was.
    void on_abort(std::function<void()> hook);
    // The client disconnected or the server closes the connection: nothing will be sent.
    void abort();

    // Kept until the response is sent or the exchange aborted (a concurrency slot).
    void hold(std::shared_ptr<void> resource) { held_.push_back(std::move(resource)); }
    // Runs after the response was handed over (metrics).
    void on_answered(std::function<void(const Response&)> hook) { answered_hooks_.push_back(std::move(hook)); }

private:
    Request request_;
    std::string remote_address_;
    Send send_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    bool answered_ = false;
    bool aborted_ = false;
    std::vector<std::function<void()>> abort_hooks_;
    std::vector<std::function<void(const Response&)>> answered_hooks_;
    std::vector<std::shared_ptr<void>> held_;
};

}  // namespace sbx::http
