#include "http-proxy/judge_api.hpp"

#include <cmath>

#include "http-proxy/compat_support.hpp"
#include "http-proxy/daemon_call.hpp"
#include "http-proxy/json_body.hpp"
#include "http-proxy/openapi.hpp"

namespace sbx::http {

using nlohmann::json;
using nlohmann::ordered_json;
using beast_http::verb;

std::string judge_status(const std::string& s) {
    if (s == "ok" || s == "accepted") return "success";
    if (s == "wrong_answer") return "wrong_answer";
    if (s == "runtime_error" || s == "signaled") return "runtime_error";
    if (s == "time_limit") return "time_limit_exceeded";
    if (s == "memory_limit") return "memory_limit_exceeded";
    if (s == "output_limit") return "output_limit_exceeded";
    if (s == "compile_error") return "compilation_error";
    if (s == "skipped") return "skipped";
    if (s == "cancelled") return "cancelled";
    return "error";
}

namespace {

Response judge_error(const HttpError& e) {
    Response response = json_response(e.status, {{"status", "error"}, {"error", e.code}, {"message", e.message}});
    add_error_headers(response, e);
    return response;
}

void execute(Services& services, const std::shared_ptr<Exchange>& exchange) {
    auto parsed = parse_json_object(exchange->body());
    if (auto* error = std::get_if<HttpError>(&parsed)) {
        exchange->respond(judge_error(*error));
        return;
    }
    FieldReader f(std::get<json>(parsed));
    auto language = f.string("language", true);
    auto code = f.string("code", true);
    auto stdin_data = f.string("stdin");
    auto timeout = f.number("timeout");
    auto memory_mb = f.number("memory_limit");
    const json* cases = f.array("test_cases");
    if (!f.ok()) {
        exchange->respond(judge_error(*f.error()));
        return;
    }
    protocol::RunRequest request;
    request.language = std::move(*language);
    request.source = std::move(*code);
    request.stdin_data = stdin_data.value_or("");
    if (timeout) {
        if (!(*timeout > 0)) {
            exchange->respond(judge_error(HttpError::unprocessable("timeout must be a positive number of seconds")));
            return;
        }
        request.limits.wall_time = seconds_to_duration(*timeout);
    }
    if (memory_mb) {
        if (!(*memory_mb > 0)) {
            exchange->respond(judge_error(HttpError::unprocessable("memory_limit must be a positive number of MB")));
            return;
        }
        request.limits.memory_bytes = static_cast<std::uint64_t>(std::llround(*memory_mb * 1024 * 1024));
    }
    std::vector<std::pair<std::string, std::string>> cases_io;  // input, expected output
    if (cases != nullptr) {
        for (size_t i = 0; i < cases->size(); ++i) {
            const json& c = (*cases)[i];
            std::string where = "test_cases[" + std::to_string(i) + "]";
            if (!c.is_object()) {
                exchange->respond(judge_error(HttpError::unprocessable(where + " must be an object, got " + c.type_name())));
                return;
            }
            FieldReader cf(c, where + ".");
            auto input = cf.string("input");
            auto expected = cf.string("expected_output", true);
            if (!cf.ok()) {
                exchange->respond(judge_error(*cf.error()));
                return;
            }
            protocol::TestCase tc;
            tc.stdin_data = input.value_or("");
            tc.expected_output = std::move(*expected);
            cases_io.emplace_back(tc.stdin_data, tc.expected_output);
            request.tests.push_back(std::move(tc));
        }
    }
    bool with_tests = cases != nullptr;
    run_job(services, exchange, std::move(request), [exchange, with_tests, cases_io](RunOutcome outcome) {
        if (!outcome.result) {
            exchange->respond(judge_error(outcome.error));
            return;
        }
        const protocol::RunResult& r = *outcome.result;
        const protocol::ExecutionReport& stage = final_stage(r);
        ordered_json body;
        std::string status = judge_status(r.run.status);
        if (with_tests && r.run.status == "ok") {
            status = "success";
            for (const auto& t : r.tests)
                if (t.verdict != "accepted") {
                    status = judge_status(t.verdict);
                    break;
                }
        }
        body["status"] = status;
        body["stdout"] = stage.stdout_data;
        body["stderr"] = stage.stderr_data;
        body["exit_code"] = stage.exit_code;
        body["execution_time"] = r.run.wall_ms;
        body["memory_usage"] = r.run.memory_peak_bytes;
        if (r.compile) body["compile_output"] = r.compile->stdout_data + r.compile->stderr_data;
        if (with_tests) {
            ordered_json results = ordered_json::array();
            for (size_t i = 0; i < r.tests.size(); ++i) {
                const auto& t = r.tests[i];
                ordered_json one;
                one["test_case"] = i + 1;
                one["passed"] = t.verdict == "accepted";
                one["status"] = judge_status(t.verdict);
                one["input"] = i < cases_io.size() ? cases_io[i].first : std::string();
                one["expected_output"] = i < cases_io.size() ? cases_io[i].second : std::string();
                one["actual_output"] = t.run.stdout_data;
                one["stderr"] = t.run.stderr_data;
                one["execution_time"] = t.run.wall_ms;
                results.push_back(std::move(one));
            }
            body["test_results"] = std::move(results);
            body["passed"] = r.passed;
            body["total"] = r.total;
        }
        exchange->respond(make_response(HttpStatus::ok, body.dump(-1, ' ', false, ordered_json::error_handler_t::replace),
                                        "application/json"));
    });
}

}  // namespace

void add_judge_api(Router& router, Services& services) {
    Services* svc = &services;
    router.add(verb::post, "/api/v1/execute", Access::token, judge_error,
               [svc](const std::shared_ptr<Exchange>& ex) { execute(*svc, ex); },
               OpDoc("judge", "Run a program, optionally against test cases")
                   .json_body({{"type", "object"},
                               {"required", {"language", "code"}},
                               {"properties",
                                {{"language", {{"type", "string"}}},
                                 {"code", {{"type", "string"}}},
                                 {"stdin", {{"type", "string"}}},
                                 {"timeout", {{"type", "number"}, {"description", "seconds"}}},
                                 {"memory_limit", {{"type", "number"}, {"description", "MB"}}},
                                 {"test_cases",
                                  {{"type", "array"},
                                   {"items",
                                    {{"type", "object"},
                                     {"required", {"expected_output"}},
                                     {"properties",
                                      {{"input", {{"type", "string"}}},
                                       {"expected_output", {{"type", "string"}}}}}}}}}}}})
                   .json_response(200, "the outcome, with test_results when test_cases were given",
                                  {{"type", "object"}})
                   .json_response(400, "not JSON; unknown language", {{"type", "object"}})
                   .json_response(422, "a missing or mistyped field; a limit above the policy's", {{"type", "object"}})
                   .json_response(503, "sandboxd is busy or unreachable; see Retry-After", {{"type", "object"}}));
    router.add(verb::get, "/api/v1/languages", Access::token, judge_error,
               [svc](const std::shared_ptr<Exchange>& ex) {
                   query_daemon<protocol::LanguagesResult>(
                       *svc, protocol::LanguagesRequest{}, [ex](QueryOutcome<protocol::LanguagesResult> outcome) {
                           if (!outcome.result) {
                               ex->respond(judge_error(outcome.error));
                               return;
                           }
                           ordered_json list = ordered_json::array();
                           for (const auto& l : outcome.result->languages) {
                               if (!l.available) continue;
                               ordered_json one;
                               one["id"] = l.name;
                               one["name"] = l.display_name;
                               one["version"] = version_number(l.version);
                               one["aliases"] = l.aliases;
                               one["extensions"] = l.extensions;
                               one["compiled"] = l.compiled;
                               list.push_back(std::move(one));
                           }
                           ex->respond(make_response(HttpStatus::ok, list.dump(), "application/json"));
                       });
               },
               OpDoc("judge", "The languages that can run now")
                   .json_response(200, "[{id, name, version, aliases, extensions, compiled}]", {{"type", "array"}}));
    router.add(verb::get, "/api/v1/health", Access::open, judge_error,
               [svc](const std::shared_ptr<Exchange>& ex) {
                   query_daemon<protocol::StatusResult>(
                       *svc, protocol::StatusRequest{}, [ex](QueryOutcome<protocol::StatusResult> outcome) {
                           if (!outcome.result) {
                               ex->respond(json_response(HttpStatus::service_unavailable, {{"status", "unhealthy"},
                                                                                        {"sandboxd", "unreachable"},
                                                                                        {"message", outcome.error.message}}));
                               return;
                           }
                           ex->respond(json_response(HttpStatus::ok, {{"status", "healthy"},
                                                                  {"sandboxd", "connected"},
                                                                  {"running", outcome.result->running},
                                                                  {"queued", outcome.result->queued}}));
                       });
               },
               OpDoc("judge", "Health")
                   .json_response(200, "{status: healthy, sandboxd: connected, running, queued}", {{"type", "object"}})
                   .json_response(503, "{status: unhealthy, sandboxd: unreachable, message}", {{"type", "object"}}));
    router.add(verb::get, "/api/v1/metrics", Access::open, judge_error,
               [svc](const std::shared_ptr<Exchange>& ex) {
                   query_daemon<protocol::StatsResult>(
                       *svc, protocol::StatsRequest{}, [ex, svc](QueryOutcome<protocol::StatsResult> outcome) {
                           if (!outcome.result) {
                               ex->respond(judge_error(outcome.error));
                               return;
                           }
                           const auto& s = *outcome.result;
                           ex->respond(json_response(
                               HttpStatus::ok, {{"uptime_s", s.uptime_s},
                                            {"jobs_total", s.jobs_total},
                                            {"jobs_by_status", s.by_status},
                                            {"jobs_by_language", s.by_language},
                                            {"running", s.running},
                                            {"queued", s.queued},
                                            {"rejected_busy", s.rejected_busy},
                                            {"average_latency_ms", s.jobs_total ? s.latency_sum_ms / s.jobs_total : 0.0},
                                            {"http_requests_total", svc->metrics.requests_total()}}));
                       });
               },
               OpDoc("judge", "Counters as JSON").json_response(200, "job and request counters", {{"type", "object"}}));
}

}  // namespace sbx::http
