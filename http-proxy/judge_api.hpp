// The /api/v1/ execution API of judge-style services: one call runs a program against test
// cases and reports a verdict per case.
//   POST /api/v1/execute    {language, code, stdin?, timeout?, memory_limit?, test_cases?}
//   GET  /api/v1/languages  the available languages
//   GET  /api/v1/health     sandboxd reachable or not
//   GET  /api/v1/metrics    counters as JSON
// docs/http-api.md has the shapes.
#pragma once

#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"

namespace sbx::http {

void add_judge_api(Router& router, Services& services);

// The API's status word for a sandboxd status or verdict ("time_limit" -> "time_limit_exceeded").
std::string judge_status(const std::string& status_or_verdict);

}  // namespace sbx::http
