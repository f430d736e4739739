// Language files (docs/policies.md, "Language files"): TOML -> a validated Language.
#include <algorithm>
#include <set>

#include "policy/language.hpp"
#include "policy/limit_values.hpp"
#include "policy/path_rules.hpp"
#include "policy/toml_reader.hpp"

namespace sbx::policy {
namespace {

using detail::element_name;
using detail::TomlReader;

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Names and aliases: [a-z0-9][a-z0-9_+#.-]* ("c++", "c#", "python3").
bool is_language_name(std::string_view name) {
    if (name.empty() || !is_lower_or_digit(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return is_lower_or_digit(c) || c == '_' || c == '+' || c == '#' || c == '.' || c == '-';
    });
}

// Extensions, without the dot: [A-Za-z0-9_+-]+ ("py", "cpp", "C").
bool is_extension(std::string_view ext) {
    if (ext.empty()) return false;
    return std::all_of(ext.begin(), ext.end(), [](char c) {
        return is_lower_or_digit(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '+' || c == '-';
    });
}

// The first "{word}" in `arg` that is not a known placeholder, or empty. Other braces (a shell
// "{1..3}") are left alone. "{sources}" is known only as a whole argument, and only where
// `sources_allowed`; "{drivers}" only where `drivers_allowed` (the session command).
std::string unknown_placeholder(std::string_view arg, bool sources_allowed, bool drivers_allowed) {
    if (arg == "{sources}" && sources_allowed) return {};
    for (std::size_t open = arg.find('{'); open != std::string_view::npos; open = arg.find('{', open + 1)) {
        const std::size_t close = arg.find('}', open);
        if (close == std::string_view::npos) break;
        const std::string_view word = arg.substr(open + 1, close - open - 1);
        const bool is_word = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || c == '_';
        });
        if (is_word && word != "source" && !(drivers_allowed && word == "drivers")) return std::string(arg.substr(open, close - open + 1));
    }
    return {};
}

enum class Program { absolute, absolute_or_relative };

class LanguageReader {
public:
    LanguageReader(const TomlReader& reader, Language& language) : r_(reader), l_(language) {}

    Status read(const toml::table& root) {
        if (auto s = r_.check_keys(root, {"name", "display_name", "aliases", "extensions", "source_file",
                                          "compile", "run", "version", "env", "artifacts", "limits",
                                          "compile_limits", "filesystem", "session"},
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
        if (key == "artifacts") return read_artifacts(node);
        if (key == "limits") return read_limits(node, "limits", l_.run_limits);
        if (key == "compile_limits") return read_limits(node, "compile_limits", l_.compile_limits);
        if (key == "filesystem") return read_filesystem(node);
        return {};  // "name", read first
    }

    Status read_name(const toml::node& node) {
        auto name = r_.string(node, "name");
        if (!name) return std::move(name).error();
        if (!is_language_name(*name)) {
            return r_.error(node, "name: '" + *name + "' must match [a-z0-9][a-z0-9_+#.-]*");
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
                return r_.error(element, label + ": '" + *alias + "' must match [a-z0-9][a-z0-9_+#.-]*");
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
        const bool session = name == "session";
        const bool sources_allowed = name != "version" && !session;
        for (std::size_t i = 0; i < argv->size(); ++i) {
            if (auto unknown = unknown_placeholder((*argv)[i], sources_allowed, session); !unknown.empty()) {
                const toml::node& element = *node.as_array()->get(i);
                return r_.error(element, element_name(name, i) + ": unknown placeholder '" + unknown +
                                             (session           ? "' (known: {source}, {drivers})"
                                              : sources_allowed ? "' (there are {source}, and {sources} as a whole argument)"
                                                                : "' (the only one is {source})"));
            }
        }
        out = std::move(argv).value();
        return {};
    }

    Status read_artifacts(const toml::node& node) {
        auto globs = r_.strings(node, "artifacts");
        if (!globs) return std::move(globs).error();
        for (std::size_t i = 0; i < globs->size(); ++i) {
            const std::string& glob = (*globs)[i];
            // Relative to the work directory: "main", "*.class", "bin/*".
            bool bad = glob.empty() || glob.front() == '/' || glob.back() == '/';
            for (std::size_t start = 0; !bad && start <= glob.size();) {
                const std::size_t end = std::min(glob.find('/', start), glob.size());
                const std::string_view part = std::string_view(glob).substr(start, end - start);
                bad = part.empty() || part == "." || part == "..";
                start = end + 1;
            }
            if (bad) {
                return r_.error(*node.as_array()->get(i),
                                element_name("artifacts", i) + ": '" + glob +
                                    "' must be a relative path or glob in the work directory (no '.' or '..')");
            }
        }
        l_.artifacts = std::move(globs).value();
        return {};
    }

    Status read_limits(const toml::node& node, const std::string& name, LimitRequest& out) {
        auto limits = detail::limit_values(r_, node, name);
        if (!limits) return std::move(limits).error();
        out = *limits;
        return {};
    }

    // [filesystem]: read_only = [paths], and [[filesystem.bind]] { source, target?, optional? }.
    // Only read-only binds: a language adds what its runtime reads, never a writable path.
    Status read_filesystem(const toml::node& node) {
        auto tbl = r_.table(node, "filesystem");
        if (!tbl) return std::move(tbl).error();
        const toml::table& t = **tbl;
        if (auto s = r_.check_keys(t, {"read_only", "bind"}, "[filesystem]"); !s) return s;
        std::set<std::string> targets;
        if (const auto* ro = t.get("read_only")) {
            auto arr = r_.array(*ro, "filesystem.read_only");
            if (!arr) return std::move(arr).error();
            for (std::size_t i = 0; i < (*arr)->size(); ++i) {
                const toml::node& element = *(*arr)->get(i);
                const std::string label = element_name("filesystem.read_only", i);
                auto path = r_.string(element, label);
                if (!path) return std::move(path).error();
                if (auto s = add_bind(BindMount{*path, *path, false, false}, element, label, targets); !s) return s;
            }
        }
        if (const auto* binds = t.get("bind")) {
            auto arr = r_.array(*binds, "filesystem.bind");
            if (!arr) return std::move(arr).error();
            for (std::size_t i = 0; i < (*arr)->size(); ++i) {
                const toml::node& element = *(*arr)->get(i);
                const std::string label = element_name("filesystem.bind", i);
                auto bind_table = r_.table(element, label);
                if (!bind_table) return std::move(bind_table).error();
                const toml::table& b = **bind_table;
                if (auto s = r_.check_keys(b, {"source", "target", "optional"}, "[[filesystem.bind]]"); !s) return s;
                const auto* source = b.get("source");
                if (source == nullptr) return r_.error(element, label + ": missing required key 'source'");
                auto source_path = r_.string(*source, label + ".source");
                if (!source_path) return std::move(source_path).error();
                BindMount bind{*source_path, *source_path, false, false};
                const toml::node* where = source;
                if (const auto* target = b.get("target")) {
                    auto target_path = r_.string(*target, label + ".target");
                    if (!target_path) return std::move(target_path).error();
                    if (*target_path != bind.source && detail::has_glob(bind.source)) {
                        return r_.error(*target, label + ".target: a glob source ('" + bind.source +
                                                     "') is bound to the same paths; leave out target");
                    }
                    bind.target = std::move(target_path).value();
                    where = target;
                }
                if (const auto* optional = b.get("optional")) {
                    auto flag = r_.boolean(*optional, label + ".optional");
                    if (!flag) return std::move(flag).error();
                    bind.optional = *flag;
                }
                if (auto s = add_bind(std::move(bind), *where, label, targets); !s) return s;
            }
        }
        return {};
    }

    Status add_bind(BindMount bind, const toml::node& node, const std::string& label, std::set<std::string>& targets) {
        for (const std::string* path : {&bind.source, &bind.target}) {
            if (auto problem = detail::path_problem(*path)) return r_.error(node, label + ": '" + *path + "' " + *problem);
        }
        if (detail::has_glob(bind.target) && bind.target != bind.source) {
            return r_.error(node, label + ": target '" + bind.target + "' must not contain glob characters (*?[)");
        }
        if (auto problem = detail::reserved_target_problem(bind.target, "")) return r_.error(node, label + ": " + *problem);
        if (!targets.insert(bind.target).second) {
            return r_.error(node, label + ": '" + bind.target + "' is bound twice");
        }
        l_.binds.push_back(std::move(bind));
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
