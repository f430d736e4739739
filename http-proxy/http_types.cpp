#include "http-proxy/http_types.hpp"

#include "protocol/json_codec.hpp"

namespace sbx::http {

Response make_response(HttpStatus status, std::string body, const char* content_type) {
    Response response{status, 11};
    response.set(beast_http::field::content_type, content_type);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

Response json_response(HttpStatus status, const nlohmann::json& body) {
    return make_response(status, protocol::dump(body), "application/json");
}

Response text_response(HttpStatus status, std::string body) {
    return make_response(status, std::move(body), "text/plain; charset=utf-8");
}

void add_error_headers(Response& response, const HttpError& error) {
    if (error.retry_after_s) response.set(beast_http::field::retry_after, std::to_string(*error.retry_after_s));
    if (error.status == HttpStatus::unauthorized)
        response.set(beast_http::field::www_authenticate, "Bearer realm=\"sandbox-http\"");
}

Response native_error(const HttpError& error) {
    Response response = json_response(error.status, {{"error", {{"code", error.code}, {"message", error.message}}}});
    add_error_headers(response, error);
    return response;
}

}  // namespace sbx::http
