// The execute/submit API of interpreter-style services:
//   POST /execute              {code, language?, stdin?} -> {output, time, memory, exit_code}
//                              (with "user_uuid": the stateful interpreter, see session_backend.hpp)
//   POST /submit               the same, stored in SQLite -> {submission_id, output, time, memory, exit_code}
//   GET  /submissions/{id}     a stored submission (only its owner's token sees it)
// (POST /release and GET /status of the stateful interpreter are in sessions_api.hpp.)
// time is in seconds, memory in KiB (peak), output is stdout followed by stderr.
#pragma once

#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"

namespace sbx::http {

void add_submissions_api(Router& router, Services& services);

}  // namespace sbx::http
