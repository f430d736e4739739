// The dispatcher between the HTTP server and the APIs: finds the route, authenticates the client
// (a token from X-Auth-Token or Authorization: Bearer, or anonymous mode), applies the client's
// rate and concurrency limits (429 with Retry-After), counts the request in the metrics, and
// calls the route's handler. Refusals use the route's own error shape.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "http-proxy/access_limits.hpp"
#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"
#include "http-proxy/token_file.hpp"

namespace sbx::http {

class ProxyApp {
public:
    // Without a token table the service is anonymous: every client is named by its address and
    // gets the default limits.
    ProxyApp(Services& services, std::optional<TokenTable> tokens);

    Router& router() { return router_; }
    void dispatch(const std::shared_ptr<Exchange>& exchange);
    // SIGHUP: re-reads --tokens; a bad file keeps the old table.
    Status reload_tokens();

private:
    std::optional<HttpError> authenticate(Exchange& exchange, ClientLimits& limits) const;

    Services& services_;
    std::optional<TokenTable> tokens_;
    AccessLimiter limiter_;
    Router router_;
};

}  // namespace sbx::http
