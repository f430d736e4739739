#include "http-proxy/session_backend.hpp"

namespace sbx::http {

namespace {

HttpError not_implemented() { return {HttpStatus::not_implemented, "sessions_unavailable", UnavailableSessions::kMessage, {}}; }

// The interpreter API's error shape: {"error": message}.
Response interpreter_error(const HttpError& error) {
    return json_response(error.status, {{"error", error.message}});
}

}  // namespace

void UnavailableSessions::execute(const std::shared_ptr<Exchange>& exchange, const nlohmann::json&) {
    exchange->respond(interpreter_error(not_implemented()));
}

void UnavailableSessions::release(const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(interpreter_error(not_implemented()));
}

void UnavailableSessions::status(const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(interpreter_error(not_implemented()));
}

void UnavailableSessions::native(const std::shared_ptr<Exchange>& exchange) {
    exchange->respond(native_error(not_implemented()));
}

}  // namespace sbx::http
