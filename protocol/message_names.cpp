// Names of request types and compare modes as they appear on the wire.
#include "protocol/messages.hpp"

namespace sbx::protocol {

std::string_view to_string(CompareMode mode) {
    switch (mode) {
        case CompareMode::exact: return "exact";
        case CompareMode::trailing_whitespace: return "trailing_whitespace";
        case CompareMode::tokens: return "tokens";
        case CompareMode::float_tolerance: return "float";
    }
    return "trailing_whitespace";
}

std::string_view type_name(const RequestBody& body) {
    struct Name {
        std::string_view operator()(const HelloRequest&) const { return "hello"; }
        std::string_view operator()(const RunRequest&) const { return "run"; }
        std::string_view operator()(const CancelRequest&) const { return "cancel"; }
        std::string_view operator()(const StatusRequest&) const { return "status"; }
        std::string_view operator()(const PoliciesRequest&) const { return "policies"; }
        std::string_view operator()(const LanguagesRequest&) const { return "languages"; }
        std::string_view operator()(const StatsRequest&) const { return "stats"; }
        std::string_view operator()(const ReloadRequest&) const { return "reload"; }
        std::string_view operator()(const SessionOpenRequest&) const { return "session.open"; }
        std::string_view operator()(const SessionExecRequest&) const { return "session.exec"; }
        std::string_view operator()(const SessionCloseRequest&) const { return "session.close"; }
        std::string_view operator()(const SessionListRequest&) const { return "session.list"; }
    };
    return std::visit(Name{}, body);
}

}  // namespace sbx::protocol
