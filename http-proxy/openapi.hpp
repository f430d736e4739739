// The OpenAPI 3 description served at /openapi.json: built from the router's routes (each
// carries its operation object, written next to its handler) and the shared schemas below, so
// that the document always lists exactly the routes that exist.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "http-proxy/router.hpp"

namespace sbx::http {

// A reference to a schema in components/schemas.
nlohmann::json schema_ref(const std::string& name);

// Builds an operation object.
class OpDoc {
public:
    OpDoc(std::string tag, std::string summary);
    OpDoc& describe(std::string text);
    OpDoc& json_body(nlohmann::json schema, bool required = true);
    OpDoc& text_body(std::string description);
    OpDoc& path_param(std::string name, std::string description);
    OpDoc& query_param(std::string name, std::string description, nlohmann::json schema);
    OpDoc& json_response(int status, std::string description, nlohmann::json schema);
    OpDoc& text_response(int status, std::string description);
    operator nlohmann::json() const { return op_; }  // NOLINT(google-explicit-constructor)

private:
    nlohmann::json op_;
};

nlohmann::json build_openapi(const Router& router, const std::string& version);

}  // namespace sbx::http
