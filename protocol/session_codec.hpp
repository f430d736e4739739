// Internal to the protocol library: the session requests (session.open, session.exec,
// session.close, session.list) and their results on the wire, and the report fields that run
// results and session.exec results share.
#pragma once

#include <string>
#include <string_view>

#include "protocol/messages.hpp"
#include "protocol/msgpack_reader.hpp"
#include "protocol/msgpack_writer.hpp"

namespace sbx::protocol::detail {

// The fields of an ExecutionReport (status ... message), into a map the caller opened.
inline constexpr std::size_t kReportFields = 11;
void write_report_fields(Writer& w, const ExecutionReport& r);
ExecutionReport read_report_fields(const MapReader& m);

// Calls `each(MapReader)` for every map in the array at `key`.
template <class Each>
void for_each_map(const MapReader& m, std::string_view key, Each each) {
    const msgpack::object* v = m.find(key);
    if (v == nullptr) return;
    const std::string name = m.field(key);
    const auto& array = read_array(*v, name);
    for (std::uint32_t i = 0; i < array.size; ++i) each(MapReader(array.ptr[i], element_name(name, i)));
}

bool is_session_type(std::string_view type);
// Requests: the body of a session.* type (the envelope is read and written by the caller).
RequestBody read_session_request(std::string_view type, const MapReader& m);
// Writes the whole request map, envelope included; false when `request` is no session request.
bool write_session_request(Writer& w, const Request& request);

// Results.
void write_body(Writer& w, const SessionInfo& r);
void write_body(Writer& w, const SessionExecResult& r);
void write_body(Writer& w, const SessionCloseResult& r);
void write_body(Writer& w, const SessionListResult& r);
void read_body(const MapReader& m, SessionInfo& r);
void read_body(const MapReader& m, SessionExecResult& r);
void read_body(const MapReader& m, SessionCloseResult& r);
void read_body(const MapReader& m, SessionListResult& r);

}  // namespace sbx::protocol::detail
