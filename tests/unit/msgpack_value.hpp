// Test helper: msgpack values written out literally, to build frames byte for byte (wrong
// types, odd encodings) without going through the codecs under test.
//   mp::encode(mp::Map{{"type", "run"}, {"id", 7}, {"stdin", mp::Array{1, 2}}})
#pragma once

#include <concepts>
#include <cstring>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <msgpack.hpp>

namespace mp {

struct Value;
using Array = std::vector<Value>;
using Map = std::vector<std::pair<Value, Value>>;
struct Bin {
    std::string bytes;
};
struct Ext {
    std::int8_t type = 1;
    std::string bytes;
};
struct F32 {
    float value = 0;
};
struct Nil {};

struct Value {
    std::variant<Nil, bool, std::uint64_t, std::int64_t, double, F32, std::string, Bin, Ext, Array, Map> v;

    Value(Nil n = {}) : v(n) {}  // NOLINT
    Value(std::nullptr_t) : v(Nil{}) {}  // NOLINT
    Value(bool b) : v(b) {}  // NOLINT
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char>)
    Value(T x) {  // NOLINT
        if constexpr (std::is_signed_v<T>) {
            if (x < 0) {
                v = static_cast<std::int64_t>(x);
                return;
            }
        }
        v = static_cast<std::uint64_t>(x);
    }
    Value(double d) : v(d) {}  // NOLINT
    Value(F32 f) : v(f) {}  // NOLINT
    Value(const char* s) : v(std::string(s)) {}  // NOLINT
    Value(std::string s) : v(std::move(s)) {}  // NOLINT
    Value(Bin b) : v(std::move(b)) {}  // NOLINT
    Value(Ext e) : v(std::move(e)) {}  // NOLINT
    Value(Array a) : v(std::move(a)) {}  // NOLINT
    Value(Map m) : v(std::move(m)) {}  // NOLINT
};

inline void pack(msgpack::packer<msgpack::sbuffer>& pk, const Value& value) {
    struct Visit {
        msgpack::packer<msgpack::sbuffer>& pk;
        void operator()(Nil) const { pk.pack_nil(); }
        void operator()(bool b) const { b ? pk.pack_true() : pk.pack_false(); }
        void operator()(std::uint64_t x) const { pk.pack_uint64(x); }
        void operator()(std::int64_t x) const { pk.pack_int64(x); }
        // Written by hand: msgpack-c writes whole floats as integers.
        void operator()(double d) const {
            std::uint64_t bits = 0;
            std::memcpy(&bits, &d, sizeof bits);
            raw(0xcb, bits, 8);
        }
        void operator()(F32 f) const {
            std::uint32_t bits = 0;
            std::memcpy(&bits, &f.value, sizeof bits);
            raw(0xca, bits, 4);
        }
        void raw(unsigned char tag, std::uint64_t bits, int size) const {
            std::string bytes(1, static_cast<char>(tag));
            for (int i = size - 1; i >= 0; --i) bytes.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
            pk.pack_bin_body(bytes.data(), static_cast<std::uint32_t>(bytes.size()));  // raw bytes
        }
        void operator()(const std::string& s) const {
            pk.pack_str(static_cast<std::uint32_t>(s.size()));
            pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
        }
        void operator()(const Bin& b) const {
            pk.pack_bin(static_cast<std::uint32_t>(b.bytes.size()));
            pk.pack_bin_body(b.bytes.data(), static_cast<std::uint32_t>(b.bytes.size()));
        }
        void operator()(const Ext& e) const {
            pk.pack_ext(e.bytes.size(), e.type);
            pk.pack_ext_body(e.bytes.data(), static_cast<std::uint32_t>(e.bytes.size()));
        }
        void operator()(const Array& a) const {
            pk.pack_array(static_cast<std::uint32_t>(a.size()));
            for (const auto& x : a) pack(pk, x);
        }
        void operator()(const Map& m) const {
            pk.pack_map(static_cast<std::uint32_t>(m.size()));
            for (const auto& [k, x] : m) {
                pack(pk, k);
                pack(pk, x);
            }
        }
    };
    std::visit(Visit{pk}, value.v);
}

inline std::string encode(const Value& value) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    pack(pk, value);
    return std::string(buffer.data(), buffer.size());
}

// `map` with `key` set to `value` (replaced when present, appended otherwise).
inline Map with(Map map, const std::string& key, Value value) {
    for (auto& [k, v] : map) {
        if (const auto* s = std::get_if<std::string>(&k.v); s != nullptr && *s == key) {
            v = std::move(value);
            return map;
        }
    }
    map.emplace_back(Value(key), std::move(value));
    return map;
}

// `map` without `key`.
inline Map without(Map map, const std::string& key) {
    std::erase_if(map, [&](const auto& kv) {
        const auto* s = std::get_if<std::string>(&kv.first.v);
        return s != nullptr && *s == key;
    });
    return map;
}

}  // namespace mp
