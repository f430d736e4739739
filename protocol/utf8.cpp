#include "protocol/utf8.hpp"

#include <cstdint>

namespace sbx::protocol::detail {
namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one (overlong
// forms, surrogates and code points above U+10FFFF are invalid).
std::size_t sequence_length(std::string_view s) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    if (b0 < 0x80) return 1;
    std::size_t length = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((b0 & 0xe0) == 0xc0) {
        length = 2, cp = b0 & 0x1fu, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        length = 3, cp = b0 & 0x0fu, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        length = 4, cp = b0 & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
    while (!text.empty()) {
        const std::size_t n = sequence_length(text);
        if (n == 0) return false;
        text.remove_prefix(n);
    }
    return true;
}

std::string to_valid_utf8(std::string_view text) {
    if (is_valid_utf8(text)) return std::string(text);
    std::string out;
    out.reserve(text.size() + 8);
    while (!text.empty()) {
        const std::size_t n = sequence_length(text);
        if (n == 0) {
            out += "\xef\xbf\xbd";  // U+FFFD
            text.remove_prefix(1);
        } else {
            out.append(text.substr(0, n));
            text.remove_prefix(n);
        }
    }
    return out;
}

std::string quote_for_message(std::string_view value, std::size_t max) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    std::size_t used = 0;
    while (!value.empty() && used < max) {
        const std::size_t n = sequence_length(value);
        const auto b = static_cast<unsigned char>(value[0]);
        if (n == 0 || (n == 1 && (b < 0x20 || b == 0x7f))) {
            out += "\\x";
            out += kHex[b >> 4];
            out += kHex[b & 0xf];
            value.remove_prefix(1);
            ++used;
        } else {
            out.append(value.substr(0, n));
            value.remove_prefix(n);
            used += n;
        }
    }
    if (!value.empty()) out += "...";
    return out;
}

}  // namespace sbx::protocol::detail
