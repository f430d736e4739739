// The MultiPL-E style execution server (cassanof/code_exec_server, used by MultiPL-E and RL
// training pipelines), on the same paths with the same request and response bodies:
//   POST /py_exec      {code, timeout, stdin?, json_resp?} -> "0\n<stdout>" | "1\n<stderr>" | "1\nTimeout",
//                      or with json_resp {"status": 0|1, "output": ...}
//   POST /any_exec     {code, lang, timeout} -> "0\n" + the MultiPL-E evaluator's JSON
//                      {"status": "OK"|"Exception"|"SyntaxError"|"Timeout", "exit_code", "stdout", "stderr"}
//   POST /py_coverage  {code, timeout} -> {"coverage": percent} (-1 when the program fails)
//   GET  /health       -> "OK"
// All answers are text/plain, as the original's are.
#pragma once

#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"

namespace sbx::http {

void add_code_exec_api(Router& router, Services& services);

// MultiPL-E's names that are not language names or aliases of sandboxd ("dlang" -> "d").
std::string multiple_language(const std::string& lang);

}  // namespace sbx::http
