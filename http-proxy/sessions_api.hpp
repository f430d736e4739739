// The routes of stateful sessions, served by the session back end (session_backend.hpp):
//   POST   /v1/sessions            {language, policy?, limits?, idle_timeout?, max_lifetime?, env?} -> 201 session
//   GET    /v1/sessions            this client's sessions, and sandboxd's totals
//   GET    /v1/sessions/{id}       one of them
//   POST   /v1/sessions/{id}/exec  {code, limits?} -> the call's result (output, value, error, images, state_lost)
//   DELETE /v1/sessions/{id}       close it
//   POST   /release                {user_uuid} closes the interpreter user's sessions
//   GET    /status                 this client's interpreter users and session counts
// (POST /execute with user_uuid is routed by the submissions API, which owns /execute.)
#pragma once

#include <nlohmann/json.hpp>

#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"

namespace sbx::http {

void add_sessions_api(Router& router, Services& services);

// The OpenAPI schemas of the interpreter API's /execute with user_uuid (for the submissions API's
// document of /execute).
nlohmann::json interpreter_execute_schema();
nlohmann::json interpreter_result_schema();

}  // namespace sbx::http
