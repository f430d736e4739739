// Piston v2 (engineer-man/piston), on its paths with its field names, units and shapes:
//   POST /api/v2/execute   {language, version, files[{name?, content, encoding?}], stdin?, args?,
//                           compile_timeout?, run_timeout? (ms), compile_cpu_time?, run_cpu_time? (ms),
//                           compile_memory_limit?, run_memory_limit? (bytes)}
//                          -> {compile?, run: {signal, stdout, stderr, code, output, memory, message,
//                              status, cpu_time, wall_time}, language, version}
//   GET  /api/v2/runtimes  -> [{language, version, aliases}]
// Errors are {"message": ...} with Piston's own wording where it has one.
#pragma once

#include <nlohmann/json.hpp>

#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"
#include "protocol/messages.hpp"

namespace sbx::http {

void add_piston_api(Router& router, Services& services);

// One stage as Piston reports it (isolate's status letters: RE, SG, TO, OL, EL, XX).
nlohmann::ordered_json piston_stage(const protocol::ExecutionReport& report);

// Whether a Piston version selector ("3.10.0", "3", "3.x", "*") accepts a version.
bool piston_version_matches(const std::string& selector, const std::string& version);

}  // namespace sbx::http
