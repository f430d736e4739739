#include "http-proxy/sessions_api.hpp"

#include "http-proxy/openapi.hpp"
#include "http-proxy/session_backend.hpp"

namespace sbx::http {

using nlohmann::json;
using beast_http::verb;

namespace {

const json kString = {{"type", "string"}};

Response interpreter_error(const HttpError& e) {
    Response response = json_response(e.status, {{"error", e.message}, {"code", e.code}});
    add_error_headers(response, e);
    return response;
}

json interpreter_error_schema() {
    return {{"type", "object"}, {"properties", {{"error", kString}, {"code", kString}}}};
}

}  // namespace

json interpreter_execute_schema() {
    return {{"type", "object"},
            {"properties",
             {{"user_uuid",
               {{"type", "string"},
                {"description", "the interpreter user: 1 to 128 printable ASCII characters; each has a session of "
                                "its own per language, opened on first use"}}},
              {"code", kString},
              {"language", {{"type", "string"}, {"default", "python"}, {"enum", {"python", "javascript", "bash"}}}},
              {"timeout",
               {{"type", "number"},
                {"description", "the call's wall-clock limit, seconds (default: the policy's); a call that passes it "
                                "ends the interpreter and loses the state"}}}}},
            {"required", {"user_uuid", "code"}}};
}

json interpreter_result_schema() {
    return {{"type", "object"},
            {"properties",
             {{"result_text",
               {{"type", "string"},
                {"description", "stdout, stderr, the traceback of an exception, the final expression's value; a "
                                "line in [brackets] when the call hit a limit or the state was lost"}}},
              {"result_base64",
               {{"type", "string"}, {"description", "the first figure as base64 PNG, \"\" when there is none"}}},
              {"images_base64", {{"type", "array"}, {"items", kString}, {"description", "every figure, in order"}}},
              {"status", {{"type", "string"}, {"description", "sandboxd's status of the call (ok, runtime_error, "
                                                              "time_limit, memory_limit, ...)"}}},
              {"state_lost",
               {{"type", "boolean"}, {"description", "the variables of earlier calls are gone (a new interpreter)"}}}}}};
}

void add_sessions_api(Router& router, Services& services) {
    SessionBackend* sessions = &services.sessions;
    auto native = [](const HttpError& e) { return native_error(e); };
    const json error = schema_ref("Error");
    auto bind = [sessions](void (SessionBackend::*method)(const std::shared_ptr<Exchange>&)) {
        return [sessions, method](const std::shared_ptr<Exchange>& ex) { (sessions->*method)(ex); };
    };

    router.add(verb::post, "/v1/sessions", Access::token, native, bind(&SessionBackend::open),
               OpDoc("sessions", "Open a stateful session (the protocol's session.open as JSON)")
                   .describe("A long-lived jail holding an interpreter that keeps its state between calls "
                             "(docs/sessions.md). The session belongs to this token: no other token can see, call "
                             "or close it.")
                   .json_body(schema_ref("SessionOpenRequest"))
                   .json_response(201, "the session (Location: /v1/sessions/{id})", schema_ref("Session"))
                   .json_response(400, "not JSON; unknown language or policy", error)
                   .json_response(422, "language missing, no session driver for it, a field mistyped, a limit "
                                       "above the policy's",
                                  error)
                   .json_response(429, "too_many_sessions: this client's or sandboxd's cap on open sessions; the token's "
                                       "rate or concurrency limit (Retry-After)",
                                  error)
                   .json_response(503, "session_memory_exhausted (the sessions' memory budget), or sandboxd is "
                                       "unreachable; see Retry-After",
                                  error));
    router.add(verb::get, "/v1/sessions", Access::token, native, bind(&SessionBackend::list),
               OpDoc("sessions", "This client's open sessions, and sandboxd's session totals")
                   .json_response(200, "the sessions", schema_ref("SessionList")));
    router.add(verb::get, "/v1/sessions/{id}", Access::token, native, bind(&SessionBackend::get),
               OpDoc("sessions", "One session's state")
                   .path_param("id", "the session id")
                   .json_response(200, "the session", schema_ref("Session"))
                   .json_response(404, "no such session of this client", error));
    router.add(verb::post, "/v1/sessions/{id}/exec", Access::token, native, bind(&SessionBackend::exec),
               OpDoc("sessions", "Run code in a session (the protocol's session.exec as JSON)")
                   .describe("Calls of one session run one at a time, in order. A call that passes its time limit, "
                             "or an interpreter that crashes, is replaced by a fresh one: the result has "
                             "state_lost true.")
                   .path_param("id", "the session id")
                   .json_body(schema_ref("SessionExecRequest"))
                   .json_response(200, "the call's result, whatever its status", schema_ref("SessionExecResult"))
                   .json_response(404, "no such session of this client (closed, reaped, or another token's)", error)
                   .json_response(413, "the code is larger than sandboxd takes in one request", error)
                   .json_response(422, "code missing; a limit other than wall_time_limit, cpu_time_limit, "
                                       "output_limit, or above the policy's",
                                  error)
                   .json_response(503, "16 calls already wait for this session (busy); sandboxd unreachable", error));
    router.add(verb::delete_, "/v1/sessions/{id}", Access::token, native, bind(&SessionBackend::close),
               OpDoc("sessions", "Close a session")
                   .path_param("id", "the session id")
                   .json_response(200, "closed",
                                  {{"type", "object"}, {"properties", {{"closed", {{"type", "boolean"}}}}}})
                   .json_response(404, "no such session of this client", error));

    router.add(verb::post, "/release", Access::token, interpreter_error, bind(&SessionBackend::release),
               OpDoc("interpreter", "Release a stateful interpreter: close the sessions of a user_uuid")
                   .json_body({{"type", "object"}, {"properties", {{"user_uuid", kString}}}, {"required", {"user_uuid"}}})
                   .json_response(200, "closed",
                                  {{"type", "object"},
                                   {"properties", {{"status", kString}, {"sessions_closed", {{"type", "integer"}}}}}})
                   .json_response(400, "not JSON", interpreter_error_schema())
                   .json_response(404, "this user_uuid has no session", interpreter_error_schema())
                   .json_response(422, "user_uuid missing or not a string of 1 to 128 printable characters",
                                  interpreter_error_schema()));
    router.add(verb::get, "/status", Access::token, interpreter_error, bind(&SessionBackend::status),
               OpDoc("interpreter", "This client's stateful interpreters and session counts")
                   .json_response(
                       200, "the client's interpreter users and sandboxd's totals",
                       {{"type", "object"},
                        {"properties",
                         {{"status", kString},
                          {"users", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                          {"sessions", {{"type", "integer"}, {"description", "this client's open sessions"}}},
                          {"max_sessions", {{"type", "integer"}, {"description", "this client's cap; 0: none"}}},
                          {"sandboxd", {{"type", "object"}}}}}})
                   .json_response(503, "sandboxd is unreachable", interpreter_error_schema()));
}

}  // namespace sbx::http
