#include "protocol/msgpack_reader.hpp"

#include <algorithm>
#include <limits>

namespace sbx::protocol::detail {
namespace {

// Strings and binaries are used in place (the payload outlives the handle) rather than copied.
bool reference_in_place(msgpack::type::object_type, std::size_t, void*) { return true; }

// The first pass of parse_payload: walks the payload without building anything and stops at the
// first container that nests too deep, announces more entries than allowed, or takes the frame
// over its budget of values.
class BudgetCheck : public msgpack::null_visitor {
public:
    enum class Verdict { fits, too_deep, container_too_large, too_many_values };

    explicit BudgetCheck(std::size_t max_entries) : max_entries_(max_entries) {}

    bool start_array(std::uint32_t elements) { return open(elements, elements); }
    bool end_array() { return close(); }
    bool start_map(std::uint32_t pairs) { return open(pairs, std::size_t{2} * pairs); }
    bool end_map() { return close(); }

    Verdict verdict() const { return verdict_; }

private:
    bool open(std::size_t entries, std::size_t values) {
        if (++depth_ > kMaxDepth) {
            verdict_ = Verdict::too_deep;
            return false;
        }
        if (entries > max_entries_) {
            verdict_ = Verdict::container_too_large;
            return false;
        }
        values_ += values;
        if (values_ > kMaxValues) {
            verdict_ = Verdict::too_many_values;
            return false;
        }
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }

    std::size_t max_entries_;
    std::size_t depth_ = 0;
    std::size_t values_ = 0;
    Verdict verdict_ = Verdict::fits;
};

}  // namespace

void fail(ErrorCode code, std::string message) { throw DecodeFailure{ProtocolError{code, std::move(message), {}}}; }

void fail_type(const std::string& field, std::string_view expected, const msgpack::object& got) {
    fail(ErrorCode::malformed_frame,
         field + " must be " + std::string(expected) + ", got " + std::string(kind_name(got)));
}

void fail_value(const std::string& field, std::string_view what) {
    fail(ErrorCode::invalid_request, field + ": " + std::string(what));
}

std::string_view kind_name(const msgpack::object& o) {
    switch (o.type) {
        case msgpack::type::NIL: return "nil";
        case msgpack::type::BOOLEAN: return "boolean";
        case msgpack::type::POSITIVE_INTEGER:
        case msgpack::type::NEGATIVE_INTEGER: return "integer";
        case msgpack::type::FLOAT32:
        case msgpack::type::FLOAT64: return "float";
        case msgpack::type::STR: return "string";
        case msgpack::type::BIN: return "binary";
        case msgpack::type::ARRAY: return "array";
        case msgpack::type::MAP: return "map";
        case msgpack::type::EXT: return "ext";
    }
    return "unknown";
}

msgpack::object_handle parse_payload(std::string_view payload) {
    const std::size_t max_entries = std::min(payload.size(), kMaxContainerElements);
    {
        BudgetCheck budget(max_entries);
        std::size_t scanned = 0;
        try {
            (void)msgpack::parse(payload.data(), payload.size(), scanned, budget);
        } catch (const std::exception&) {
            // Malformed bytes: the second pass says what is wrong with them.
        }
        if (budget.verdict() == BudgetCheck::Verdict::too_deep)
            fail(ErrorCode::malformed_frame, "the frame nests deeper than " + std::to_string(kMaxDepth) + " levels");
        if (budget.verdict() == BudgetCheck::Verdict::container_too_large)
            fail(ErrorCode::malformed_frame,
                 "an array or map in the frame announces more than " + std::to_string(max_entries) + " entries");
        if (budget.verdict() == BudgetCheck::Verdict::too_many_values)
            fail(ErrorCode::malformed_frame,
                 "the frame announces more than " + std::to_string(kMaxValues) + " values in its arrays and maps");
    }
    const msgpack::unpack_limit limit(max_entries, max_entries, payload.size(), payload.size(), payload.size(),
                                      kMaxDepth);
    std::size_t offset = 0;
    msgpack::object_handle handle;
    try {
        handle = msgpack::unpack(payload.data(), payload.size(), offset, reference_in_place, nullptr, limit);
    } catch (const msgpack::insufficient_bytes&) {
        fail(ErrorCode::malformed_frame, "the frame is not one complete msgpack value (truncated)");
    } catch (const msgpack::depth_size_overflow&) {
        fail(ErrorCode::malformed_frame,
             "the frame nests deeper than " + std::to_string(kMaxDepth) + " levels");
    } catch (const msgpack::size_overflow&) {
        // Arrays and maps were checked by the first pass, and a string is only taken once all its
        // bytes are there, so this is a safety net.
        fail(ErrorCode::malformed_frame, "a string or binary in the frame announces more bytes than the frame holds");
    } catch (const msgpack::unpack_error& e) {
        fail(ErrorCode::malformed_frame, std::string("the frame is not valid msgpack (") + e.what() + ")");
    }
    if (offset != payload.size()) {
        fail(ErrorCode::malformed_frame, "the frame has " + std::to_string(payload.size() - offset) +
                                             " bytes after its msgpack value");
    }
    return handle;
}

std::string read_string(const msgpack::object& o, const std::string& field) {
    if (o.type != msgpack::type::STR) fail_type(field, "a string", o);
    return std::string(o.via.str.ptr, o.via.str.size);
}

Bytes read_bytes(const msgpack::object& o, const std::string& field) {
    if (o.type == msgpack::type::BIN) return Bytes(o.via.bin.ptr, o.via.bin.size);
    if (o.type == msgpack::type::STR) return Bytes(o.via.str.ptr, o.via.str.size);
    fail_type(field, "binary or string", o);
}

bool read_bool(const msgpack::object& o, const std::string& field) {
    if (o.type != msgpack::type::BOOLEAN) fail_type(field, "a boolean", o);
    return o.via.boolean;
}

std::uint64_t read_uint(const msgpack::object& o, const std::string& field) {
    if (o.type != msgpack::type::POSITIVE_INTEGER) fail_type(field, "an unsigned integer", o);
    return o.via.u64;
}

std::uint32_t read_uint32(const msgpack::object& o, const std::string& field) {
    if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > std::numeric_limits<std::uint32_t>::max())
        fail_type(field, "an unsigned 32-bit integer", o);
    return static_cast<std::uint32_t>(o.via.u64);
}

std::int32_t read_int32(const msgpack::object& o, const std::string& field) {
    constexpr auto kMin = std::numeric_limits<std::int32_t>::min();
    constexpr auto kMax = std::numeric_limits<std::int32_t>::max();
    if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= static_cast<std::uint64_t>(kMax))
        return static_cast<std::int32_t>(o.via.u64);
    if (o.type == msgpack::type::NEGATIVE_INTEGER && o.via.i64 >= kMin) return static_cast<std::int32_t>(o.via.i64);
    fail_type(field, "a 32-bit integer", o);
}

double read_number(const msgpack::object& o, const std::string& field) {
    switch (o.type) {
        case msgpack::type::POSITIVE_INTEGER: return static_cast<double>(o.via.u64);
        case msgpack::type::NEGATIVE_INTEGER: return static_cast<double>(o.via.i64);
        case msgpack::type::FLOAT32:
        case msgpack::type::FLOAT64: return o.via.f64;
        default: break;
    }
    fail_type(field, "a number", o);
}

const msgpack::object_array& read_array(const msgpack::object& o, const std::string& field) {
    if (o.type != msgpack::type::ARRAY) fail_type(field, "an array", o);
    return o.via.array;
}

std::string element_name(const std::string& field, std::size_t index) {
    return field + "[" + std::to_string(index) + "]";
}

namespace {
const msgpack::object_map& checked_map(const msgpack::object& o, const std::string& path) {
    if (o.type != msgpack::type::MAP) fail_type(path, "a map", o);
    return o.via.map;
}
}  // namespace

// (`path` is read before it is moved: map_ is declared first.)
MapReader::MapReader(const msgpack::object& o, std::string path) : map_(checked_map(o, path)), path_(std::move(path)) {}

const msgpack::object* MapReader::find(std::string_view key) const {
    for (std::uint32_t i = 0; i < map_.size; ++i) {
        const msgpack::object_kv& kv = map_.ptr[i];
        if (kv.key.type != msgpack::type::STR) continue;
        if (std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) != key) continue;
        return kv.val.type == msgpack::type::NIL ? nullptr : &kv.val;
    }
    return nullptr;
}

std::string MapReader::field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const msgpack::object& MapReader::require(std::string_view key, ErrorCode code) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) fail(code, field(key) + " is missing");
    return *v;
}

bool MapReader::str(std::string_view key, std::string& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_string(*v, field(key));
    return true;
}

bool MapReader::bytes(std::string_view key, Bytes& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_bytes(*v, field(key));
    return true;
}

bool MapReader::boolean(std::string_view key, bool& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_bool(*v, field(key));
    return true;
}

bool MapReader::uint64(std::string_view key, std::uint64_t& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_uint(*v, field(key));
    return true;
}

bool MapReader::uint32(std::string_view key, std::uint32_t& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_uint32(*v, field(key));
    return true;
}

bool MapReader::int32(std::string_view key, std::int32_t& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_int32(*v, field(key));
    return true;
}

bool MapReader::number(std::string_view key, double& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_number(*v, field(key));
    return true;
}

bool MapReader::strings(std::string_view key, std::vector<std::string>& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    const std::string name = field(key);
    if (v->type != msgpack::type::ARRAY) fail_type(name, "an array of strings", *v);
    std::vector<std::string> values;
    values.reserve(v->via.array.size);
    for (std::uint32_t i = 0; i < v->via.array.size; ++i)
        values.push_back(read_string(v->via.array.ptr[i], element_name(name, i)));
    out = std::move(values);
    return true;
}

bool MapReader::numbers(std::string_view key, std::vector<double>& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    const std::string name = field(key);
    if (v->type != msgpack::type::ARRAY) fail_type(name, "an array of numbers", *v);
    std::vector<double> values;
    values.reserve(v->via.array.size);
    for (std::uint32_t i = 0; i < v->via.array.size; ++i)
        values.push_back(read_number(v->via.array.ptr[i], element_name(name, i)));
    out = std::move(values);
    return true;
}

bool MapReader::uints(std::string_view key, std::vector<std::uint64_t>& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    const std::string name = field(key);
    if (v->type != msgpack::type::ARRAY) fail_type(name, "an array of unsigned integers", *v);
    std::vector<std::uint64_t> values;
    values.reserve(v->via.array.size);
    for (std::uint32_t i = 0; i < v->via.array.size; ++i)
        values.push_back(read_uint(v->via.array.ptr[i], element_name(name, i)));
    out = std::move(values);
    return true;
}

namespace {

template <class Value, class Convert>
std::map<std::string, Value> read_map_of(const msgpack::object& o, const std::string& name, std::string_view expected,
                                         Convert convert) {
    if (o.type != msgpack::type::MAP) fail_type(name, expected, o);
    std::map<std::string, Value> values;
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) fail_type(name + " key", "a string", kv.key);
        std::string key(kv.key.via.str.ptr, kv.key.via.str.size);
        Value value = convert(kv.val, name + "." + key);
        values.emplace(std::move(key), std::move(value));
    }
    return values;
}

}  // namespace

bool MapReader::string_map(std::string_view key, std::map<std::string, std::string>& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_map_of<std::string>(*v, field(key), "a map of strings", read_string);
    return true;
}

bool MapReader::uint_map(std::string_view key, std::map<std::string, std::uint64_t>& out) const {
    const msgpack::object* v = find(key);
    if (v == nullptr) return false;
    out = read_map_of<std::uint64_t>(*v, field(key), "a map of unsigned integers", read_uint);
    return true;
}

}  // namespace sbx::protocol::detail
