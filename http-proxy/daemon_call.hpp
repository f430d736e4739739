// Running a request of an HTTP exchange through sandboxd, with what every API needs around it:
// - the job is cancelled when the HTTP client disconnects before the result (the exchange is
//   aborted), or when the request's deadline passes first (then the answer is 504);
// - sandboxd's error codes become HTTP statuses (busy -> 503 with Retry-After, invalid_request
//   -> 422, ...), and an unreachable daemon becomes 503;
// - a run too large for the daemon's frame limit is refused here (413), since sending it would
//   make the daemon close the shared connection.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "http-proxy/exchange.hpp"
#include "http-proxy/services.hpp"
#include "protocol/messages.hpp"

namespace sbx::http {

struct RunOutcome {
    std::optional<protocol::RunResult> result;
    HttpError error;  // when there is no result
};

// `done` is not called when the exchange was aborted (nobody is listening any more).
void run_job(Services& services, const std::shared_ptr<Exchange>& exchange, protocol::RunRequest request,
             std::function<void(RunOutcome)> done);

// A request without a job (languages, policies, stats, status, the session requests): the
// decoded result or an error.
template <class T>
struct QueryOutcome {
    std::optional<T> result;
    HttpError error;
};
template <class T>
void query_daemon(DaemonPool& daemon, protocol::RequestBody body, std::function<void(QueryOutcome<T>)> done);
template <class T>
void query_daemon(Services& services, protocol::RequestBody body, std::function<void(QueryOutcome<T>)> done) {
    query_daemon<T>(services.daemon, std::move(body), std::move(done));
}

HttpError http_error_from(const protocol::ProtocolError& error);
// The request's deadline: --request-timeout, or less when the client asks with X-Request-Timeout
// (seconds).
std::chrono::milliseconds deadline_of(const ProxyConfig& config, const Exchange& exchange);
// The daemon could not be reached or the connection broke: 503.
HttpError unavailable(const std::string& why);

}  // namespace sbx::http
