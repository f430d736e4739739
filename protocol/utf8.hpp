// Internal to the protocol library: msgpack `str` values are UTF-8 by the msgpack spec, and
// strict decoders (Python's msgpack with raw=False, the default) refuse anything else, so text
// the server sends is made valid first.
#pragma once

#include <string>
#include <string_view>

namespace sbx::protocol::detail {

bool is_valid_utf8(std::string_view text);
// `text` with every invalid or truncated sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

// A client-supplied value for an error message: at most `max` bytes of it (then "..."), with
// control characters and invalid UTF-8 written as \xNN.
std::string quote_for_message(std::string_view value, std::size_t max = 64);

}  // namespace sbx::protocol::detail
