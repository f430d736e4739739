#include "http-proxy/json_body.hpp"

#include <cstdio>

namespace sbx::http {

using nlohmann::json;

std::variant<json, HttpError> parse_json_object(const std::string& body) {
    json parsed;
    try {
        parsed = json::parse(body);
    } catch (const json::parse_error& e) {
        std::string what = e.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> from "parse error"
        auto at = what.find("parse error");
        return HttpError::bad_request("malformed_json",
                                      "the body is not valid JSON: " + (at == std::string::npos ? what : what.substr(at)));
    }
    if (!parsed.is_object())
        return HttpError::bad_request("malformed_json",
                                      std::string("the body must be a JSON object, got ") + parsed.type_name());
    return parsed;
}

FieldReader::FieldReader(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

const json* FieldReader::find(const char* key, bool required) {
    if (error_) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
        if (required) error_ = HttpError::unprocessable(name(key) + " is required");
        return nullptr;
    }
    return &*it;
}

void FieldReader::wrong_type(const char* key, const char* expected, const json& value) {
    if (!error_)
        error_ = HttpError::unprocessable(name(key) + " must be " + expected + ", got " + value.type_name());
}

std::optional<std::string> FieldReader::string(const char* key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
        wrong_type(key, "a string", *v);
        return std::nullopt;
    }
    return v->get<std::string>();
}

std::optional<double> FieldReader::number(const char* key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) {
        wrong_type(key, "a number", *v);
        return std::nullopt;
    }
    return v->get<double>();
}

std::optional<std::int64_t> FieldReader::integer(const char* key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_integer()) return v->get<std::int64_t>();
    if (v->is_number_float()) {
        double d = v->get<double>();
        if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
    }
    wrong_type(key, "an integer", *v);
    return std::nullopt;
}

std::optional<bool> FieldReader::boolean(const char* key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
        wrong_type(key, "a boolean", *v);
        return std::nullopt;
    }
    return v->get<bool>();
}

const json* FieldReader::array(const char* key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
        wrong_type(key, "an array", *v);
        return nullptr;
    }
    return v;
}

const json* FieldReader::object(const char* key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
        wrong_type(key, "an object", *v);
        return nullptr;
    }
    return v;
}

std::string python_json_string(std::string_view s) {
    std::string out = "\"";
    auto escape = [&out](unsigned unit) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u%04x", unit & 0xffffu);
        out += buf;
    };
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                default:
                    if (c < 0x20)
                        escape(c);
                    else
                        out.push_back(static_cast<char>(c));
            }
            ++i;
            continue;
        }
        // A UTF-8 sequence; invalid bytes are dropped, as decode("utf-8", errors="ignore") does.
        int len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        if (len == 0 || i + len > s.size()) {
            ++i;
            continue;
        }
        unsigned cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
        bool valid = true;
        for (int k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) valid = false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (!valid || (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            ++i;
            continue;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            escape(0xd800 + (cp >> 10));
            escape(0xdc00 + (cp & 0x3ff));
        } else {
            escape(cp);
        }
        i += static_cast<size_t>(len);
    }
    out += "\"";
    return out;
}

}  // namespace sbx::http
