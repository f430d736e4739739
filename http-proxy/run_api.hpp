// POST /run: the smallest API, {code} -> {stdout, finished, time: "N ms"}, for "run" buttons.
// Optional fields: language (default python), stdin.
#pragma once

#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"

namespace sbx::http {

void add_run_api(Router& router, Services& services);

}  // namespace sbx::http
