#include "http-proxy/submissions_api.hpp"

#include <spdlog/spdlog.h>

#include "http-proxy/compat_support.hpp"
#include "http-proxy/daemon_call.hpp"
#include "http-proxy/json_body.hpp"
#include "http-proxy/openapi.hpp"
#include "http-proxy/session_backend.hpp"
#include "http-proxy/sessions_api.hpp"
#include "http-proxy/submission_store.hpp"

namespace sbx::http {

using nlohmann::json;
using nlohmann::ordered_json;
using beast_http::verb;

namespace {

Response interpreter_error(const HttpError& e) {
    Response response = json_response(e.status, {{"error", e.message}, {"code", e.code}});
    add_error_headers(response, e);
    return response;
}

Response ordered(HttpStatus status, const ordered_json& body) {
    return make_response(status, body.dump(-1, ' ', false, ordered_json::error_handler_t::replace), "application/json");
}

struct ProgramInput {
    std::string language;
    std::string code;
    std::string stdin_data;
};

// Parses {code, language?, stdin?}; answers the error itself and returns nullopt on a bad body.
// With `route_sessions`, a body with user_uuid goes to the stateful interpreter instead.
std::optional<ProgramInput> read_program(Services& services, const std::shared_ptr<Exchange>& exchange,
                                         bool route_sessions) {
    auto parsed = parse_json_object(exchange->body());
    if (auto* error = std::get_if<HttpError>(&parsed)) {
        exchange->respond(interpreter_error(*error));
        return std::nullopt;
    }
    const json& body = std::get<json>(parsed);
    if (route_sessions && body.contains("user_uuid")) {
        services.sessions.execute(exchange, body);
        return std::nullopt;
    }
    FieldReader f(body);
    auto code = f.string("code", true);
    auto language = f.string("language");
    auto stdin_data = f.string("stdin");
    if (!f.ok()) {
        exchange->respond(interpreter_error(*f.error()));
        return std::nullopt;
    }
    return ProgramInput{language.value_or("python"), std::move(*code), stdin_data.value_or("")};
}

struct Outcome {
    std::string output;
    double time_s = 0;
    std::uint64_t memory_kb = 0;
    std::int32_t exit_code = 0;
    std::string status;
};

Outcome outcome_of(const protocol::RunResult& r) {
    const protocol::ExecutionReport& stage = final_stage(r);
    return {combined_output(stage), r.run.wall_ms / 1000.0, (stage.memory_peak_bytes + 1023) / 1024,
            stage.signal != 0 ? 128 + stage.signal : stage.exit_code, r.run.status};
}

void run_program(Services& services, const std::shared_ptr<Exchange>& exchange, const ProgramInput& in,
                 std::function<void(const Outcome&)> done) {
    protocol::RunRequest request;
    request.language = in.language;
    request.source = in.code;
    request.stdin_data = in.stdin_data;
    run_job(services, exchange, std::move(request), [exchange, done](RunOutcome outcome) {
        if (!outcome.result) {
            exchange->respond(interpreter_error(outcome.error));
            return;
        }
        done(outcome_of(*outcome.result));
    });
}

void execute(Services& services, const std::shared_ptr<Exchange>& exchange) {
    auto in = read_program(services, exchange, true);
    if (!in) return;
    run_program(services, exchange, *in, [exchange](const Outcome& o) {
        ordered_json body;
        body["output"] = o.output;
        body["time"] = o.time_s;
        body["memory"] = o.memory_kb;
        body["exit_code"] = o.exit_code;
        exchange->respond(ordered(HttpStatus::ok, body));
    });
}

void submit(Services& services, const std::shared_ptr<Exchange>& exchange) {
    auto in = read_program(services, exchange, false);
    if (!in) return;
    SubmissionStore* store = &services.submissions;
    ProgramInput input = *in;
    run_program(services, exchange, *in, [exchange, store, input](const Outcome& o) {
        Submission s;
        s.owner = exchange->principal.anonymous ? "anonymous" : exchange->principal.name;
        s.language = input.language;
        s.code = input.code;
        s.stdin_data = input.stdin_data;
        s.status = o.status;
        s.output = o.output;
        s.time_s = o.time_s;
        s.memory_kb = o.memory_kb;
        s.exit_code = o.exit_code;
        if (auto stored = store->insert(s); !stored) {
            spdlog::error("{}", stored.error().message());
            exchange->respond(interpreter_error(
                {HttpStatus::internal_server_error, "storage", "the submission ran but could not be stored", {}}));
            return;
        }
        ordered_json body;
        body["submission_id"] = s.id;
        body["output"] = o.output;
        body["time"] = o.time_s;
        body["memory"] = o.memory_kb;
        body["exit_code"] = o.exit_code;
        exchange->respond(ordered(HttpStatus::ok, body));
    });
}

void get_submission(Services& services, const std::shared_ptr<Exchange>& exchange) {
    const std::string& id = exchange->params["id"];
    auto found = services.submissions.find(id);
    if (!found) {
        spdlog::error("{}", found.error().message());
        exchange->respond(interpreter_error({HttpStatus::internal_server_error, "storage", "the submission could not be read", {}}));
        return;
    }
    std::string owner = exchange->principal.anonymous ? "anonymous" : exchange->principal.name;
    // Another token's submission is as good as absent.
    if (!*found || (*found)->owner != owner) {
        exchange->respond(interpreter_error({HttpStatus::not_found, "not_found", "no submission " + id, {}}));
        return;
    }
    const Submission& s = **found;
    ordered_json body;
    body["submission_id"] = s.id;
    body["language"] = s.language;
    body["code"] = s.code;
    body["stdin"] = s.stdin_data;
    body["status"] = s.status;
    body["output"] = s.output;
    body["time"] = s.time_s;
    body["memory"] = s.memory_kb;
    body["exit_code"] = s.exit_code;
    body["created_at"] = s.created_at;
    exchange->respond(ordered(HttpStatus::ok, body));
}

json program_schema() {
    json props = {{"code", {{"type", "string"}}},
                  {"language", {{"type", "string"}, {"default", "python"}}},
                  {"stdin", {{"type", "string"}}}};
    return {{"type", "object"}, {"properties", props}, {"required", {"code"}}};
}

json outcome_schema(bool with_id) {
    json props = {{"output", {{"type", "string"}}},
                  {"time", {{"type", "number"}, {"description", "wall-clock seconds"}}},
                  {"memory", {{"type", "integer"}, {"description", "peak memory, KiB"}}},
                  {"exit_code", {{"type", "integer"}, {"description", "128 + N when killed by signal N"}}}};
    if (with_id) props["submission_id"] = {{"type", "string"}};
    return {{"type", "object"}, {"properties", props}};
}

}  // namespace

void add_submissions_api(Router& router, Services& services) {
    Services* svc = &services;
    router.add(verb::post, "/execute", Access::token, interpreter_error,
               [svc](const std::shared_ptr<Exchange>& ex) { execute(*svc, ex); },
               OpDoc("interpreter", "Run code: {code} -> {output, time, memory, exit_code}; with user_uuid, in "
                                    "that user's stateful interpreter -> {result_text, result_base64}")
                   .describe("Without user_uuid: a one-shot run. With user_uuid: the stateful interpreter; each "
                             "user_uuid of a token has a session of its own (per language), opened on first use and "
                             "replaced when it was reaped; result_text says when the state was lost.")
                   .json_body({{"oneOf", json::array({program_schema(), interpreter_execute_schema()})}})
                   .json_response(200, "the outcome (one-shot) or the call's result (user_uuid)",
                                  {{"oneOf", json::array({outcome_schema(false), interpreter_result_schema()})}})
                   .json_response(400, "not JSON; unknown language", {{"type", "object"}})
                   .json_response(413, "the code is larger than sandboxd takes in one request", {{"type", "object"}})
                   .json_response(422, "code or user_uuid missing or mistyped; a timeout above the policy's",
                                  {{"type", "object"}})
                   .json_response(429, "too_many_sessions: a new user_uuid would pass the client's session cap; the token's "
                                       "rate or concurrency limit (Retry-After)",
                                  {{"type", "object"}})
                   .json_response(503, "sandboxd busy or unreachable; the sessions' memory budget is spent",
                                  {{"type", "object"}}));
    router.add(verb::post, "/submit", Access::token, interpreter_error,
               [svc](const std::shared_ptr<Exchange>& ex) { submit(*svc, ex); },
               OpDoc("interpreter", "Run code and store code and result")
                   .json_body(program_schema())
                   .json_response(200, "the outcome and the stored submission's id", outcome_schema(true)));
    router.add(verb::get, "/submissions/{id}", Access::token, interpreter_error,
               [svc](const std::shared_ptr<Exchange>& ex) { get_submission(*svc, ex); },
               OpDoc("interpreter", "A stored submission")
                   .path_param("id", "the submission_id /submit returned")
                   .json_response(200, "code, input and result",
                                  {{"type", "object"},
                                   {"properties",
                                    {{"submission_id", {{"type", "string"}}},
                                     {"language", {{"type", "string"}}},
                                     {"code", {{"type", "string"}}},
                                     {"stdin", {{"type", "string"}}},
                                     {"status", {{"type", "string"}}},
                                     {"output", {{"type", "string"}}},
                                     {"time", {{"type", "number"}}},
                                     {"memory", {{"type", "integer"}}},
                                     {"exit_code", {{"type", "integer"}}},
                                     {"created_at", {{"type", "string"}}}}}})
                   .json_response(404, "no such submission for this token", {{"type", "object"}}));
}

}  // namespace sbx::http
