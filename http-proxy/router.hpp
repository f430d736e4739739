// Routes: a method and a path pattern ("/submissions/{id}": a braced segment matches any one
// segment and becomes a parameter) to a handler, with what the route needs: whether a token is
// required, how its API renders errors (each compatibility API has its own error shape), and its
// OpenAPI operation object, from which /openapi.json is built: a route cannot exist undocumented.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http-proxy/exchange.hpp"

namespace sbx::http {

using Handler = std::function<void(const std::shared_ptr<Exchange>&)>;
using ErrorRenderer = std::function<Response(const HttpError&)>;

enum class Access {
    open,   // health, metrics, the OpenAPI document: no token
    token,  // a token (or anonymous mode), counted against the client's limits
};

struct Route {
    beast_http::verb method;
    std::string pattern;
    Access access = Access::token;
    ErrorRenderer render_error;
    Handler handler;
    nlohmann::json doc;  // OpenAPI operation: summary, tags, requestBody, responses
    std::vector<std::string> segments;
};

class Router {
public:
    void add(beast_http::verb method, std::string pattern, Access access, ErrorRenderer render_error, Handler handler,
             nlohmann::json doc);

    struct Match {
        const Route* route = nullptr;
        std::map<std::string, std::string> params;
        std::vector<beast_http::verb> allowed;  // when the path exists with other methods
    };
    Match match(beast_http::verb method, std::string_view path) const;

    const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

private:
    std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace sbx::http
