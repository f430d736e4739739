// Policy files (docs/policies.md): TOML -> a validated Policy. Anything the jail would trip over
// later (a relative path, a bind over /proc, an unknown syscall) is refused here, with its line.
#include <seccomp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <set>

#include "policy/limit_values.hpp"
#include "policy/path_rules.hpp"
#include "policy/policy.hpp"
#include "policy/toml_reader.hpp"

namespace sbx::policy {
namespace {

using detail::element_name;
using detail::format_cores;
using detail::has_glob;
using detail::is_at_or_under;
using detail::kReservedDirs;
using detail::path_problem;
using detail::reserved_target_problem;
using detail::TomlReader;

constexpr std::uint64_t kInvalidId = 4'294'967'295;  // (uid_t)-1 means "no change" to setresuid
constexpr std::size_t kMaxHostname = 64;              // HOST_NAME_MAX
// Each entry becomes one or two nftables rules evaluated per new connection.
constexpr std::size_t kMaxAllowEntries = 256;

bool is_policy_name(std::string_view name) {
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (name.empty() || !lower_or_digit(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) {
        return lower_or_digit(c) || c == '_' || c == '.' || c == '-';
    });
}

bool is_hostname(std::string_view name) {
    if (name.empty() || name.size() > kMaxHostname) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
    });
}

std::string format_count(std::uint64_t n) { return std::to_string(n); }

// Reads one policy document into `policy`, section by section.
class PolicyReader {
public:
    PolicyReader(const TomlReader& reader, Policy& policy) : r_(reader), p_(policy) {}

    Status read(const toml::table& root) {
        if (auto s = r_.check_keys(root, {"name", "description", "limits", "filesystem", "network",
                                          "seccomp", "access", "box", "env"}, "");
            !s) {
            return s;
        }
        // The name may come from the file name, so it is settled even when the key is absent.
        if (auto s = read_name(root); !s) return s;
        for (std::string_view key : detail::keys_in_file_order(root)) {
            if (auto s = read_top_level(key, *root.get(key)); !s) return s;
        }
        return {};
    }

private:
    Status read_top_level(std::string_view key, const toml::node& node) {
        if (key == "description") {
            auto d = r_.string(node, "description");
            if (!d) return std::move(d).error();
            p_.description = std::move(d).value();
            return {};
        }
        if (key == "env") {
            auto env = r_.environment(node, "env");
            if (!env) return std::move(env).error();
            p_.env = std::move(env).value();
            return {};
        }
        using SectionFn = Status (PolicyReader::*)(const toml::table&);
        static constexpr std::pair<std::string_view, SectionFn> kSections[] = {
            {"limits", &PolicyReader::read_limits},   {"filesystem", &PolicyReader::read_filesystem},
            {"network", &PolicyReader::read_network}, {"seccomp", &PolicyReader::read_seccomp},
            {"access", &PolicyReader::read_access},   {"box", &PolicyReader::read_box},
        };
        for (const auto& [name, fn] : kSections) {
            if (key != name) continue;
            auto tbl = r_.table(node, name);
            if (!tbl) return std::move(tbl).error();
            return (this->*fn)(**tbl);
        }
        return {};  // "name", read first
    }

    Status read_name(const toml::table& root) {
        const std::string pattern = "must match [a-z0-9][a-z0-9_.-]*";
        if (const auto* node = root.get("name")) {
            auto name = r_.string(*node, "name");
            if (!name) return std::move(name).error();
            if (!is_policy_name(*name)) {
                return r_.error(*node, "name: '" + *name + "' " + pattern);
            }
            p_.name = std::move(name).value();
            return {};
        }
        p_.name = std::filesystem::path(r_.source_path()).stem().string();
        if (!is_policy_name(p_.name)) {
            return r_.error(root.source(), "name: the file name gives '" + p_.name + "', which " +
                                               pattern + "; set name = \"...\"");
        }
        return {};
    }

    // ---- [limits] ----

    // A limit is a plain value (default = max) or { default = X, max = Y }; `read_value` reads
    // and range-checks one value.
    template <class T, class ReadValue, class Format>
    Status read_bound(const toml::table& limits, std::string_view key, Bound<T>& out,
                      ReadValue read_value, Format format) {
        const auto* node = limits.get(key);
        if (node == nullptr) return {};
        const std::string name = "limits." + std::string(key);
        const auto* tbl = node->as_table();
        if (tbl == nullptr) {
            Result<T> value = read_value(*node, name);
            if (!value) return std::move(value).error();
            out = Bound<T>{*value, *value};
            return {};
        }
        if (auto s = r_.check_keys(*tbl, {"default", "max"}, name); !s) return s;
        const auto* max_node = tbl->get("max");
        if (max_node == nullptr) {
            return r_.error(*node, name + ": a { default, max } table needs 'max'");
        }
        Result<T> maximum = read_value(*max_node, name + ".max");
        if (!maximum) return std::move(maximum).error();
        T default_value = *maximum;
        if (const auto* default_node = tbl->get("default")) {
            Result<T> d = read_value(*default_node, name + ".default");
            if (!d) return std::move(d).error();
            if (*maximum < *d) {
                return r_.error(*default_node, name + ": default " + format(*d) +
                                                   " exceeds max " + format(*maximum));
            }
            default_value = *d;
        }
        out = Bound<T>{default_value, *maximum};
        return {};
    }

    Result<std::uint64_t> positive_size(const toml::node& node, const std::string& name) const {
        return detail::positive_size(r_, node, name);
    }
    Result<Duration> positive_duration(const toml::node& node, const std::string& name) const {
        return detail::positive_duration(r_, node, name);
    }
    Result<std::uint32_t> count_in(const toml::node& node, const std::string& name, std::uint32_t maximum) const {
        return detail::count_in(r_, node, name, maximum);
    }
    Result<double> cores(const toml::node& node, const std::string& name) const {
        return detail::cores(r_, node, name);
    }

    Status read_limits(const toml::table& t) {
        if (auto s = r_.check_keys(t, {"memory", "pids", "wall_time", "cpu_time", "cpu_cores",
                                       "output", "tmpfs", "open_files", "file_size", "stack"},
                                   "[limits]");
            !s) {
            return s;
        }
        for (std::string_view key : detail::keys_in_file_order(t)) {
            if (auto s = read_limit(t, key); !s) return s;
        }
        return {};
    }

    Status read_limit(const toml::table& t, std::string_view key) {
        LimitBounds& b = p_.limits;
        auto size = [this](const toml::node& n, const std::string& name) { return positive_size(n, name); };
        auto duration = [this](const toml::node& n, const std::string& name) {
            return positive_duration(n, name);
        };
        if (key == "memory") return read_bound(t, key, b.memory_bytes, size, format_size);
        if (key == "output") return read_bound(t, key, b.output_bytes, size, format_size);
        if (key == "tmpfs") return read_bound(t, key, b.tmpfs_bytes, size, format_size);
        if (key == "file_size") return read_bound(t, key, b.file_size_bytes, size, format_size);
        if (key == "stack") return read_bound(t, key, b.stack_bytes, size, format_size);
        if (key == "wall_time") return read_bound(t, key, b.wall_time, duration, format_duration);
        if (key == "cpu_time") return read_bound(t, key, b.cpu_time, duration, format_duration);
        if (key == "pids") {
            auto pids = [this](const toml::node& n, const std::string& name) {
                return count_in(n, name, detail::kMaxPids);
            };
            return read_bound(t, key, b.pids, pids, format_count);
        }
        if (key == "open_files") {
            auto files = [this](const toml::node& n, const std::string& name) {
                return count_in(n, name, detail::kMaxOpenFiles);
            };
            return read_bound(t, key, b.open_files, files, format_count);
        }
        if (key == "cpu_cores") {
            auto cpu = [this](const toml::node& n, const std::string& name) { return cores(n, name); };
            return read_bound(t, key, b.cpu_cores, cpu, format_cores);
        }
        return {};  // check_keys has refused anything else
    }

    // ---- [filesystem] ----

    Status read_filesystem(const toml::table& t) {
        if (auto s = r_.check_keys(t, {"read_only", "writable", "bind", "work_dir", "hostname",
                                       "dev_shm", "dev_pts"},
                                   "[filesystem]");
            !s) {
            return s;
        }
        FilesystemPolicy& fs = p_.filesystem;
        // work_dir first: bind targets are checked against it.
        if (const auto* node = t.get("work_dir")) {
            auto dir = r_.string(*node, "filesystem.work_dir");
            if (!dir) return std::move(dir).error();
            if (auto problem = work_dir_problem(*dir)) {
                return r_.error(*node, "filesystem.work_dir: " + *problem);
            }
            fs.work_dir = std::move(dir).value();
        }
        if (const auto* node = t.get("hostname")) {
            auto name = r_.string(*node, "filesystem.hostname");
            if (!name) return std::move(name).error();
            if (!is_hostname(*name)) {
                return r_.error(*node, "filesystem.hostname: '" + *name + "' must be 1 to " +
                                           std::to_string(kMaxHostname) +
                                           " characters of letters, digits, '.' and '-'");
            }
            fs.hostname = std::move(name).value();
        }
        if (auto s = read_flag(t, "dev_shm", fs.dev_shm); !s) return s;
        if (auto s = read_flag(t, "dev_pts", fs.dev_pts); !s) return s;

        // Binds in mount order: read_only, then writable, then [[filesystem.bind]].
        std::set<std::string> targets;
        if (auto s = read_shorthand_binds(t, "read_only", false, targets); !s) return s;
        if (auto s = read_shorthand_binds(t, "writable", true, targets); !s) return s;
        if (const auto* node = t.get("bind")) {
            auto arr = r_.array(*node, "filesystem.bind");
            if (!arr) return std::move(arr).error();
            for (std::size_t i = 0; i < (*arr)->size(); ++i) {
                if (auto s = read_full_bind(*(*arr)->get(i), targets); !s) return s;
            }
        }
        return {};
    }

    static std::optional<std::string> work_dir_problem(const std::string& dir) {
        if (auto problem = path_problem(dir)) return "'" + dir + "' " + *problem;
        if (has_glob(dir)) return "'" + dir + "' must not contain glob characters (*?[)";
        if (dir == "/") return "'/' cannot be the work directory";
        for (std::string_view reserved : kReservedDirs) {
            if (is_at_or_under(dir, reserved)) {
                return "'" + dir + "' is reserved: the jail mounts /proc, /dev and /tmp itself";
            }
        }
        return std::nullopt;
    }

    Status read_flag(const toml::table& t, std::string_view key, bool& out) {
        const auto* node = t.get(key);
        if (node == nullptr) return {};
        auto b = r_.boolean(*node, "filesystem." + std::string(key));
        if (!b) return std::move(b).error();
        out = *b;
        return {};
    }

    Status read_shorthand_binds(const toml::table& t, std::string_view key, bool writable,
                                std::set<std::string>& targets) {
        const auto* node = t.get(key);
        if (node == nullptr) return {};
        const std::string name = "filesystem." + std::string(key);
        auto arr = r_.array(*node, name);
        if (!arr) return std::move(arr).error();
        for (std::size_t i = 0; i < (*arr)->size(); ++i) {
            const toml::node& element = *(*arr)->get(i);
            const std::string element_label = element_name(name, i);
            auto path = r_.string(element, element_label);
            if (!path) return std::move(path).error();
            BindMount bind{*path, *path, writable, false};
            if (auto s = add_bind(std::move(bind), element, element_label, targets); !s) return s;
        }
        return {};
    }

    Status read_full_bind(const toml::node& node, std::set<std::string>& targets) {
        const std::string name = "filesystem.bind";
        auto tbl = r_.table(node, name);
        if (!tbl) return std::move(tbl).error();
        const toml::table& t = **tbl;
        if (auto s = r_.check_keys(t, {"source", "target", "writable", "optional"},
                                   "[[filesystem.bind]]");
            !s) {
            return s;
        }
        const auto* source_node = t.get("source");
        if (source_node == nullptr) return r_.error(node, name + ": missing required key 'source'");
        auto source = r_.string(*source_node, name + ".source");
        if (!source) return std::move(source).error();
        BindMount bind{*source, *source, false, false};
        if (auto problem = path_problem(bind.source)) {
            return r_.error(*source_node, name + ".source: '" + bind.source + "' " + *problem);
        }
        const toml::node* where = source_node;
        std::string label = name + ".source";
        if (const auto* target_node = t.get("target")) {
            auto target = r_.string(*target_node, name + ".target");
            if (!target) return std::move(target).error();
            if (*target != bind.source && has_glob(bind.source)) {
                return r_.error(*target_node, name + ".target: a glob source ('" + bind.source +
                                                  "') is bound to the same paths; leave out target");
            }
            bind.target = std::move(target).value();
            where = target_node;
            label = name + ".target";
        }
        for (auto [key, flag] : {std::pair{"writable", &bind.writable}, std::pair{"optional", &bind.optional}}) {
            if (const auto* flag_node = t.get(key)) {
                auto b = r_.boolean(*flag_node, name + "." + key);
                if (!b) return std::move(b).error();
                *flag = *b;
            }
        }
        return add_bind(std::move(bind), *where, label, targets);
    }

    // Validates source and target and appends the bind; `node` and `label` locate its target.
    Status add_bind(BindMount bind, const toml::node& node, const std::string& label,
                    std::set<std::string>& targets) {
        if (auto problem = path_problem(bind.source)) {
            return r_.error(node, label + ": '" + bind.source + "' " + *problem);
        }
        if (auto problem = path_problem(bind.target)) {
            return r_.error(node, label + ": '" + bind.target + "' " + *problem);
        }
        if (has_glob(bind.target) && bind.target != bind.source) {
            return r_.error(node, label + ": target '" + bind.target +
                                      "' must not contain glob characters (*?[)");
        }
        if (auto problem = reserved_target_problem(bind.target, p_.filesystem.work_dir)) {
            return r_.error(node, label + ": " + *problem);
        }
        if (!targets.insert(bind.target).second) {
            return r_.error(node, label + ": '" + bind.target + "' is bound twice");
        }
        p_.filesystem.binds.push_back(std::move(bind));
        return {};
    }

    // ---- [network], [seccomp], [access], [box] ----

    Status read_network(const toml::table& t) {
        if (auto s = r_.check_keys(t, {"mode", "allow", "dns", "max_connections", "bandwidth"}, "[network]"); !s)
            return s;
        if (const auto* node = t.get("mode")) {
            auto mode = r_.string(*node, "network.mode");
            if (!mode) return std::move(mode).error();
            if (*mode == "none") {
                p_.network.mode = NetworkMode::none;
            } else if (*mode == "egress") {
                p_.network.mode = NetworkMode::egress;
            } else {
                return r_.error(*node, "network.mode: unknown mode '" + *mode +
                                           "' (expected \"none\" or \"egress\")");
            }
        }
        // Everything else describes egress: refused with "none", where it would mean nothing.
        for (const std::string_view key : detail::keys_in_file_order(t)) {
            if (key == "mode" || p_.network.mode == NetworkMode::egress) continue;
            return r_.error(*t.get(key), "network." + std::string(key) + " needs mode = \"egress\"");
        }
        auto each = [&](std::string_view key, std::size_t max,
                        const std::function<Status(const toml::node&, const std::string&, const std::string&)>& add)
            -> Status {
            const auto* node = t.get(key);
            if (node == nullptr) return {};
            const std::string name = "network." + std::string(key);
            auto arr = r_.array(*node, name);
            if (!arr) return std::move(arr).error();
            if ((*arr)->size() > max)
                return r_.error(*node, name + ": at most " + std::to_string(max) + " entries");
            for (std::size_t i = 0; i < (*arr)->size(); ++i) {
                const toml::node& element = *(*arr)->get(i);
                const std::string label = element_name(name, i);
                auto text = r_.string(element, label);
                if (!text) return std::move(text).error();
                if (auto s = add(element, label, *text); !s) return s;
            }
            return {};
        };
        auto allow = each("allow", kMaxAllowEntries, [&](const toml::node& e, const std::string& label,
                                                         const std::string& text) -> Status {
            auto entry = parse_allow_entry(text);
            if (!entry) return r_.error(e, label + ": " + entry.error().message());
            p_.network.allow.push_back(*entry);
            return {};
        });
        if (!allow) return allow;
        // glibc reads at most three nameserver lines.
        auto dns = each("dns", 3, [&](const toml::node& e, const std::string& label, const std::string& text) -> Status {
            auto server = parse_ipv4_address(text);
            if (!server) return r_.error(e, label + ": " + server.error().message());
            p_.network.dns.push_back(*server);
            return {};
        });
        if (!dns) return dns;
        if (const auto* node = t.get("max_connections")) {
            auto n = r_.integer(*node, "network.max_connections");
            if (!n) return std::move(n).error();
            if (*n < 1 || *n > 1000000) return r_.error(*node, "network.max_connections: must be 1 to 1000000");
            p_.network.max_connections = static_cast<std::uint32_t>(*n);
        }
        if (const auto* node = t.get("bandwidth")) {
            auto bytes = r_.size(*node, "network.bandwidth");
            if (!bytes) return std::move(bytes).error();
            if (*bytes < 1024) return r_.error(*node, "network.bandwidth: must be at least 1KiB (bytes per second)");
            p_.network.bandwidth_bytes = *bytes;
        }
        return {};
    }

    Status read_seccomp(const toml::table& t) {
        if (auto s = r_.check_keys(t, {"deny", "allow"}, "[seccomp]"); !s) return s;
        if (auto s = read_syscalls(t, "deny", p_.seccomp.deny, {}); !s) return s;
        return read_syscalls(t, "allow", p_.seccomp.allow, p_.seccomp.deny);
    }

    // `excluded`: names the other list already holds; a name in both would be contradictory.
    Status read_syscalls(const toml::table& t, std::string_view key, std::vector<std::string>& out,
                         const std::vector<std::string>& excluded) {
        const auto* node = t.get(key);
        if (node == nullptr) return {};
        const std::string name = "seccomp." + std::string(key);
        auto arr = r_.array(*node, name);
        if (!arr) return std::move(arr).error();
        for (std::size_t i = 0; i < (*arr)->size(); ++i) {
            const toml::node& element = *(*arr)->get(i);
            auto syscall = r_.string(element, element_name(name, i));
            if (!syscall) return std::move(syscall).error();
            // Resolved for the native architecture, as the filter will be.
            if (seccomp_syscall_resolve_name(syscall->c_str()) == __NR_SCMP_ERROR) {
                return r_.error(element, element_name(name, i) + ": unknown system call '" +
                                             *syscall + "'");
            }
            if (std::find(excluded.begin(), excluded.end(), *syscall) != excluded.end()) {
                return r_.error(element, element_name(name, i) + ": '" + *syscall +
                                             "' is in both seccomp.deny and seccomp.allow");
            }
            out.push_back(std::move(syscall).value());
        }
        return {};
    }

    Status read_access(const toml::table& t) {
        if (auto s = r_.check_keys(t, {"users", "groups"}, "[access]"); !s) return s;
        if (auto s = read_principals(t, "users", p_.access.users); !s) return s;
        return read_principals(t, "groups", p_.access.groups);
    }

    // Names or numeric ids; integers are kept as their decimal spelling.
    Status read_principals(const toml::table& t, std::string_view key, std::vector<std::string>& out) {
        const auto* node = t.get(key);
        if (node == nullptr) return {};
        const std::string name = "access." + std::string(key);
        auto arr = r_.array(*node, name);
        if (!arr) return std::move(arr).error();
        for (std::size_t i = 0; i < (*arr)->size(); ++i) {
            const toml::node& element = *(*arr)->get(i);
            const std::string label = element_name(name, i);
            std::string principal;
            if (const auto* id = element.as_integer()) {
                if (id->get() < 0 || static_cast<std::uint64_t>(id->get()) >= kInvalidId) {
                    return r_.error(element, label + ": id " + std::to_string(id->get()) +
                                                 " is out of range");
                }
                principal = std::to_string(id->get());
            } else {
                auto s = r_.string(element, label);
                if (!s) return std::move(s).error();
                if (s->empty() || s->find_first_of(": \t\n/") != std::string::npos) {
                    return r_.error(element, label + ": '" + *s + "' is not a user or group name");
                }
                principal = std::move(s).value();
            }
            out.push_back(std::move(principal));
        }
        return {};
    }

    Status read_box(const toml::table& t) {
        if (auto s = r_.check_keys(t, {"uid_range"}, "[box]"); !s) return s;
        const auto* node = t.get("uid_range");
        if (node == nullptr) return {};
        const std::string name = "box.uid_range";
        std::uint64_t first = 0;
        std::uint64_t last = 0;
        if (const auto* tbl = node->as_table()) {
            if (auto s = r_.check_keys(*tbl, {"first", "count"}, name); !s) return s;
            const auto* first_node = tbl->get("first");
            const auto* count_node = tbl->get("count");
            if (first_node == nullptr || count_node == nullptr) {
                return r_.error(*node, name + ": a table needs both 'first' and 'count'");
            }
            auto f = r_.integer(*first_node, name + ".first");
            if (!f) return std::move(f).error();
            auto c = r_.integer(*count_node, name + ".count");
            if (!c) return std::move(c).error();
            if (*c < 1) return r_.error(*count_node, name + ".count: must be at least 1");
            if (*f < 0 || *f >= static_cast<std::int64_t>(kInvalidId) ||
                *c >= static_cast<std::int64_t>(kInvalidId)) {
                return r_.error(*node, name + ": out of range");
            }
            first = static_cast<std::uint64_t>(*f);
            last = first + static_cast<std::uint64_t>(*c) - 1;
        } else if (node->is_string()) {
            auto text = r_.string(*node, name);
            if (!text) return std::move(text).error();
            if (!parse_id_range(*text, first, last)) {
                return r_.error(*node, name + ": '" + *text +
                                           "' is not a range like \"60000-60999\"");
            }
        } else {
            return r_.error(*node, name + ": expected a string like \"60000-60999\" or a table "
                                          "{ first, count }, got " +
                                          std::string(detail::describe(node->type())));
        }
        if (first == 0) return r_.error(*node, name + ": must not include uid 0 (root)");
        if (last < first) return r_.error(*node, name + ": the range is empty (last < first)");
        if (last >= kInvalidId) {
            return r_.error(*node, name + ": must end below " + std::to_string(kInvalidId));
        }
        p_.box_ids = IdRange{static_cast<std::uint32_t>(first),
                             static_cast<std::uint32_t>(last - first + 1)};
        return {};
    }

    // "A-B", inclusive, with optional spaces around the numbers.
    static bool parse_id_range(std::string_view text, std::uint64_t& first, std::uint64_t& last) {
        const std::size_t dash = text.find('-');
        if (dash == std::string_view::npos) return false;
        auto number = [](std::string_view s, std::uint64_t& out) {
            while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
            while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
            if (s.empty()) return false;
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
            return ec == std::errc() && end == s.data() + s.size();
        };
        return number(text.substr(0, dash), first) && number(text.substr(dash + 1), last);
    }

    const TomlReader& r_;
    Policy& p_;
};

}  // namespace

Result<Policy> parse_policy(std::string_view toml_text, const std::string& source_path) {
    const TomlReader reader(source_path);
    auto root = reader.parse(toml_text);
    if (!root) return std::move(root).error();
    Policy policy;
    policy.source_path = source_path;
    if (auto s = PolicyReader(reader, policy).read(*root); !s) return std::move(s).error();
    return policy;
}

Result<Policy> load_policy_file(const std::filesystem::path& path) {
    auto text = detail::read_document(path, "policy file");
    if (!text) return std::move(text).error();
    return parse_policy(*text, path.string());
}

std::string_view to_string(NetworkMode mode) {
    switch (mode) {
        case NetworkMode::none: return "none";
        case NetworkMode::egress: return "egress";
    }
    return "unknown";
}

}  // namespace sbx::policy
