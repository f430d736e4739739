// The HTTP vocabulary every part of sandbox-http shares: Beast's request and response types, the
// errors handlers produce (an HTTP status, a stable code, a sentence naming what is wrong), and
// helpers that build responses.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sbx::http {

namespace beast_http = boost::beast::http;
using HttpStatus = beast_http::status;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

// Why a request failed. Each API renders it in its own error shape (the native API as
// {"error":{"code","message"}}, Piston as {"message"}, ...).
struct HttpError {
    HttpStatus status = HttpStatus::internal_server_error;
    std::string code;     // stable, snake_case: "malformed_json", "invalid_request", "busy", ...
    std::string message;  // for people; names the field or object concerned
    std::optional<unsigned> retry_after_s;  // sent as Retry-After (429, 503)

    static HttpError bad_request(std::string code, std::string message) {
        return {HttpStatus::bad_request, std::move(code), std::move(message), {}};
    }
    static HttpError unprocessable(std::string message) {
        return {HttpStatus::unprocessable_entity, "invalid_request", std::move(message), {}};
    }
};

Response make_response(HttpStatus status, std::string body, const char* content_type);
Response json_response(HttpStatus status, const nlohmann::json& body);
Response text_response(HttpStatus status, std::string body);
// Adds Retry-After (and, for 401, WWW-Authenticate) as the error asks.
void add_error_headers(Response& response, const HttpError& error);
// {"error": {"code": ..., "message": ...}}: the native API's error shape.
Response native_error(const HttpError& error);

}  // namespace sbx::http
