// Reading JSON request bodies with errors that name the field: a body that is not JSON (or not
// an object) is 400 malformed_json; a field of the wrong type or a missing required field is 422
// invalid_request ("files[1].content must be a string, got number").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "http-proxy/http_types.hpp"

namespace sbx::http {

// The body as a JSON object, or the 400 error saying where parsing stopped.
std::variant<nlohmann::json, HttpError> parse_json_object(const std::string& body);

// Typed access to one object's fields; the first problem is kept in error().
class FieldReader {
public:
    FieldReader(const nlohmann::json& object, std::string prefix = "");

    std::optional<std::string> string(const char* key, bool required = false);
    std::optional<double> number(const char* key, bool required = false);
    std::optional<std::int64_t> integer(const char* key, bool required = false);
    std::optional<bool> boolean(const char* key, bool required = false);
    const nlohmann::json* array(const char* key, bool required = false);
    const nlohmann::json* object(const char* key, bool required = false);

    bool ok() const { return !error_; }
    const std::optional<HttpError>& error() const { return error_; }
    std::string name(const char* key) const { return prefix_ + key; }

private:
    const nlohmann::json* find(const char* key, bool required);
    void wrong_type(const char* key, const char* expected, const nlohmann::json& value);

    const nlohmann::json& object_;
    std::string prefix_;
    std::optional<HttpError> error_;
};

// JSON text as Python's json.dumps writes it with its defaults (", " and ": " separators,
// non-ASCII as \uXXXX escapes): for APIs whose originals are Python programs printing JSON.
std::string python_json_string(std::string_view utf8);

}  // namespace sbx::http
