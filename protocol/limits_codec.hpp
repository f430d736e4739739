// Internal to the protocol library: resource limits on the wire.
//   requests: {"memory_limit": 268435456 | "256MiB", "wall_time_limit": 2.5 | "2500ms", ...}
//   policies: {"memory_limit": {"default": N, "max": N}, ...}, durations in seconds (float)
#pragma once

#include <string>

#include "policy/limits.hpp"
#include "protocol/msgpack_reader.hpp"
#include "protocol/msgpack_writer.hpp"

namespace sbx::protocol::detail {

// Only the fields that are set; sizes in bytes, durations in seconds.
void write_limit_request(Writer& w, const policy::LimitRequest& limits);
// Wrong types are malformed_frame; unparseable strings, zero, negative or non-finite values are
// invalid_request; both name the field ("run.limits.memory_limit: invalid size '12XB': ...").
policy::LimitRequest read_limit_request(const msgpack::object& o, const std::string& field);

void write_limit_bounds(Writer& w, const policy::LimitBounds& bounds);
policy::LimitBounds read_limit_bounds(const msgpack::object& o, const std::string& field);

// A duration: a number of seconds or a string with a unit ("2.5s"), above 0 and at most 10^9 s.
policy::Duration read_duration(const msgpack::object& v, const std::string& name);
double to_seconds(policy::Duration d);

// Whether a request sets any limit (an empty one is left out of the encoding).
bool has_any_limit(const policy::LimitRequest& limits);

}  // namespace sbx::protocol::detail
