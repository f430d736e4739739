#include "http-proxy/run_api.hpp"

#include <cmath>

#include "http-proxy/compat_support.hpp"
#include "http-proxy/daemon_call.hpp"
#include "http-proxy/json_body.hpp"
#include "http-proxy/openapi.hpp"

namespace sbx::http {

using nlohmann::json;

namespace {

Response simple_error(const HttpError& e) {
    Response response = json_response(e.status, {{"error", e.message}});
    add_error_headers(response, e);
    return response;
}

void run(Services& services, const std::shared_ptr<Exchange>& exchange) {
    auto parsed = parse_json_object(exchange->body());
    if (auto* error = std::get_if<HttpError>(&parsed)) {
        exchange->respond(simple_error(*error));
        return;
    }
    FieldReader f(std::get<json>(parsed));
    auto code = f.string("code", true);
    auto language = f.string("language");
    auto stdin_data = f.string("stdin");
    if (!f.ok()) {
        exchange->respond(simple_error(*f.error()));
        return;
    }
    protocol::RunRequest request;
    request.language = language.value_or("python");
    request.source = std::move(*code);
    request.stdin_data = stdin_data.value_or("");
    run_job(services, exchange, std::move(request), [exchange](RunOutcome outcome) {
        if (!outcome.result) {
            exchange->respond(simple_error(outcome.error));
            return;
        }
        const protocol::ExecutionReport& stage = final_stage(*outcome.result);
        // "finished": the program ended by itself (exit status 0 or not), not by a limit or signal.
        bool finished = stage.status == "ok" || stage.status == "runtime_error";
        json body;
        body["stdout"] = combined_output(stage);
        body["finished"] = finished;
        body["time"] = std::to_string(std::llround(outcome.result->run.wall_ms)) + " ms";
        exchange->respond(json_response(HttpStatus::ok, body));
    });
}

}  // namespace

void add_run_api(Router& router, Services& services) {
    Services* svc = &services;
    router.add(beast_http::verb::post, "/run", Access::token, simple_error,
               [svc](const std::shared_ptr<Exchange>& ex) { run(*svc, ex); },
               OpDoc("run", "Run a snippet: {code} -> {stdout, finished, time}")
                   .describe("stdout holds the program's standard output followed by its standard error. "
                             "finished is false when a limit or a signal ended the program.")
                   .json_body({{"type", "object"},
                               {"properties",
                                {{"code", {{"type", "string"}}},
                                 {"language", {{"type", "string"}, {"default", "python"}}},
                                 {"stdin", {{"type", "string"}}}}},
                               {"required", {"code"}}})
                   .json_response(200, "the outcome",
                                  {{"type", "object"},
                                   {"properties",
                                    {{"stdout", {{"type", "string"}}},
                                     {"finished", {{"type", "boolean"}}},
                                     {"time", {{"type", "string"}, {"example", "31 ms"}}}}}})
                   .json_response(400, "not JSON; unknown language", {{"type", "object"}})
                   .json_response(422, "code missing or not a string", {{"type", "object"}}));
}

}  // namespace sbx::http
