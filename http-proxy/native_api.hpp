// The native API: the protocol's requests as JSON, with the protocol's field names
// (protocol/json_codec.hpp). POST /v1/run, GET /v1/languages, GET /v1/policies, GET /healthz,
// GET /metrics, GET /openapi.json. (The /v1/sessions routes are in sessions_api.hpp.)
#pragma once

#include "http-proxy/router.hpp"
#include "http-proxy/services.hpp"

namespace sbx::http {

void add_native_api(Router& router, Services& services);

}  // namespace sbx::http
