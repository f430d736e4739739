// Internal to the protocol library: reading msgpack objects from untrusted payloads, with errors
// that name the field ("run.files[2].name must be a string, got integer").
//
// The readers report a problem by throwing DecodeFailure; every public decoder catches it (and
// anything msgpack-c throws) at its boundary, so nothing escapes the library.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "protocol/messages.hpp"

namespace sbx::protocol::detail {

struct DecodeFailure {
    ProtocolError error;
};

// malformed_frame: "<field> must be <expected>, got <kind of value>".
[[noreturn]] void fail_type(const std::string& field, std::string_view expected, const msgpack::object& got);
// invalid_request: "<field>: <what>".
[[noreturn]] void fail_value(const std::string& field, std::string_view what);
[[noreturn]] void fail(ErrorCode code, std::string message);

// "nil", "boolean", "integer", "float", "string", "binary", "array", "map", "ext".
std::string_view kind_name(const msgpack::object& o);

// Caps applied while parsing, whatever the payload claims: containers hold at most
// min(payload size, kMaxContainerElements) entries, nest at most kMaxDepth deep, and all the
// containers of a frame announce at most kMaxValues entries together (map entries count twice).
// msgpack-c allocates a container's entries when it reads its header, so without these a small
// frame could make it allocate gigabytes (a map header claiming 2^32 entries), and a large one
// 16 times its size; with them a frame costs at most kMaxValues * 16 bytes of parsed values.
inline constexpr std::size_t kMaxContainerElements = 1u << 16;
inline constexpr std::size_t kMaxDepth = 16;
inline constexpr std::size_t kMaxValues = 1u << 20;

// Parses `payload` as exactly one msgpack object. Strings and binaries in the result point into
// `payload`, which must outlive the handle. Throws DecodeFailure (malformed_frame) when the bytes
// are not one complete object, have bytes after it, or exceed the caps above (checked by a
// first pass that allocates nothing).
msgpack::object_handle parse_payload(std::string_view payload);

// Conversions of one value; `field` names it in errors.
std::string read_string(const msgpack::object& o, const std::string& field);
Bytes read_bytes(const msgpack::object& o, const std::string& field);  // binary or string
bool read_bool(const msgpack::object& o, const std::string& field);
std::uint64_t read_uint(const msgpack::object& o, const std::string& field);
std::uint32_t read_uint32(const msgpack::object& o, const std::string& field);
std::int32_t read_int32(const msgpack::object& o, const std::string& field);
double read_number(const msgpack::object& o, const std::string& field);  // integer or float
// An array, checked; its elements are named "<field>[i]".
const msgpack::object_array& read_array(const msgpack::object& o, const std::string& field);
std::string element_name(const std::string& field, std::size_t index);

// The fields of one msgpack map. A key absent or nil counts as absent; unknown keys are ignored;
// when a key repeats, its first occurrence counts.
class MapReader {
public:
    // Throws (malformed_frame) unless `o` is a map. `path` prefixes the field names ("run").
    MapReader(const msgpack::object& o, std::string path);

    const msgpack::object* find(std::string_view key) const;
    std::string field(std::string_view key) const;  // "<path>.<key>"
    const std::string& path() const { return path_; }

    // Each sets `out` and returns true when the key is present; leaves `out` alone otherwise.
    bool str(std::string_view key, std::string& out) const;
    bool bytes(std::string_view key, Bytes& out) const;
    bool boolean(std::string_view key, bool& out) const;
    bool uint64(std::string_view key, std::uint64_t& out) const;
    bool uint32(std::string_view key, std::uint32_t& out) const;
    bool int32(std::string_view key, std::int32_t& out) const;
    bool number(std::string_view key, double& out) const;
    bool strings(std::string_view key, std::vector<std::string>& out) const;
    bool numbers(std::string_view key, std::vector<double>& out) const;
    bool uints(std::string_view key, std::vector<std::uint64_t>& out) const;
    bool string_map(std::string_view key, std::map<std::string, std::string>& out) const;
    bool uint_map(std::string_view key, std::map<std::string, std::uint64_t>& out) const;

    // A required key: throws `code` ("<path>.<key> is missing") when absent.
    const msgpack::object& require(std::string_view key, ErrorCode code) const;

private:
    const msgpack::object_map& map_;
    std::string path_;
};

}  // namespace sbx::protocol::detail
