#include "http-proxy/proxy_app.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace sbx::http {

ProxyApp::ProxyApp(Services& services, std::optional<TokenTable> tokens)
    : services_(services), tokens_(std::move(tokens)) {}

Status ProxyApp::reload_tokens() {
    if (!tokens_) return {};
    auto table = load_token_file(services_.config.tokens_file, services_.config.default_limits);
    if (!table) return std::move(table).error();
    tokens_ = std::move(*table);
    spdlog::info("reloaded {} tokens from {}", tokens_->size(), services_.config.tokens_file);
    return {};
}

std::optional<HttpError> ProxyApp::authenticate(Exchange& exchange, ClientLimits& limits) const {
    if (!tokens_) {
        exchange.principal = {"anonymous@" + exchange.remote_address(), true};
        limits = services_.config.default_limits;
        return std::nullopt;
    }
    std::optional<std::string> token = exchange.header("X-Auth-Token");
    if (!token) {
        if (auto authorization = exchange.header("Authorization")) {
            constexpr std::string_view bearer = "Bearer ";
            if (authorization->size() > bearer.size() &&
                std::equal(bearer.begin(), bearer.end(), authorization->begin(),
                           [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
                token = authorization->substr(bearer.size());
        }
    }
    if (!token || token->empty())
        return HttpError{HttpStatus::unauthorized, "unauthorized",
                         "a token is required: send it as X-Auth-Token or Authorization: Bearer", {}};
    auto it = tokens_->find(*token);
    if (it == tokens_->end()) return HttpError{HttpStatus::unauthorized, "unauthorized", "the token is not valid", {}};
    exchange.principal = {it->second.name, false};
    limits = it->second.limits;
    return std::nullopt;
}

void ProxyApp::dispatch(const std::shared_ptr<Exchange>& exchange) {
    Metrics& metrics = services_.metrics;
    metrics.request_started();
    const std::string method(exchange->request().method_string());
    Exchange* raw = exchange.get();
    exchange->on_answered([&metrics, raw, method](const Response& response) {
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - raw->started()).count();
        metrics.request_finished(raw->route, method, response.result_int(), seconds);
    });
    exchange->on_abort([&metrics, raw, method] {
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - raw->started()).count();
        // 499: nginx's "client closed the request".
        metrics.request_finished(raw->route, method, 499, seconds);
    });

    auto match = router_.match(exchange->request().method(), exchange->path());
    if (match.route == nullptr) {
        if (!match.allowed.empty()) {
            exchange->route = std::string(exchange->path());
            std::string allow;
            for (auto verb : match.allowed) {
                if (!allow.empty()) allow += ", ";
                allow += std::string(beast_http::to_string(verb));
            }
            Response response = native_error({HttpStatus::method_not_allowed, "method_not_allowed",
                                              std::string(exchange->request().method_string()) + " is not allowed on " +
                                                  std::string(exchange->path()) + " (allowed: " + allow + ")",
                                              {}});
            response.set(beast_http::field::allow, allow);
            exchange->respond(std::move(response));
            return;
        }
        exchange->route = "unmatched";
        exchange->respond(native_error({HttpStatus::not_found, "not_found",
                                        "no route " + std::string(exchange->path()) + " (GET /openapi.json lists them)",
                                        {}}));
        return;
    }
    const Route& route = *match.route;
    exchange->route = route.pattern;
    exchange->params = std::move(match.params);
    auto refuse = [&](const HttpError& error, const std::string& reason) {
        metrics.refused(reason);
        Response response = route.render_error(error);
        add_error_headers(response, error);
        exchange->respond(std::move(response));
    };

    if (route.access == Access::token) {
        ClientLimits limits;
        if (auto error = authenticate(*exchange, limits)) {
            refuse(*error, "unauthorized");
            return;
        }
        std::shared_ptr<void> ticket;
        if (auto refusal = limiter_.admit(exchange->principal.name, limits, ticket)) {
            refuse(HttpError{HttpStatus::too_many_requests, refusal->reason, refusal->message, refusal->retry_after_s},
                   refusal->reason);
            return;
        }
        exchange->hold(std::move(ticket));
        exchange->limits = limits;
    }
    try {
        route.handler(exchange);
    } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", method, route.pattern, e.what());
        exchange->respond(route.render_error({HttpStatus::internal_server_error, "internal_error", e.what(), {}}));
    }
}

}  // namespace sbx::http
