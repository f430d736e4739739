#include "protocol/msgpack_writer.hpp"

#include <array>
#include <cstring>

#include "protocol/utf8.hpp"

namespace sbx::protocol::detail {

// Sizes are bounded by the frame limit, far below the 2^32 that msgpack headers can express.
void Writer::map(std::size_t entries) { packer_.pack_map(static_cast<std::uint32_t>(entries)); }
void Writer::array(std::size_t elements) { packer_.pack_array(static_cast<std::uint32_t>(elements)); }

void Writer::str(std::string_view value) {
    packer_.pack_str(static_cast<std::uint32_t>(value.size()));
    packer_.pack_str_body(value.data(), static_cast<std::uint32_t>(value.size()));
}

void Writer::text(std::string_view value) {
    if (is_valid_utf8(value))
        str(value);
    else
        str(to_valid_utf8(value));
}

void Writer::bin(std::string_view value) {
    packer_.pack_bin(static_cast<std::uint32_t>(value.size()));
    packer_.pack_bin_body(value.data(), static_cast<std::uint32_t>(value.size()));
}

void Writer::uint(std::uint64_t value) { packer_.pack_uint64(value); }
void Writer::integer(std::int64_t value) { packer_.pack_int64(value); }
// Always a float 64: msgpack-c's pack_double writes whole numbers as integers, and the protocol
// promises floats for these fields.
void Writer::number(double value) {
    std::uint64_t bits = 0;
    static_assert(sizeof bits == sizeof value);
    std::memcpy(&bits, &value, sizeof bits);
    std::array<char, 9> bytes{};
    bytes[0] = static_cast<char>(0xcb);
    for (std::size_t i = 0; i < 8; ++i) bytes[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
    sink_.write(bytes.data(), bytes.size());
}
void Writer::boolean(bool value) {
    if (value)
        packer_.pack_true();
    else
        packer_.pack_false();
}
void Writer::nil() { packer_.pack_nil(); }

void Writer::strings(const std::vector<std::string>& values) {
    array(values.size());
    for (const auto& v : values) str(v);
}

void Writer::texts(const std::vector<std::string>& values) {
    array(values.size());
    for (const auto& v : values) text(v);
}

void Writer::numbers(const std::vector<double>& values) {
    array(values.size());
    for (double v : values) number(v);
}

void Writer::uints(const std::vector<std::uint64_t>& values) {
    array(values.size());
    for (auto v : values) uint(v);
}

void Writer::string_map(const std::map<std::string, std::string>& values) {
    map(values.size());
    for (const auto& [k, v] : values) {
        key(k);
        str(v);
    }
}

void Writer::uint_map(const std::map<std::string, std::uint64_t>& values) {
    map(values.size());
    for (const auto& [k, v] : values) {
        text(k);
        uint(v);
    }
}

}  // namespace sbx::protocol::detail
