// Internal to the policy library: reading typed values out of a parsed TOML document, shared by
// the policy and language parsers. Every error it makes reads "<file>:<line>: <message>", with
// the line of the offending key or value, and names the key by its dotted path ("limits.memory").
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "common/result.hpp"
#include "policy/units.hpp"

namespace sbx::policy::detail {

class TomlReader {
public:
    explicit TomlReader(std::string source_path) : source_path_(std::move(source_path)) {}

    const std::string& source_path() const { return source_path_; }

    // The whole document; a syntax error carries toml++'s line and description.
    Result<toml::table> parse(std::string_view text) const;

    Error error(const toml::source_region& where, std::string message) const;
    Error error(const toml::node& node, std::string message) const {
        return error(node.source(), std::move(message));
    }

    // Fails on the first key (in file order) that is not in `allowed`. `where` names the table
    // for the message ("[limits]", "[[filesystem.bind]]"); empty for the top level.
    Status check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                      std::string_view where) const;

    // Typed values. `name` is the key's dotted path, used in messages.
    Result<const toml::table*> table(const toml::node& node, std::string_view name) const;
    Result<const toml::array*> array(const toml::node& node, std::string_view name) const;
    Result<std::string> string(const toml::node& node, std::string_view name) const;  // no NUL
    Result<bool> boolean(const toml::node& node, std::string_view name) const;
    Result<std::int64_t> integer(const toml::node& node, std::string_view name) const;
    Result<double> number(const toml::node& node, std::string_view name) const;  // int or float
    Result<std::vector<std::string>> strings(const toml::node& node, std::string_view name) const;
    // A size: a string with a unit ("256MiB") or an integer number of bytes.
    Result<std::uint64_t> size(const toml::node& node, std::string_view name) const;
    // A duration: a string with a unit ("2.5s") or a number of seconds.
    Result<Duration> duration(const toml::node& node, std::string_view name) const;
    // An [env] table: string values, keys that are valid variable names (non-empty, no '=').
    Result<std::map<std::string, std::string>> environment(const toml::node& node,
                                                           std::string_view name) const;

private:
    Error type_error(const toml::node& node, std::string_view name, std::string_view expected) const;

    std::string source_path_;
};

// "a string", "an integer", ... for messages.
std::string_view describe(toml::node_type type);

// The whole file; `what` names it in errors ("read policy file /etc/...: No such file or directory").
Result<std::string> read_document(const std::filesystem::path& path, std::string_view what);

// The table's keys in the order they appear in the file (toml++ iterates them sorted), so that
// the first error reported is the first one a reader meets.
std::vector<std::string_view> keys_in_file_order(const toml::table& table);

// "name[3]" for the fourth element of an array.
std::string element_name(std::string_view name, std::size_t index);

}  // namespace sbx::policy::detail
