#include "policy/toml_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <utility>

#include "common/unique_fd.hpp"

namespace sbx::policy::detail {

std::string_view describe(toml::node_type type) {
    switch (type) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a floating-point number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

std::string element_name(std::string_view name, std::size_t index) {
    return std::string(name) + "[" + std::to_string(index) + "]";
}

Result<std::string> read_document(const std::filesystem::path& path, std::string_view what) {
    const std::string context = "read " + std::string(what) + " " + path.string();
    // open + read rather than ifstream: errno survives, and a directory fails (EISDIR) instead of
    // reading as an empty document.
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::system(context);
    std::string text;
    std::array<char, 64 * 1024> buffer{};
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::system(context);
        if (n == 0) break;
        text.append(buffer.data(), static_cast<std::size_t>(n));
    }
    return text;
}

std::vector<std::string_view> keys_in_file_order(const toml::table& table) {
    std::vector<const toml::key*> keys;
    for (const auto& [key, node] : table) keys.push_back(&key);
    std::stable_sort(keys.begin(), keys.end(), [](const toml::key* a, const toml::key* b) {
        const auto& pa = a->source().begin;
        const auto& pb = b->source().begin;
        return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    std::vector<std::string_view> out;
    out.reserve(keys.size());
    for (const toml::key* key : keys) out.push_back(key->str());
    return out;
}

Result<toml::table> TomlReader::parse(std::string_view text) const {
    // toml++ reports syntax errors by exception or by parse_result, as it was built.
#if TOML_EXCEPTIONS
    try {
        return toml::parse(text, std::string_view(source_path_));
    } catch (const toml::parse_error& e) {
        return error(e.source(), std::string(e.description()));
    }
#else
    toml::parse_result parsed = toml::parse(text, std::string_view(source_path_));
    if (!parsed) return error(parsed.error().source(), std::string(parsed.error().description()));
    return std::move(parsed).table();
#endif
}

Error TomlReader::error(const toml::source_region& where, std::string message) const {
    // Lines are 1-based; 0 only on nodes toml++ made up itself, which belong to the top.
    const auto line = where.begin.line == 0 ? 1u : where.begin.line;
    return Error::invalid(source_path_ + ":" + std::to_string(line), std::move(message));
}

Error TomlReader::type_error(const toml::node& node, std::string_view name,
                             std::string_view expected) const {
    return error(node, std::string(name) + ": expected " + std::string(expected) + ", got " +
                           std::string(describe(node.type())));
}

Status TomlReader::check_keys(const toml::table& tbl, std::initializer_list<std::string_view> allowed,
                              std::string_view where) const {
    for (std::string_view key : keys_in_file_order(tbl)) {
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string message = "unknown key '" + std::string(key) + "'";
        if (!where.empty()) message += " in " + std::string(where);
        return error(tbl.find(key)->first.source(), std::move(message));
    }
    return {};
}

Result<const toml::table*> TomlReader::table(const toml::node& node, std::string_view name) const {
    if (const auto* t = node.as_table()) return t;
    return type_error(node, name, "a table");
}

Result<const toml::array*> TomlReader::array(const toml::node& node, std::string_view name) const {
    if (const auto* a = node.as_array()) return a;
    return type_error(node, name, "an array");
}

Result<std::string> TomlReader::string(const toml::node& node, std::string_view name) const {
    const auto* s = node.as_string();
    if (s == nullptr) return type_error(node, name, "a string");
    // Every string ends up in a C API (paths, argv, syscall names); NUL would cut it short.
    if (s->get().find('\0') != std::string::npos) {
        return error(node, std::string(name) + ": must not contain a NUL character");
    }
    return s->get();
}

Result<bool> TomlReader::boolean(const toml::node& node, std::string_view name) const {
    if (const auto* b = node.as_boolean()) return b->get();
    return type_error(node, name, "a boolean (true or false)");
}

Result<std::int64_t> TomlReader::integer(const toml::node& node, std::string_view name) const {
    if (const auto* i = node.as_integer()) return i->get();
    return type_error(node, name, "an integer");
}

Result<double> TomlReader::number(const toml::node& node, std::string_view name) const {
    if (const auto* i = node.as_integer()) return static_cast<double>(i->get());
    if (const auto* f = node.as_floating_point()) return f->get();
    return type_error(node, name, "a number");
}

Result<std::vector<std::string>> TomlReader::strings(const toml::node& node,
                                                     std::string_view name) const {
    auto arr = array(node, name);
    if (!arr) return std::move(arr).error();
    std::vector<std::string> out;
    out.reserve((*arr)->size());
    for (std::size_t i = 0; i < (*arr)->size(); ++i) {
        auto s = string(*(*arr)->get(i), element_name(name, i));
        if (!s) return std::move(s).error();
        out.push_back(std::move(s).value());
    }
    return out;
}

Result<std::uint64_t> TomlReader::size(const toml::node& node, std::string_view name) const {
    if (const auto* i = node.as_integer()) {
        if (i->get() < 0) {
            return error(node, std::string(name) + ": must not be negative, got " +
                                   std::to_string(i->get()));
        }
        return static_cast<std::uint64_t>(i->get());
    }
    if (const auto* s = node.as_string()) {
        auto bytes = parse_size(s->get());
        if (!bytes) return error(node, std::string(name) + ": " + bytes.error().message());
        return bytes;
    }
    return type_error(node, name, "a size (a string like \"256MiB\" or an integer number of bytes)");
}

Result<Duration> TomlReader::duration(const toml::node& node, std::string_view name) const {
    if (const auto* s = node.as_string()) {
        auto d = parse_duration(s->get());
        if (!d) return error(node, std::string(name) + ": " + d.error().message());
        return d;
    }
    if (node.is_integer() || node.is_floating_point()) {
        const double seconds = node.is_integer() ? static_cast<double>(*node.value<std::int64_t>())
                                                 : *node.value<double>();
        if (!std::isfinite(seconds) || seconds < 0) {
            return error(node, std::string(name) + ": must be a non-negative number of seconds");
        }
        const double us = seconds * 1e6;
        // 2^63 is exactly representable; anything at or above it does not fit a Duration.
        if (us >= 9223372036854775808.0) return error(node, std::string(name) + ": too large");
        const double rounded = std::round(us);
        // Floats like 0.1 are not exact in binary; accept them when they are a whole number of
        // microseconds up to rounding noise.
        if (std::fabs(us - rounded) > 1e-3) {
            return error(node, std::string(name) + ": not a whole number of microseconds");
        }
        return Duration(static_cast<Duration::rep>(rounded));
    }
    return type_error(node, name,
                      "a duration (a string like \"10s\" or \"500ms\", or a number of seconds)");
}

Result<std::map<std::string, std::string>> TomlReader::environment(const toml::node& node,
                                                                   std::string_view name) const {
    auto tbl = table(node, name);
    if (!tbl) return std::move(tbl).error();
    std::map<std::string, std::string> env;
    for (const auto& [key, value] : **tbl) {
        const std::string variable(key.str());
        if (variable.empty() || variable.find('=') != std::string::npos ||
            variable.find('\0') != std::string::npos) {
            return error(key.source(), std::string(name) + ": invalid variable name '" + variable +
                                           "' (must be non-empty, without '=')");
        }
        auto s = string(value, std::string(name) + "." + variable);
        if (!s) return std::move(s).error();
        env.emplace(variable, std::move(s).value());
    }
    return env;
}

}  // namespace sbx::policy::detail
