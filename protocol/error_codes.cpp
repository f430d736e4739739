// The stable names of error codes on the wire.
#include <array>

#include "protocol/messages.hpp"

namespace sbx::protocol {
namespace {

struct CodeName {
    ErrorCode code;
    std::string_view name;
};

constexpr std::array<CodeName, 18> kCodeNames{{
    {ErrorCode::malformed_frame, "malformed_frame"},
    {ErrorCode::frame_too_large, "frame_too_large"},
    {ErrorCode::unknown_type, "unknown_type"},
    {ErrorCode::unsupported_version, "unsupported_version"},
    {ErrorCode::invalid_request, "invalid_request"},
    {ErrorCode::unknown_policy, "unknown_policy"},
    {ErrorCode::unknown_language, "unknown_language"},
    {ErrorCode::language_unavailable, "language_unavailable"},
    {ErrorCode::forbidden, "forbidden"},
    {ErrorCode::limit_exceeded, "limit_exceeded"},
    {ErrorCode::busy, "busy"},
    {ErrorCode::duplicate_id, "duplicate_id"},
    {ErrorCode::not_found, "not_found"},
    {ErrorCode::shutting_down, "shutting_down"},
    {ErrorCode::reload_failed, "reload_failed"},
    {ErrorCode::internal_error, "internal_error"},
    {ErrorCode::too_many_sessions, "too_many_sessions"},
    {ErrorCode::session_memory_exhausted, "session_memory_exhausted"},
}};

}  // namespace

std::string_view to_string(ErrorCode code) {
    for (const CodeName& entry : kCodeNames) {
        if (entry.code == code) return entry.name;
    }
    return "internal_error";
}

std::optional<ErrorCode> error_code_from_string(std::string_view name) {
    for (const CodeName& entry : kCodeNames) {
        if (entry.name == name) return entry.code;
    }
    return std::nullopt;
}

bool closes_connection(ErrorCode code) {
    return code == ErrorCode::malformed_frame || code == ErrorCode::frame_too_large ||
           code == ErrorCode::unknown_type;
}

}  // namespace sbx::protocol
