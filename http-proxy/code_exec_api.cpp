#include "http-proxy/code_exec_api.hpp"

#include <sstream>

#include "http-proxy/compat_support.hpp"
#include "http-proxy/daemon_call.hpp"
#include "http-proxy/json_body.hpp"
#include "http-proxy/openapi.hpp"
#include "protocol/json_codec.hpp"

namespace sbx::http {

using nlohmann::json;
using beast_http::verb;

namespace {

// What the original answers on a bad request, with our status code and the reason.
Response exec_error(const HttpError& e) {
    Response response = text_response(e.status, "1\n" + e.message);
    add_error_headers(response, e);
    return response;
}

Response coverage_error(const HttpError& e) {
    Response response = text_response(e.status, "-1");
    response.set("X-Sandbox-Error", e.message);
    add_error_headers(response, e);
    return response;
}

struct ExecInput {
    std::string code;
    double timeout = 0;  // seconds; 0: the policy's default
    std::string stdin_data;
    std::string lang;
    bool json_resp = false;
};

// The original's JsonInput: code (string), timeout (seconds), stdin, lang, json_resp, testhash.
std::optional<ExecInput> read_input(const std::shared_ptr<Exchange>& exchange, const std::string& body,
                                    Response (*render)(const HttpError&)) {
    auto parsed = parse_json_object(body);
    if (auto* error = std::get_if<HttpError>(&parsed)) {
        HttpError e = *error;
        e.message = "Invalid JSON input: " + e.message;
        exchange->respond(render(e));
        return std::nullopt;
    }
    const json& j = std::get<json>(parsed);
    FieldReader f(j);
    ExecInput in;
    auto code = f.string("code", true);
    auto timeout = f.number("timeout");
    auto stdin_data = f.string("stdin");
    auto lang = f.string("lang");
    auto json_resp = f.boolean("json_resp");
    if (!f.ok()) {
        HttpError e = *f.error();
        e.message = "Invalid JSON input: " + e.message;
        exchange->respond(render(e));
        return std::nullopt;
    }
    if (j.contains("testhash") && !j["testhash"].is_null()) {
        exchange->respond(render(HttpError::unprocessable(
            "Testhash is not supported: test banks are not fetched from the Hugging Face hub; append the tests to code")));
        return std::nullopt;
    }
    if (timeout && *timeout < 0) {
        exchange->respond(render(HttpError::unprocessable("Invalid JSON input: timeout must not be negative")));
        return std::nullopt;
    }
    in.code = std::move(*code);
    in.timeout = timeout.value_or(0);
    in.stdin_data = stdin_data.value_or("");
    in.lang = lang.value_or("py");
    in.json_resp = json_resp.value_or(false);
    return in;
}

// The client's timeout is fitted to the policy's maximum: make sure the policy list is known.
template <class Run>
void with_input(Services& services, const std::shared_ptr<Exchange>& exchange, Response (*render)(const HttpError&),
                Run run) {
    auto in = read_input(exchange, exchange->body(), render);
    if (!in) return;
    Services* svc = &services;
    services.daemon.with_policies([svc, exchange, input = std::move(*in), run]() mutable {
        if (!exchange->aborted()) run(*svc, exchange, std::move(input));
    });
}

void py_exec(Services& services, const std::shared_ptr<Exchange>& exchange, ExecInput in) {
    protocol::RunRequest request;
    request.language = "python";
    request.source = std::move(in.code);
    request.stdin_data = std::move(in.stdin_data);
    apply_client_timeout(services.daemon, request.policy, in.timeout, request.limits);
    bool json_resp = in.json_resp;
    run_job(services, exchange, std::move(request), [exchange, json_resp](RunOutcome outcome) {
        if (!outcome.result) {
            exchange->respond(exec_error(outcome.error));
            return;
        }
        const auto& run = outcome.result->run;
        int status = run.status == "ok" ? 0 : 1;
        std::string output = status == 0 ? run.stdout_data : run.status == "time_limit" ? "Timeout" : run.stderr_data;
        if (json_resp)
            exchange->respond(text_response(HttpStatus::ok, protocol::dump(json{{"status", status}, {"output", output}})));
        else
            exchange->respond(text_response(HttpStatus::ok, std::to_string(status) + "\n" + output));
    });
}

// The MultiPL-E evaluator's verdict for a finished job.
std::string evaluator_json(const protocol::RunResult& result) {
    const protocol::ExecutionReport& stage = final_stage(result);
    std::string status;
    int exit_code = stage.signal != 0 ? -stage.signal : stage.exit_code;
    if (result.run.status == "compile_error") {
        status = "SyntaxError";
    } else if (stage.status == "time_limit") {
        status = "Timeout";
        exit_code = -1;
    } else if (stage.status == "ok") {
        status = "OK";
    } else if (stage.stderr_data.find("SyntaxError") != std::string::npos) {
        status = "SyntaxError";
    } else {
        status = "Exception";
    }
    // json.dumps of {"status", "exit_code", "stdout", "stderr"} in that order, printed with a newline.
    return "{\"status\": " + python_json_string(status) + ", \"exit_code\": " + std::to_string(exit_code) +
           ", \"stdout\": " + python_json_string(stage.stdout_data) +
           ", \"stderr\": " + python_json_string(stage.stderr_data) + "}\n";
}

void any_exec(Services& services, const std::shared_ptr<Exchange>& exchange, ExecInput in) {
    protocol::RunRequest request;
    request.language = multiple_language(in.lang);
    request.source = std::move(in.code);
    apply_client_timeout(services.daemon, request.policy, in.timeout, request.limits);
    // Compiling is not the program's time: it gets the policy's own compile limits.
    run_job(services, exchange, std::move(request), [exchange](RunOutcome outcome) {
        if (!outcome.result) {
            exchange->respond(exec_error(outcome.error));
            return;
        }
        exchange->respond(text_response(HttpStatus::ok, "0\n" + evaluator_json(*outcome.result)));
    });
}

// coverage.py's report: the line after the first dashes, "main.py  <stmts>  <miss>  <cover>%".
int parse_coverage_report(const std::string& report) {
    std::istringstream lines(report);
    std::string line;
    bool next_is_coverage = false;
    while (std::getline(lines, line)) {
        if (next_is_coverage) {
            std::istringstream words(line);
            std::string word;
            for (int i = 0; i < 4; ++i)
                if (!(words >> word)) return -1;
            while (!word.empty() && word.back() == '%') word.pop_back();
            try {
                size_t used = 0;
                int percent = std::stoi(word, &used);
                return used == word.size() ? percent : -1;
            } catch (const std::exception&) {
                return -1;
            }
        }
        if (line.rfind("---------", 0) == 0) next_is_coverage = true;
    }
    return -1;
}

void py_coverage(Services& services, const std::shared_ptr<Exchange>& exchange, ExecInput in) {
    protocol::RunRequest request;
    request.files.push_back({"main.py", std::move(in.code), false});
    // The program's output is not wanted, only whether it succeeded and the report.
    request.argv = {"/bin/sh", "-c",
                    "/usr/bin/python3 -m coverage run main.py > /dev/null 2>&1 < /dev/null || exit 3; "
                    "exec /usr/bin/python3 -m coverage report"};
    apply_client_timeout(services.daemon, request.policy, in.timeout, request.limits);
    run_job(services, exchange, std::move(request), [exchange](RunOutcome outcome) {
        if (!outcome.result) {
            exchange->respond(coverage_error(outcome.error));
            return;
        }
        int coverage = outcome.result->run.status == "ok" ? parse_coverage_report(outcome.result->run.stdout_data) : -1;
        exchange->respond(text_response(HttpStatus::ok, "{\"coverage\":" + std::to_string(coverage) + "}"));
    });
}

json exec_body_schema(bool with_lang) {
    json props = {{"code", {{"type", "string"}}},
                  {"timeout", {{"type", "number"}, {"description", "seconds; lowered to the policy's maximum"}}},
                  {"stdin", {{"type", "string"}}},
                  {"json_resp", {{"type", "boolean"}}}};
    if (with_lang)
        props["lang"] = {{"type", "string"}, {"description", "MultiPL-E language name: py, js, ts, cpp, java, ..."}};
    return {{"type", "object"}, {"properties", props}, {"required", {"code"}}};
}

}  // namespace

std::string multiple_language(const std::string& lang) {
    if (lang == "dlang" || lang == "humaneval_to_dlang.py") return "d";
    if (lang == "humaneval_to_r.py") return "r";
    if (lang == "notypes.py") return "python";
    if (lang == "go_test.go") return "go";
    return lang;
}

void add_code_exec_api(Router& router, Services& services) {
    Services* svc = &services;
    router.add(verb::post, "/py_exec", Access::token, exec_error,
               [svc](const std::shared_ptr<Exchange>& ex) { with_input(*svc, ex, exec_error, py_exec); },
               OpDoc("multipl-e", "Run Python (MultiPL-E style server)")
                   .describe("Answers \"0\\n<stdout>\" when the program exits 0, \"1\\n<stderr>\" otherwise, "
                             "\"1\\nTimeout\" after the timeout; with json_resp {\"status\":0|1,\"output\":...}.")
                   .json_body(exec_body_schema(false))
                   .text_response(200, "the outcome line and the output")
                   .text_response(400, "\"1\\nInvalid JSON input: ...\"")
                   .text_response(422, "\"1\\nInvalid JSON input: ...\" (a field of the wrong type)")
                   .text_response(503, "\"1\\n...\": sandboxd is busy or unreachable; see Retry-After"));
    router.add(verb::post, "/any_exec", Access::token, exec_error,
               [svc](const std::shared_ptr<Exchange>& ex) { with_input(*svc, ex, exec_error, any_exec); },
               OpDoc("multipl-e", "Run a program in a MultiPL-E language")
                   .describe("Answers \"0\\n\" and the MultiPL-E evaluator's JSON: {\"status\": \"OK\"|\"Exception\"|"
                             "\"SyntaxError\"|\"Timeout\", \"exit_code\", \"stdout\", \"stderr\"}.")
                   .json_body(exec_body_schema(true))
                   .text_response(200, "\"0\\n\" and the evaluator's JSON line")
                   .text_response(400, "\"1\\n...\": not JSON, or an unknown language")
                   .text_response(422, "\"1\\n...\": a field of the wrong type"));
    router.add(verb::post, "/py_coverage", Access::token, coverage_error,
               [svc](const std::shared_ptr<Exchange>& ex) { with_input(*svc, ex, coverage_error, py_coverage); },
               OpDoc("multipl-e", "Line coverage of a Python program (coverage.py)")
                   .json_body(exec_body_schema(false))
                   .text_response(200, "{\"coverage\": <percent>}, -1 when the program failed"));
    router.add(verb::get, "/health", Access::open, exec_error,
               [svc](const std::shared_ptr<Exchange>& ex) {
                   if (svc->daemon.open_connections() > 0)
                       ex->respond(text_response(HttpStatus::ok, "OK"));
                   else
                       ex->respond(text_response(HttpStatus::service_unavailable, "sandboxd is not reachable"));
               },
               OpDoc("multipl-e", "Liveness (MultiPL-E style server)")
                   .text_response(200, "\"OK\"")
                   .text_response(503, "sandboxd is not reachable"));
}

}  // namespace sbx::http
