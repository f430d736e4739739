// The protocol's messages as JSON, with the same field names as on the wire: for
// `sandboxctl --json` and for sandbox-http's native API. Bytes become JSON strings (invalid
// UTF-8 is replaced by U+FFFD when dumped).
#pragma once

#include <nlohmann/json.hpp>

#include "protocol/messages.hpp"

namespace sbx::protocol {

nlohmann::json to_json(const ExecutionReport& report);
nlohmann::json to_json(const RunResult& result);
nlohmann::json to_json(const StatusResult& result);
nlohmann::json to_json(const PoliciesResult& result);
nlohmann::json to_json(const LanguagesResult& result);
nlohmann::json to_json(const StatsResult& result);
nlohmann::json to_json(const ReloadResult& result);
nlohmann::json to_json(const CancelResult& result);
nlohmann::json to_json(const Event& event);
// Session results; images carry their bytes as `data_base64`.
nlohmann::json to_json(const SessionInfo& info);
nlohmann::json to_json(const SessionExecResult& result);
nlohmann::json to_json(const SessionCloseResult& result);
nlohmann::json to_json(const SessionListResult& result);
nlohmann::json limits_to_json(const policy::LimitBounds& bounds);

// A run request from JSON (the fields of the protocol's `run`); errors name the field:
// invalid_request for bad values, malformed_frame for wrong types.
Decoded<RunRequest> run_request_from_json(const nlohmann::json& json);
// session.open and session.exec from JSON (sandbox-http's native API); the owner and the
// session id come from elsewhere (the token, the URL).
Decoded<SessionOpenRequest> session_open_from_json(const nlohmann::json& json);
Decoded<SessionExecRequest> session_exec_from_json(const nlohmann::json& json);
Decoded<policy::LimitRequest> limits_from_json(const nlohmann::json& json, const std::string& where);

// Dumps with invalid UTF-8 replaced, never throwing.
std::string dump(const nlohmann::json& json, int indent = -1);

}  // namespace sbx::protocol
