// Language files (docs/policies.md, "Language files"): TOML -> a validated Language.
#include <algorithm>
#include <set>

#include "policy/language.hpp"
#include "policy/toml_reader.hpp"

namespace sbx::policy {
namespace {

using detail::element_name;
using detail::TomlReader;

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Names and aliases: [a-z0-9][a-z0-9_+.-]* ("c++", "python3").
bool is_language_name(std::string_view name) {
    if (name.empty() || !is_lower_or_digit(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return is_lower_or_digit(c) || c == '_' || c == '+' || c == '.' || c == '-';
    });
}

// Extensions, without the dot: [A-Za-z0-9_+-]+ ("py", "cpp", "C").
bool is_extension(std::string_view ext) {
    if (ext.empty()) return false;
    return std::all_of(ext.begin(), ext.end(), [](char c) {
        return is_lower_or_digit(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '+' || c == '-';
    });
}

// The first "{word}" in `arg` that is not a known placeholder ({source}, and {drivers} in the
// session command), or empty. Other braces (a shell "{1..3}") are left alone.
std::string unknown_placeholder(std::string_view arg, bool drivers_known) {
    for (std::size_t open = arg.find('{'); open != std::string_view::npos; open = arg.find('{', open + 1)) {
        const std::size_t close = arg.find('}', open);
        if (close == std::string_view::npos) break;
        const std::string_view word = arg.substr(open + 1, close - open - 1);
        const bool is_word = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || c == '_';
        });
        if (is_word && word != "source" && !(drivers_known && word == "drivers")) return std::string(arg.substr(open, close - open + 1));
    }
    return {};
}

enum class Program { absolute, absolute_or_relative };

class LanguageReader {
public:
    LanguageReader(const TomlReader& reader, Language& language) : r_(reader), l_(language) {}

    Status read(const toml::table& root) {
        if (auto s = r_.check_keys(root, {"name", "display_name", "aliases", "extensions",
                                          "source_file", "compile", "run", "version", "env", "session"},
                                   "");
            !s) {
            return s;
        }
        for (std::string_view required : {"name", "source_file", "run"}) {
            if (!root.contains(required)) {
                return r_.error(root.source(), "missing required key '" + std::string(required) + "'");
            }
        }
        // name first: aliases are checked against it.
        if (auto s = read_name(*root.get("name")); !s) return s;
        for (std::string_view key : detail::keys_in_file_order(root)) {
            if (auto s = read_key(key, *root.get(key)); !s) return s;
        }
        if (l_.display_name.empty()) l_.display_name = l_.name;
        return {};
    }

private:
    Status read_key(std::string_view key, const toml::node& node) {
        if (key == "display_name") return read_display_name(node);
        if (key == "aliases") return read_aliases(node);
        if (key == "extensions") return read_extensions(node);
        if (key == "source_file") return read_source_file(node);
        if (key == "compile") return read_argv(node, "compile", Program::absolute, l_.compile);
        if (key == "run") return read_argv(node, "run", Program::absolute_or_relative, l_.run);
        if (key == "version") return read_argv(node, "version", Program::absolute, l_.version);
        if (key == "session") return read_argv(node, "session", Program::absolute, l_.session);
        if (key == "env") {
            auto env = r_.environment(node, "env");
            if (!env) return std::move(env).error();
            l_.env = std::move(env).value();
        }
        return {};  // "name", read first
    }

    Status read_name(const toml::node& node) {
        auto name = r_.string(node, "name");
        if (!name) return std::move(name).error();
        if (!is_language_name(*name)) {
            return r_.error(node, "name: '" + *name + "' must match [a-z0-9][a-z0-9_+.-]*");
        }
        l_.name = std::move(name).value();
        return {};
    }

    Status read_display_name(const toml::node& node) {
        auto name = r_.string(node, "display_name");
        if (!name) return std::move(name).error();
        if (name->empty()) return r_.error(node, "display_name: must not be empty");
        l_.display_name = std::move(name).value();
        return {};
    }

    Status read_aliases(const toml::node& node) {
        auto arr = r_.array(node, "aliases");
        if (!arr) return std::move(arr).error();
        std::set<std::string> seen{l_.name};
        for (std::size_t i = 0; i < (*arr)->size(); ++i) {
            const toml::node& element = *(*arr)->get(i);
            const std::string label = element_name("aliases", i);
            auto alias = r_.string(element, label);
            if (!alias) return std::move(alias).error();
            if (!is_language_name(*alias)) {
                return r_.error(element, label + ": '" + *alias + "' must match [a-z0-9][a-z0-9_+.-]*");
            }
            if (!seen.insert(*alias).second) {
                return r_.error(element, label + ": '" + *alias + "' repeats the name or another alias");
            }
            l_.aliases.push_back(std::move(alias).value());
        }
        return {};
    }

    Status read_extensions(const toml::node& node) {
        auto arr = r_.array(node, "extensions");
        if (!arr) return std::move(arr).error();
        std::set<std::string> seen;
        for (std::size_t i = 0; i < (*arr)->size(); ++i) {
            const toml::node& element = *(*arr)->get(i);
            const std::string label = element_name("extensions", i);
            auto ext = r_.string(element, label);
            if (!ext) return std::move(ext).error();
            if (ext->starts_with('.')) {
                return r_.error(element, label + ": write extensions without the dot ('" +
                                             ext->substr(1) + "', not '" + *ext + "')");
            }
            if (!is_extension(*ext)) {
                return r_.error(element, label + ": '" + *ext +
                                             "' must be letters, digits, '_', '+' or '-'");
            }
            if (!seen.insert(*ext).second) {
                return r_.error(element, label + ": '" + *ext + "' is listed twice");
            }
            l_.extensions.push_back(std::move(ext).value());
        }
        return {};
    }

    Status read_source_file(const toml::node& node) {
        auto file = r_.string(node, "source_file");
        if (!file) return std::move(file).error();
        if (file->empty() || *file == "." || *file == ".." || file->find('/') != std::string::npos) {
            return r_.error(node, "source_file: '" + *file + "' must be a plain file name (no '/')");
        }
        l_.source_file = std::move(file).value();
        return {};
    }

    Status read_argv(const toml::node& node, const std::string& name, Program program,
                     std::vector<std::string>& out) {
        auto argv = r_.strings(node, name);
        if (!argv) return std::move(argv).error();
        if (argv->empty()) {
            return r_.error(node, name + ": must not be empty" +
                                      (name == "compile" ? " (leave it out for interpreted languages)"
                                                         : std::string()));
        }
        const std::string& program_path = argv->front();
        const bool absolute = program_path.starts_with('/');
        const bool relative = program_path.starts_with("./") && program_path.size() > 2;
        if (!absolute && !(program == Program::absolute_or_relative && relative)) {
            return r_.error(node, name + "[0]: '" + program_path + "' must be an absolute path" +
                                      (program == Program::absolute_or_relative
                                           ? std::string(" or start with './' (a compiled program)")
                                           : std::string()));
        }
        for (std::size_t i = 0; i < argv->size(); ++i) {
            const bool session = name == "session";
            if (auto unknown = unknown_placeholder((*argv)[i], session); !unknown.empty()) {
                const toml::node& element = *node.as_array()->get(i);
                return r_.error(element, element_name(name, i) + ": unknown placeholder '" + unknown +
                                             (session ? "' (known: {source}, {drivers})"
                                                      : "' (the only one is {source})"));
            }
        }
        out = std::move(argv).value();
        return {};
    }

    const TomlReader& r_;
    Language& l_;
};

}  // namespace

Result<Language> parse_language(std::string_view toml_text, const std::string& source_path) {
    const TomlReader reader(source_path);
    auto root = reader.parse(toml_text);
    if (!root) return std::move(root).error();
    Language language;
    language.source_path = source_path;
    if (auto s = LanguageReader(reader, language).read(*root); !s) return std::move(s).error();
    return language;
}

Result<Language> load_language_file(const std::filesystem::path& path) {
    auto text = detail::read_document(path, "language file");
    if (!text) return std::move(text).error();
    return parse_language(*text, path.string());
}

}  // namespace sbx::policy
