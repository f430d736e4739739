// Base64 (RFC 4648, padded) for binary data inside text formats: images in the JSON of the
// session drivers and of sandbox-http. Boost.Beast's codec does the work.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sbx {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not padded base64 (whitespace included).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sbx
