#include "http-proxy/router.hpp"

namespace sbx::http {

namespace {

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        out.emplace_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return out;
}

bool is_parameter(const std::string& segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(beast_http::verb method, std::string pattern, Access access, ErrorRenderer render_error,
                 Handler handler, nlohmann::json doc) {
    auto route = std::make_unique<Route>();
    route->method = method;
    route->segments = split_path(pattern);
    route->pattern = std::move(pattern);
    route->access = access;
    route->render_error = std::move(render_error);
    route->handler = std::move(handler);
    route->doc = std::move(doc);
    routes_.push_back(std::move(route));
}

Router::Match Router::match(beast_http::verb method, std::string_view path) const {
    Match result;
    const auto segments = split_path(path);
    // A literal segment beats a parameter: "/v1/sessions/x" before "/v1/{anything}/x".
    int best_literals = -1;
    for (const auto& route : routes_) {
        if (route->segments.size() != segments.size()) continue;
        std::map<std::string, std::string> params;
        int literals = 0;
        bool matches = true;
        for (size_t i = 0; i < segments.size() && matches; ++i) {
            const std::string& want = route->segments[i];
            if (is_parameter(want)) {
                params[want.substr(1, want.size() - 2)] = segments[i];
            } else if (want == segments[i]) {
                ++literals;
            } else {
                matches = false;
            }
        }
        if (!matches) continue;
        if (route->method != method) {
            result.allowed.push_back(route->method);
            continue;
        }
        if (literals > best_literals) {
            best_literals = literals;
            result.route = route.get();
            result.params = std::move(params);
        }
    }
    return result;
}

}  // namespace sbx::http
