// A policy: a named set of limits (defaults and maximums), filesystem binds, network mode,
// seccomp additions, the box-uid range and who may use it. Parsed from TOML (docs/policies.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policy/limits.hpp"
#include "policy/network_address.hpp"

namespace sbx::policy {

struct BindMount {
    std::string source;     // absolute host path; may hold a glob ("/lib*"), expanded at jail setup
    std::string target;     // absolute path inside the jail; equals source when not given
    bool writable = false;  // read-only unless asked
    bool optional = false;  // a missing source is skipped instead of failing the job
    bool operator==(const BindMount&) const = default;
};

struct FilesystemPolicy {
    std::vector<BindMount> binds;
    std::string work_dir = "/work";  // the job's writable directory, also its cwd and $HOME
    std::string hostname = "sandbox";
    bool dev_shm = false;            // a size-limited /dev/shm (POSIX shared memory)
    bool dev_pts = false;            // a fresh devpts instance at /dev/pts
};

enum class NetworkMode { none, egress };

// none: the jail has only `lo`. egress: a veth to the daemon's namespace, and nftables rules
// letting it reach only `allow` (never the host, other jails, or private ranges not listed).
struct NetworkPolicy {
    NetworkMode mode = NetworkMode::none;
    std::vector<AllowEntry> allow;
    std::vector<Ipv4Cidr> dns;            // resolvers for the jail's /etc/resolv.conf; port 53 to them is allowed
    std::uint32_t max_connections = 0;    // connections a job may have open at once; 0: no limit
    std::uint64_t bandwidth_bytes = 0;    // bytes per second a job may send, and receive; 0: no limit
    bool operator==(const NetworkPolicy&) const = default;
};

// Changes to the built-in seccomp deny list (daemon/jail/seccomp_filter.cpp).
struct SeccompPolicy {
    std::vector<std::string> deny;   // syscalls denied in addition to the built-in list
    std::vector<std::string> allow;  // syscalls removed from the built-in list
};

// Who may use the policy (root always may). Names or numeric ids, resolved when checked.
struct AccessPolicy {
    std::vector<std::string> users;
    std::vector<std::string> groups;
};

// Box uids (and gids, equal) handed to jobs: [first, first + count).
struct IdRange {
    std::uint32_t first = 60000;
    std::uint32_t count = 1000;
};

struct Policy {
    std::string name;         // from `name`, or the file's stem when absent
    std::string description;
    std::string source_path;  // the file it came from, for messages
    LimitBounds limits = LimitBounds::exactly(Limits{});  // a file's missing limits keep these
    FilesystemPolicy filesystem;
    NetworkPolicy network;
    SeccompPolicy seccomp;
    AccessPolicy access;
    IdRange box_ids;
    std::map<std::string, std::string> env;  // base environment of every job
};

// Errors read "<source_path>:<line>: <what is wrong>".
Result<Policy> parse_policy(std::string_view toml_text, const std::string& source_path);
Result<Policy> load_policy_file(const std::filesystem::path& path);

std::string_view to_string(NetworkMode mode);

}  // namespace sbx::policy
