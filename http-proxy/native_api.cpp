#include "http-proxy/native_api.hpp"

#include "http-proxy/daemon_call.hpp"
#include "http-proxy/json_body.hpp"
#include "http-proxy/openapi.hpp"
#include "protocol/json_codec.hpp"

namespace sbx::http {

using nlohmann::json;
using beast_http::verb;

namespace {

void respond_error(const std::shared_ptr<Exchange>& exchange, const HttpError& error) {
    exchange->respond(native_error(error));
}

void run(Services& services, const std::shared_ptr<Exchange>& exchange) {
    auto parsed = parse_json_object(exchange->body());
    if (auto* error = std::get_if<HttpError>(&parsed)) {
        respond_error(exchange, *error);
        return;
    }
    auto request = protocol::run_request_from_json(std::get<json>(parsed));
    if (!request) {
        respond_error(exchange, HttpError::unprocessable(request.error().message));
        return;
    }
    if (request->stream) {
        respond_error(exchange, HttpError::unprocessable(
                                    "run.stream: output streaming is offered on sandboxd's socket, not over HTTP; "
                                    "leave it false to get the whole output in the result"));
        return;
    }
    run_job(services, exchange, std::move(*request), [exchange](RunOutcome outcome) {
        if (!outcome.result) {
            respond_error(exchange, outcome.error);
            return;
        }
        exchange->respond(json_response(HttpStatus::ok, protocol::to_json(*outcome.result)));
    });
}

template <class T>
void relay_query(Services& services, const std::shared_ptr<Exchange>& exchange, protocol::RequestBody body) {
    query_daemon<T>(services, std::move(body), [exchange](QueryOutcome<T> outcome) {
        if (!outcome.result) {
            respond_error(exchange, outcome.error);
            return;
        }
        exchange->respond(json_response(HttpStatus::ok, protocol::to_json(*outcome.result)));
    });
}

void healthz(Services& services, const std::shared_ptr<Exchange>& exchange) {
    query_daemon<protocol::StatusResult>(
        services, protocol::StatusRequest{}, [exchange](QueryOutcome<protocol::StatusResult> outcome) {
            if (!outcome.result) {
                Response response =
                    json_response(HttpStatus::service_unavailable, {{"status", "unavailable"}, {"message", outcome.error.message}});
                response.set(beast_http::field::retry_after, "1");
                exchange->respond(std::move(response));
                return;
            }
            const auto& s = *outcome.result;
            exchange->respond(json_response(HttpStatus::ok, {{"status", "ok"},
                                                         {"sandboxd",
                                                          {{"server", s.server},
                                                           {"uptime_s", s.uptime_s},
                                                           {"cgroup_backend", s.cgroup_backend},
                                                           {"max_jobs", s.max_jobs},
                                                           {"max_queue", s.max_queue},
                                                           {"running", s.running},
                                                           {"queued", s.queued}}}}));
        });
}

void metrics(Services& services, const std::shared_ptr<Exchange>& exchange) {
    Services* svc = &services;
    query_daemon<protocol::StatsResult>(services, protocol::StatsRequest{},
                                        [exchange, svc](QueryOutcome<protocol::StatsResult> outcome) {
                                            exchange->respond(make_response(
                                                HttpStatus::ok,
                                                svc->metrics.render(outcome.result, svc->daemon.open_connections()),
                                                "text/plain; version=0.0.4; charset=utf-8"));
                                        });
}

json error_schema() { return schema_ref("Error"); }

}  // namespace

void add_native_api(Router& router, Services& services) {
    Services* svc = &services;
    auto render = [](const HttpError& e) { return native_error(e); };

    router.add(verb::post, "/v1/run", Access::token, render,
               [svc](const std::shared_ptr<Exchange>& ex) { run(*svc, ex); },
               OpDoc("native", "Run a program in a jail (the protocol's run as JSON)")
                   .describe("The body holds the fields of the protocol's `run` request (docs/protocol.md), with "
                             "the same names and defaults; bytes are JSON strings. Test cases included. "
                             "`stream` must be false.")
                   .json_body(schema_ref("RunRequest"))
                   .json_response(200, "the job's result, whatever its status", schema_ref("RunResult"))
                   .json_response(400, "the body is not JSON; unknown language or policy", error_schema())
                   .json_response(413, "the body is larger than --max-body", error_schema())
                   .json_response(422, "a field of the wrong type or value; a limit above the policy's", error_schema())
                   .json_response(503, "sandboxd's queue is full or it is unreachable; see Retry-After", error_schema())
                   .json_response(504, "no result within the request timeout; the job was cancelled", error_schema()));
    router.add(verb::get, "/v1/languages", Access::token, render,
               [svc](const std::shared_ptr<Exchange>& ex) {
                   relay_query<protocol::LanguagesResult>(*svc, ex, protocol::LanguagesRequest{});
               },
               OpDoc("native", "The languages sandboxd knows, with versions and availability")
                   .json_response(200, "the languages",
                                  {{"type", "object"},
                                   {"properties",
                                    {{"languages", {{"type", "array"}, {"items", schema_ref("Language")}}}}}}));
    router.add(verb::get, "/v1/policies", Access::token, render,
               [svc](const std::shared_ptr<Exchange>& ex) {
                   relay_query<protocol::PoliciesResult>(*svc, ex, protocol::PoliciesRequest{});
               },
               OpDoc("native", "The policies this proxy may use, with their limits")
                   .json_response(200, "the policies",
                                  {{"type", "object"},
                                   {"properties",
                                    {{"policies", {{"type", "array"}, {"items", schema_ref("Policy")}}}}}}));

    router.add(verb::get, "/healthz", Access::open, render,
               [svc](const std::shared_ptr<Exchange>& ex) { healthz(*svc, ex); },
               OpDoc("operations", "Whether sandboxd is reachable and answering")
                   .json_response(200, "sandboxd answered a status request",
                                  {{"type", "object"},
                                   {"properties", {{"status", {{"type", "string"}}}, {"sandboxd", {{"type", "object"}}}}}})
                   .json_response(503, "sandboxd is not reachable", {{"type", "object"}}));
    router.add(verb::get, "/metrics", Access::open, render,
               [svc](const std::shared_ptr<Exchange>& ex) { metrics(*svc, ex); },
               OpDoc("operations", "Prometheus metrics of the proxy and of sandboxd")
                   .text_response(200, "Prometheus text exposition format 0.0.4"));
    const Router* r = &router;
    router.add(verb::get, "/openapi.json", Access::open, render,
               [r](const std::shared_ptr<Exchange>& ex) {
                   static const std::string document = protocol::dump(build_openapi(*r, SANDBOXD_VERSION), 2);
                   ex->respond(make_response(HttpStatus::ok, document, "application/json"));
               },
               OpDoc("operations", "This document").json_response(200, "OpenAPI 3.0 description of every route",
                                                                  {{"type", "object"}}));
}

}  // namespace sbx::http
