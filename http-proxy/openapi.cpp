#include "http-proxy/openapi.hpp"

namespace sbx::http {

using nlohmann::json;

json schema_ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

OpDoc::OpDoc(std::string tag, std::string summary) {
    op_["tags"] = json::array({std::move(tag)});
    op_["summary"] = std::move(summary);
    op_["responses"] = json::object();
}

OpDoc& OpDoc::describe(std::string text) {
    op_["description"] = std::move(text);
    return *this;
}

OpDoc& OpDoc::json_body(json schema, bool required) {
    op_["requestBody"] = {{"required", required}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
    return *this;
}

OpDoc& OpDoc::text_body(std::string description) {
    op_["requestBody"] = {{"required", true},
                          {"description", std::move(description)},
                          {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
    return *this;
}

OpDoc& OpDoc::path_param(std::string name, std::string description) {
    op_["parameters"].push_back({{"name", std::move(name)},
                                 {"in", "path"},
                                 {"required", true},
                                 {"description", std::move(description)},
                                 {"schema", {{"type", "string"}}}});
    return *this;
}

OpDoc& OpDoc::query_param(std::string name, std::string description, json schema) {
    op_["parameters"].push_back({{"name", std::move(name)},
                                 {"in", "query"},
                                 {"required", false},
                                 {"description", std::move(description)},
                                 {"schema", std::move(schema)}});
    return *this;
}

OpDoc& OpDoc::json_response(int status, std::string description, json schema) {
    op_["responses"][std::to_string(status)] = {
        {"description", std::move(description)}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
    return *this;
}

OpDoc& OpDoc::text_response(int status, std::string description) {
    op_["responses"][std::to_string(status)] = {
        {"description", std::move(description)}, {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
    return *this;
}

namespace {

json object_schema(json properties, json required = json::array()) {
    json s = {{"type", "object"}, {"properties", std::move(properties)}};
    if (!required.empty()) s["required"] = std::move(required);
    return s;
}

const json kString = {{"type", "string"}};
const json kBool = {{"type", "boolean"}};
const json kInt = {{"type", "integer"}};
const json kNumber = {{"type", "number"}};

json limits_schema() {
    json size = {{"oneOf", json::array({kInt, kString})}, {"description", "bytes, or a string with a unit: \"256MiB\""}};
    json duration = {{"oneOf", json::array({kNumber, kString})},
                     {"description", "seconds, or a string with a unit: \"2.5s\", \"500ms\""}};
    return object_schema({{"memory_limit", size},
                          {"pids_limit", kInt},
                          {"wall_time_limit", duration},
                          {"cpu_time_limit", duration},
                          {"cpu_cores", kNumber},
                          {"output_limit", size},
                          {"tmpfs_limit", size},
                          {"open_files_limit", kInt},
                          {"file_size_limit", size},
                          {"stack_limit", size}});
}

json report_properties() {
    return {{"status",
             {{"type", "string"},
              {"enum", {"ok", "runtime_error", "signaled", "time_limit", "memory_limit", "output_limit",
                        "compile_error", "rejected", "cancelled", "internal_error"}}}},
            {"exit_code", kInt},
            {"signal", kInt},
            {"wall_ms", kNumber},
            {"cpu_ms", kNumber},
            {"memory_peak_bytes", kInt},
            {"stdout", kString},
            {"stderr", kString},
            {"stdout_truncated", kBool},
            {"stderr_truncated", kBool},
            {"message", kString}};
}

json components() {
    json schemas;
    schemas["Limits"] = limits_schema();
    schemas["File"] = object_schema({{"name", kString}, {"content", kString}, {"executable", kBool}}, {"name"});
    schemas["TestCase"] = object_schema(
        {{"stdin", kString}, {"expected_output", kString}, {"limits", schema_ref("Limits")}});
    schemas["RunRequest"] = object_schema(
        {{"policy", kString},
         {"language", kString},
         {"argv", {{"type", "array"}, {"items", kString}}},
         {"source", kString},
         {"files", {{"type", "array"}, {"items", schema_ref("File")}}},
         {"args", {{"type", "array"}, {"items", kString}}},
         {"stdin", kString},
         {"env", {{"type", "object"}, {"additionalProperties", kString}}},
         {"limits", schema_ref("Limits")},
         {"compile_limits", schema_ref("Limits")},
         {"tests", {{"type", "array"}, {"items", schema_ref("TestCase")}}},
         {"compare", {{"type", "string"}, {"enum", {"exact", "trailing_whitespace", "tokens", "float"}}}},
         {"float_tolerance", kNumber},
         {"stop_on_failure", kBool}});
    schemas["ExecutionReport"] = object_schema(report_properties());
    json test_report = report_properties();
    test_report["verdict"] = {{"type", "string"},
                              {"enum", {"accepted", "wrong_answer", "time_limit", "memory_limit", "runtime_error",
                                        "output_limit", "skipped", "cancelled", "internal_error"}}};
    schemas["TestReport"] = object_schema(test_report);
    json run_result = report_properties();
    run_result["job_id"] = kString;
    run_result["policy"] = kString;
    run_result["language"] = kString;
    run_result["compile"] = schema_ref("ExecutionReport");
    run_result["tests"] = {{"type", "array"}, {"items", schema_ref("TestReport")}};
    run_result["passed"] = kInt;
    run_result["total"] = kInt;
    schemas["RunResult"] = object_schema(run_result);
    // Sessions (docs/sessions.md): the protocol's session.* requests and results.
    json duration = {{"oneOf", json::array({kNumber, kString})}, {"description", "seconds, or \"10m\", \"1h\""}};
    schemas["SessionOpenRequest"] = object_schema(
        {{"language", {{"type", "string"}, {"description", "a language with a session driver: python, javascript, bash"}}},
         {"policy", kString},
         {"limits", schema_ref("Limits")},
         {"idle_timeout", duration},
         {"max_lifetime", duration},
         {"env", {{"type", "object"}, {"additionalProperties", kString}}}},
        {"language"});
    schemas["Session"] = object_schema({{"session_id", kString},
                                        {"policy", kString},
                                        {"language", kString},
                                        {"state", {{"type", "string"}, {"enum", {"starting", "idle", "busy"}}}},
                                        {"age_s", kNumber},
                                        {"idle_s", kNumber},
                                        {"idle_timeout_s", kNumber},
                                        {"max_lifetime_s", kNumber},
                                        {"calls", kInt},
                                        {"restarts", kInt},
                                        {"cpu_ms", kNumber},
                                        {"memory_peak_bytes", kInt},
                                        {"memory_limit_bytes", kInt}});
    schemas["SessionList"] = object_schema({{"sessions", {{"type", "array"}, {"items", schema_ref("Session")}}},
                                            {"open", kInt},
                                            {"max_sessions", kInt},
                                            {"max_sessions_per_client", kInt},
                                            {"memory_committed_bytes", kInt},
                                            {"memory_budget_bytes", kInt}});
    schemas["SessionExecRequest"] = object_schema(
        {{"code", kString},
         {"limits", object_schema({{"wall_time_limit", duration}, {"cpu_time_limit", duration},
                                   {"output_limit", {{"oneOf", json::array({kInt, kString})}}}})}},
        {"code"});
    json exec_result = report_properties();
    exec_result["session_id"] = kString;
    exec_result["value"] = {{"type", "string"}, {"nullable", true}, {"description", "the final expression, as Jupyter shows it"}};
    exec_result["error"] = object_schema({{"name", kString}, {"value", kString}, {"traceback", kString}});
    exec_result["error"]["nullable"] = true;
    exec_result["images"] = {{"type", "array"},
                             {"items", object_schema({{"mime", kString}, {"data_base64", kString}})}};
    exec_result["state_lost"] = kBool;
    exec_result["restarts"] = kInt;
    exec_result["execution_count"] = kInt;
    schemas["SessionExecResult"] = object_schema(exec_result);
    schemas["Error"] = object_schema(
        {{"error", object_schema({{"code", kString}, {"message", kString}}, {"code", "message"})}}, {"error"});
    schemas["Language"] = object_schema({{"name", kString},
                                         {"display_name", kString},
                                         {"aliases", {{"type", "array"}, {"items", kString}}},
                                         {"extensions", {{"type", "array"}, {"items", kString}}},
                                         {"compiled", kBool},
                                         {"version", kString},
                                         {"available", kBool},
                                         {"reason", kString}});
    json bound = object_schema({{"default", {}}, {"max", {}}});
    schemas["Policy"] = object_schema({{"name", kString},
                                       {"description", kString},
                                       {"network", {{"type", "string"}, {"enum", {"none", "egress"}}}},
                                       {"limits", {{"type", "object"}, {"additionalProperties", bound}}}});
    schemas["PistonStage"] = object_schema({{"signal", {{"type", "string"}, {"nullable", true}}},
                                            {"stdout", kString},
                                            {"stderr", kString},
                                            {"code", {{"type", "integer"}, {"nullable", true}}},
                                            {"output", kString},
                                            {"memory", {{"type", "integer"}, {"nullable", true}}},
                                            {"message", {{"type", "string"}, {"nullable", true}}},
                                            {"status", {{"type", "string"}, {"nullable", true}}},
                                            {"cpu_time", {{"type", "number"}, {"nullable", true}}},
                                            {"wall_time", {{"type", "number"}, {"nullable", true}}}});
    return {{"schemas", schemas},
            {"securitySchemes",
             {{"token", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Auth-Token"}}},
              {"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}};
}

}  // namespace

json build_openapi(const Router& router, const std::string& version) {
    json doc = {{"openapi", "3.0.3"},
                {"info",
                 {{"title", "sandbox-http"},
                  {"version", version},
                  {"description",
                   "The HTTP API of sandboxd: a native API under /v1/ and compatibility APIs for clients of other "
                   "code-execution servers. docs/http-api.md is the full reference."}}},
                {"components", components()}};
    json paths = json::object();
    for (const auto& route : router.routes()) {
        json op = route->doc;
        if (route->access == Access::token) {
            op["security"] = json::array({{{"token", json::array()}}, {{"bearer", json::array()}}});
            op["responses"]["401"] = {{"description", "no token, or an unknown one"}};
            if (!op["responses"].contains("429"))
                op["responses"]["429"] = {{"description", "the token's rate or concurrency limit; see Retry-After"}};
        }
        std::string method(beast_http::to_string(route->method));
        for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        paths[route->pattern][method] = std::move(op);
    }
    doc["paths"] = std::move(paths);
    return doc;
}

}  // namespace sbx::http
