// Policy files: the shipped default, every key's forms, and "<file>:<line>: <problem>" errors.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "policy/catalog.hpp"
#include "policy/policy.hpp"

namespace sbx::policy {
namespace {

using namespace std::chrono_literals;

Policy parse_ok(std::string_view text, const std::string& file = "test.toml") {
    auto r = parse_policy(text, file);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : Policy{};
}

// Expects an error at `line` whose message (after "test.toml:<line>: ") contains `what`.
void expect_error(std::string_view text, int line, std::string_view what) {
    auto r = parse_policy(text, "test.toml");
    ASSERT_FALSE(r.ok()) << "parsed:\n" << text;
    const std::string message = r.error().message();
    const std::string prefix = "test.toml:" + std::to_string(line) + ": ";
    EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message << "\n  lacks: " << what;
}

TEST(ShippedDefaultPolicy, HasExactlyTheDocumentedValues) {
    auto r = load_policy_file(source_tree_policy_dir() / "policies" / "default.toml");
    ASSERT_TRUE(r.ok()) << r.error().message();
    const Policy& p = *r;
    EXPECT_EQ(p.name, "default");
    EXPECT_FALSE(p.description.empty());

    const Limits expected{
        .memory_bytes = 256ull << 20,
        .pids = 64,
        .wall_time = 10s,
        .cpu_time = 5s,
        .cpu_cores = 1.0,
        .output_bytes = 1ull << 20,
        .tmpfs_bytes = 64ull << 20,
        .open_files = 256,
        .file_size_bytes = 64ull << 20,
        .stack_bytes = 8ull << 20,
    };
    EXPECT_EQ(p.limits.defaults(), expected);
    // Maximums sized for the heaviest shipped language (a JVM compiler), requests may ask up to them.
    EXPECT_EQ(p.limits.memory_bytes.maximum, 2ull << 30);
    EXPECT_EQ(p.limits.pids.maximum, 512u);
    EXPECT_EQ(p.limits.wall_time.maximum, 120s);
    EXPECT_EQ(p.limits.cpu_time.maximum, 60s);
    EXPECT_EQ(p.limits.cpu_cores.maximum, 2.0);
    EXPECT_EQ(p.limits.tmpfs_bytes.maximum, 512ull << 20);
    EXPECT_EQ(p.limits.file_size_bytes.maximum, 512ull << 20);
    EXPECT_EQ(p.limits.output_bytes.maximum, 1ull << 20);
    EXPECT_EQ(p.limits.open_files.maximum, 256u);
    EXPECT_EQ(p.limits.stack_bytes.maximum, 8ull << 20);

    const std::vector<BindMount> binds{
        {"/usr", "/usr", false, false},
        {"/lib*", "/lib*", false, false},
        {"/bin", "/bin", false, false},
        {"/etc/alternatives", "/etc/alternatives", false, false},
        {"/etc/ld.so.cache", "/etc/ld.so.cache", false, true},
    };
    EXPECT_EQ(p.filesystem.binds, binds);
    EXPECT_EQ(p.filesystem.work_dir, "/work");
    EXPECT_EQ(p.filesystem.hostname, "sandbox");
    EXPECT_FALSE(p.filesystem.dev_shm);
    EXPECT_FALSE(p.filesystem.dev_pts);
    EXPECT_EQ(p.network.mode, NetworkMode::none);
    EXPECT_TRUE(p.seccomp.deny.empty());
    EXPECT_TRUE(p.seccomp.allow.empty());
    EXPECT_EQ(p.access.users, std::vector<std::string>{"root"});
    EXPECT_EQ(p.access.groups, std::vector<std::string>{"sandbox"});
    EXPECT_EQ(p.box_ids.first, 60000u);
    EXPECT_EQ(p.box_ids.count, 1000u);
    const std::map<std::string, std::string> env{{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                                 {"LANG", "C.UTF-8"}};
    EXPECT_EQ(p.env, env);
}

TEST(ParsePolicy, EmptyFileTakesTheBuiltInDefaults) {
    const Policy p = parse_ok("", "/etc/sandboxd/policies/small-1.toml");
    EXPECT_EQ(p.name, "small-1");
    EXPECT_EQ(p.source_path, "/etc/sandboxd/policies/small-1.toml");
    EXPECT_EQ(p.limits, LimitBounds::exactly(Limits{}));
    EXPECT_TRUE(p.filesystem.binds.empty());
    EXPECT_EQ(p.filesystem.work_dir, "/work");
    EXPECT_EQ(p.network.mode, NetworkMode::none);
    EXPECT_EQ(p.box_ids.first, 60000u);
    EXPECT_TRUE(p.access.users.empty());
}

TEST(ParsePolicy, LimitsPlainValuesAndDefaultMaxTables) {
    const Policy p = parse_ok(R"(
name = "judge"
[limits]
memory = { default = "128MiB", max = "1GiB" }
pids = { max = 128 }
wall_time = 30
cpu_time = 2.5
cpu_cores = 0.5
output = 65536
tmpfs = "1.5GiB"
open_files = { default = 64, max = 1024 }
file_size = "10MB"
stack = "16 MiB"
)");
    EXPECT_EQ(p.name, "judge");
    const LimitBounds& l = p.limits;
    EXPECT_EQ(l.memory_bytes, (Bound<std::uint64_t>{128ull << 20, 1ull << 30}));
    EXPECT_EQ(l.pids, (Bound<std::uint32_t>{128, 128}));
    EXPECT_EQ(l.wall_time, (Bound<Duration>{30s, 30s}));
    EXPECT_EQ(l.cpu_time, (Bound<Duration>{2500ms, 2500ms}));
    EXPECT_EQ(l.cpu_cores, (Bound<double>{0.5, 0.5}));
    EXPECT_EQ(l.output_bytes, (Bound<std::uint64_t>{65536, 65536}));
    EXPECT_EQ(l.tmpfs_bytes.maximum, 3ull << 29);
    EXPECT_EQ(l.open_files, (Bound<std::uint32_t>{64, 1024}));
    EXPECT_EQ(l.file_size_bytes.maximum, 10'000'000u);
    EXPECT_EQ(l.stack_bytes.maximum, 16ull << 20);
}

TEST(ParsePolicy, FloatSecondsAreExactMicroseconds) {
    const Policy p = parse_ok("[limits]\nwall_time = 0.1\ncpu_time = { default = 0.25, max = 1 }\n");
    EXPECT_EQ(p.limits.wall_time.maximum, 100ms);
    EXPECT_EQ(p.limits.cpu_time.default_value, 250ms);
    EXPECT_EQ(p.limits.cpu_time.maximum, 1s);
}

TEST(ParsePolicy, AllSections) {
    const Policy p = parse_ok(R"(
description = "with everything"
[filesystem]
read_only = ["/usr", "/lib*"]
writable = ["/var/cache/x"]
work_dir = "/home/box"
hostname = "judge-1.local"
dev_shm = true
dev_pts = true
[[filesystem.bind]]
source = "/opt/data"
target = "/data"
[[filesystem.bind]]
source = "/srv/out"
writable = true
optional = true
[network]
mode = "egress"
[seccomp]
deny = ["ptrace", "personality"]
allow = ["socket"]
[access]
users = ["alice", 1001]
groups = ["judges", "1002"]
[box]
uid_range = { first = 100000, count = 500 }
[env]
HOME = "/home/box"
)");
    EXPECT_EQ(p.description, "with everything");
    const std::vector<BindMount> binds{
        {"/usr", "/usr", false, false},
        {"/lib*", "/lib*", false, false},
        {"/var/cache/x", "/var/cache/x", true, false},
        {"/opt/data", "/data", false, false},
        {"/srv/out", "/srv/out", true, true},
    };
    EXPECT_EQ(p.filesystem.binds, binds);
    EXPECT_EQ(p.filesystem.work_dir, "/home/box");
    EXPECT_EQ(p.filesystem.hostname, "judge-1.local");
    EXPECT_TRUE(p.filesystem.dev_shm);
    EXPECT_TRUE(p.filesystem.dev_pts);
    EXPECT_EQ(p.network.mode, NetworkMode::egress);
    EXPECT_EQ(to_string(p.network.mode), "egress");
    EXPECT_EQ(p.seccomp.deny, (std::vector<std::string>{"ptrace", "personality"}));
    EXPECT_EQ(p.seccomp.allow, std::vector<std::string>{"socket"});
    EXPECT_EQ(p.access.users, (std::vector<std::string>{"alice", "1001"}));
    EXPECT_EQ(p.access.groups, (std::vector<std::string>{"judges", "1002"}));
    EXPECT_EQ(p.box_ids.first, 100000u);
    EXPECT_EQ(p.box_ids.count, 500u);
    EXPECT_EQ(p.env.at("HOME"), "/home/box");
}

TEST(ParsePolicy, UidRangeString) {
    const Policy p = parse_ok("[box]\nuid_range = \"1000-1999\"\n");
    EXPECT_EQ(p.box_ids.first, 1000u);
    EXPECT_EQ(p.box_ids.count, 1000u);
    const Policy one = parse_ok("[box]\nuid_range = \"70000-70000\"\n");
    EXPECT_EQ(one.box_ids.count, 1u);
}

TEST(PolicyErrors, SyntaxErrorCarriesToml) {
    expect_error("name = \"x\"\n[limits]\nmemory = = 3\n", 3, "");
    expect_error("[limits]\npids = 1\npids = 2\n", 3, "pids");
}

TEST(PolicyErrors, UnknownKeys) {
    expect_error("name = \"x\"\n\n[limits]\nmemory = \"1GiB\"\n\n\nmemroy = \"2GiB\"\n", 7,
                 "unknown key 'memroy' in [limits]");
    expect_error("nmae = \"x\"\n", 1, "unknown key 'nmae'");
    expect_error("[limit]\nmemory = 1\n", 1, "unknown key 'limit'");
    expect_error("[filesystem]\n[[filesystem.bind]]\nsource = \"/x\"\nwritabel = true\n", 4,
                 "unknown key 'writabel' in [[filesystem.bind]]");
    expect_error("[limits]\nmemory = { default = 1, maximum = 2 }\n", 2,
                 "unknown key 'maximum' in limits.memory");
    expect_error("[network]\nmode = \"egress\"\nalow = [\"1.1.1.1:53\"]\n", 3,
                 "unknown key 'alow' in [network]");
    expect_error("[box]\nuid_rnage = \"1-2\"\n", 2, "unknown key 'uid_rnage' in [box]");
}

TEST(PolicyErrors, UnknownKeyReportedInFileOrder) {
    // toml++ sorts keys; the first in the file ("zzz", line 2) must be the one reported.
    expect_error("[limits]\nzzz = 1\naaa = 2\n", 2, "unknown key 'zzz'");
}

TEST(PolicyErrors, WrongTypesNameKeyAndType) {
    expect_error("[limits]\npids = \"many\"\n", 2, "limits.pids: expected an integer, got a string");
    expect_error("[limits]\nmemory = true\n", 2, "limits.memory: expected a size");
    expect_error("[limits]\nmemory = 1.5\n", 2, "got a floating-point number");
    expect_error("[limits]\nwall_time = [1]\n", 2, "limits.wall_time: expected a duration");
    expect_error("[limits]\ncpu_cores = \"1\"\n", 2, "limits.cpu_cores: expected a number, got a string");
    expect_error("limits = 5\n", 1, "limits: expected a table, got an integer");
    expect_error("[filesystem]\nread_only = \"/usr\"\n", 2, "filesystem.read_only: expected an array");
    expect_error("[filesystem]\nread_only = [\"/usr\", 5]\n", 2,
                 "filesystem.read_only[1]: expected a string, got an integer");
    expect_error("[filesystem]\ndev_shm = \"yes\"\n", 2, "filesystem.dev_shm: expected a boolean");
    expect_error("name = 7\n", 1, "name: expected a string");
    expect_error("[env]\nX = 1\n", 2, "env.X: expected a string, got an integer");
    expect_error("[box]\nuid_range = 60000\n", 2, "box.uid_range: expected a string");
}

TEST(PolicyErrors, BadLimitValues) {
    expect_error("[limits]\nmemory = \"lots\"\n", 2,
                 "limits.memory: invalid size 'lots': expected a number with a unit like 256MiB");
    expect_error("[limits]\nmemory = 0\n", 2, "limits.memory: must be at least 1 byte");
    expect_error("[limits]\noutput = \"0B\"\n", 2, "limits.output: must be at least 1 byte");
    expect_error("[limits]\nmemory = -5\n", 2, "limits.memory: must not be negative");
    expect_error("[limits]\npids = 0\n", 2, "limits.pids: must be between 1 and 4194304, got 0");
    expect_error("[limits]\npids = 4194305\n", 2, "limits.pids: must be between 1 and 4194304");
    expect_error("[limits]\nwall_time = \"0s\"\n", 2, "limits.wall_time: must be greater than 0");
    expect_error("[limits]\ncpu_time = -1\n", 2, "limits.cpu_time: must be a non-negative number");
    expect_error("[limits]\ncpu_cores = 0\n", 2, "limits.cpu_cores: must be greater than 0");
    expect_error("[limits]\ncpu_cores = 1025\n", 2, "at most 1024");
    expect_error("[limits]\nopen_files = 0\n", 2, "limits.open_files: must be between 1 and");
}

TEST(PolicyErrors, DefaultAboveMax) {
    expect_error("[limits]\nmemory = { default = \"512MiB\", max = \"256MiB\" }\n", 2,
                 "limits.memory: default 512MiB exceeds max 256MiB");
    expect_error("[limits]\n\n[limits.wall_time]\nmax = \"1s\"\ndefault = \"1.5s\"\n", 5,
                 "limits.wall_time: default 1.5s exceeds max 1s");
    expect_error("[limits]\ncpu_cores = { default = 2, max = 1.5 }\n", 2, "default 2 exceeds max 1.5");
    expect_error("[limits]\nmemory = { default = \"1MiB\" }\n", 2, "needs 'max'");
}

TEST(PolicyErrors, PathsMustBeAbsoluteAndNormalized) {
    expect_error("[filesystem]\nread_only = [\n  \"/usr\",\n  \"lib\",\n]\n", 4,
                 "filesystem.read_only[1]: 'lib' must be an absolute path");
    expect_error("[filesystem]\nread_only = [\"/usr/\"]\n", 2, "must not end with '/'");
    expect_error("[filesystem]\nread_only = [\"/usr/../etc\"]\n", 2, "'.' or '..'");
    expect_error("[filesystem]\nread_only = [\"/usr/./lib\"]\n", 2, "'.' or '..'");
    expect_error("[filesystem]\nwritable = [\"//usr\"]\n", 2, "must not contain '//'");
    expect_error("[filesystem]\nread_only = [\"\"]\n", 2, "must not be empty");
    expect_error("[[filesystem.bind]]\nsource = \"opt\"\n", 2,
                 "filesystem.bind.source: 'opt' must be an absolute path");
    expect_error("[[filesystem.bind]]\nsource = \"/opt\"\ntarget = \"data\"\n", 3,
                 "filesystem.bind.target: 'data' must be an absolute path");
    expect_error("[[filesystem.bind]]\ntarget = \"/data\"\n", 1,
                 "filesystem.bind: missing required key 'source'");
    expect_error("[filesystem]\nread_only = [\"/usr\\u0000x\"]\n", 2, "NUL");
}

TEST(PolicyErrors, ReservedBindTargets) {
    expect_error("[filesystem]\nread_only = [\"/\"]\n", 2, "'/' cannot be a bind target");
    expect_error("[filesystem]\nread_only = [\"/proc\"]\n", 2, "'/proc' is reserved");
    expect_error("[filesystem]\nread_only = [\"/dev/shm\"]\n", 2, "'/dev/shm' is reserved");
    expect_error("[filesystem]\nwritable = [\"/tmp\"]\n", 2, "'/tmp' is reserved");
    expect_error("[filesystem]\nread_only = [\"/work\"]\n", 2, "'/work' is the work directory");
    expect_error("[filesystem]\nwork_dir = \"/box\"\nread_only = [\"/box\"]\n", 3,
                 "'/box' is the work directory");
    expect_error("[[filesystem.bind]]\nsource = \"/srv/proc\"\ntarget = \"/proc/x\"\n", 3,
                 "filesystem.bind.target: '/proc/x' is reserved");
    expect_error("[filesystem]\nread_only = [\"/d*\"]\n", 2, "'/d*' could match /dev");
    expect_error("[filesystem]\nread_only = [\"/w?rk\"]\n", 2, "could match the work directory");
    // Not reserved: near misses.
    const Policy p = parse_ok("[filesystem]\nread_only = [\"/devices\", \"/tmpl\", \"/work/data\"]\n");
    EXPECT_EQ(p.filesystem.binds.size(), 3u);
}

TEST(PolicyErrors, BindsTwiceAndGlobTargets) {
    expect_error("[filesystem]\nread_only = [\"/usr\"]\nwritable = [\"/usr\"]\n", 3,
                 "'/usr' is bound twice");
    expect_error("[[filesystem.bind]]\nsource = \"/lib*\"\ntarget = \"/libs\"\n", 3,
                 "a glob source ('/lib*')");
    expect_error("[[filesystem.bind]]\nsource = \"/opt/x\"\ntarget = \"/opt/*\"\n", 3,
                 "must not contain glob characters");
}

TEST(PolicyErrors, WorkDirAndHostname) {
    expect_error("[filesystem]\nwork_dir = \"/tmp\"\n", 2, "filesystem.work_dir: '/tmp' is reserved");
    expect_error("[filesystem]\nwork_dir = \"/proc/1\"\n", 2, "is reserved");
    expect_error("[filesystem]\nwork_dir = \"/\"\n", 2, "'/' cannot be the work directory");
    expect_error("[filesystem]\nwork_dir = \"work\"\n", 2, "must be an absolute path");
    expect_error("[filesystem]\nhostname = \"bad host\"\n", 2,
                 "filesystem.hostname: 'bad host' must be 1 to 64 characters");
    expect_error("[filesystem]\nhostname = \"\"\n", 2, "filesystem.hostname");
    expect_error("[filesystem]\nhostname = \"" + std::string(65, 'a') + "\"\n", 2, "filesystem.hostname");
}

TEST(PolicyErrors, BadUidRanges) {
    expect_error("[box]\nuid_range = \"0-999\"\n", 2, "box.uid_range: must not include uid 0");
    expect_error("[box]\nuid_range = \"60999-60000\"\n", 2, "box.uid_range: the range is empty");
    expect_error("[box]\nuid_range = \"60000\"\n", 2, "is not a range like \"60000-60999\"");
    expect_error("[box]\nuid_range = \"a-b\"\n", 2, "is not a range");
    expect_error("[box]\nuid_range = \"-5-10\"\n", 2, "is not a range");
    expect_error("[box]\nuid_range = \"1000-4294967295\"\n", 2, "must end below 4294967295");
    expect_error("[box]\nuid_range = { first = 1000, count = 0 }\n", 2, "box.uid_range.count: must be at least 1");
    expect_error("[box]\nuid_range = { first = 0, count = 10 }\n", 2, "must not include uid 0");
    expect_error("[box]\nuid_range = { first = 1000 }\n", 2, "needs both 'first' and 'count'");
    expect_error("[box]\nuid_range = { first = 4294967290, count = 10 }\n", 2, "must end below");
}

TEST(PolicyErrors, SeccompNames) {
    expect_error("[seccomp]\ndeny = [\n  \"ptrace\",\n  \"fork2\",\n]\n", 4,
                 "seccomp.deny[1]: unknown system call 'fork2'");
    expect_error("[seccomp]\nallow = [\"\"]\n", 2, "unknown system call ''");
    expect_error("[seccomp]\ndeny = [\"ptrace\"]\nallow = [\"ptrace\"]\n", 3,
                 "'ptrace' is in both seccomp.deny and seccomp.allow");
}

TEST(PolicyErrors, NamesNetworkAccessEnv) {
    expect_error("name = \"Default\"\n", 1, "name: 'Default' must match [a-z0-9][a-z0-9_.-]*");
    expect_error("name = \"-x\"\n", 1, "must match");
    auto r = parse_policy("", "/etc/sandboxd/policies/My Policy.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message().rfind("/etc/sandboxd/policies/My Policy.toml:1: name: ", 0), 0u)
        << r.error().message();
    expect_error("[network]\nmode = \"full\"\n", 2,
                 "network.mode: unknown mode 'full' (expected \"none\" or \"egress\")");
    expect_error("[access]\nusers = [\"\"]\n", 2, "access.users[0]: '' is not a user or group name");
    expect_error("[access]\ngroups = [-1]\n", 2, "access.groups[0]: id -1 is out of range");
    expect_error("[env]\n\"A=B\" = \"x\"\n", 2, "env: invalid variable name 'A=B'");
    expect_error("[env]\n\"\" = \"x\"\n", 2, "env: invalid variable name ''");
}

TEST(ParsePolicy, EgressNetwork) {
    const Policy p = parse_ok(R"(
[network]
mode = "egress"
allow = ["203.0.113.0/24:443", "198.51.100.7", "0.0.0.0/0:80"]
dns = ["192.0.2.53", "192.0.2.54"]
max_connections = 16
bandwidth = "1MiB"
)");
    EXPECT_EQ(p.network.mode, NetworkMode::egress);
    ASSERT_EQ(p.network.allow.size(), 3u);
    EXPECT_EQ(p.network.allow[0], (AllowEntry{{0xCB007100, 24}, 443}));
    EXPECT_EQ(p.network.allow[1], (AllowEntry{{0xC6336407, 32}, 0}));
    EXPECT_EQ(p.network.allow[2], (AllowEntry{{0, 0}, 80}));
    EXPECT_EQ(p.network.dns, (std::vector<Ipv4Cidr>{{0xC0000235, 32}, {0xC0000236, 32}}));
    EXPECT_EQ(p.network.max_connections, 16u);
    EXPECT_EQ(p.network.bandwidth_bytes, 1u << 20);
}

TEST(ParsePolicy, EgressWithoutListsReachesNothingButIsValid) {
    const Policy p = parse_ok("[network]\nmode = \"egress\"\n");
    EXPECT_EQ(p.network.mode, NetworkMode::egress);
    EXPECT_TRUE(p.network.allow.empty());
    EXPECT_TRUE(p.network.dns.empty());
    EXPECT_EQ(p.network.max_connections, 0u);
    EXPECT_EQ(p.network.bandwidth_bytes, 0u);
}

// The egress example in docs/policies.md is a policy that loads, with the values it explains.
TEST(ParsePolicy, DocumentedEgressExampleParses) {
    std::ifstream in(source_tree_policy_dir().parent_path() / "docs" / "policies.md");
    std::stringstream doc;
    doc << in.rdbuf();
    const std::string text = doc.str();
    auto intro = text.find("An egress policy for jobs");
    ASSERT_NE(intro, std::string::npos);
    auto start = text.find("```toml\n", intro);
    auto end = text.find("```\n", start + 8);
    ASSERT_NE(start, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    const Policy p = parse_ok(text.substr(start + 8, end - start - 8));
    EXPECT_EQ(p.name, "api-client");
    EXPECT_EQ(p.network.mode, NetworkMode::egress);
    EXPECT_EQ(p.network.allow, (std::vector<AllowEntry>{{{0xCB007100, 24}, 443}}));
    EXPECT_EQ(p.network.dns, (std::vector<Ipv4Cidr>{{0x09090909, 32}}));
    EXPECT_EQ(p.network.max_connections, 8u);
    EXPECT_EQ(p.network.bandwidth_bytes, 1u << 20);
}

TEST(PolicyErrors, NetworkEgressKeysNeedEgress) {
    expect_error("[network]\nmode = \"none\"\nallow = [\"1.1.1.1:53\"]\n", 3,
                 "network.allow needs mode = \"egress\"");
    // Without a mode the default "none" applies.
    expect_error("[network]\ndns = [\"192.0.2.53\"]\n", 2, "network.dns needs mode = \"egress\"");
    expect_error("[network]\nbandwidth = \"1MiB\"\n", 2, "network.bandwidth needs mode = \"egress\"");
    expect_error("[network]\nmax_connections = 4\n", 2, "network.max_connections needs mode = \"egress\"");
}

TEST(PolicyErrors, NetworkAllowEntries) {
    auto egress = [](const std::string& lines) { return "[network]\nmode = \"egress\"\n" + lines; };
    expect_error(egress("allow = [\n  \"10.0.0.0/8\",\n  \"10.1.2.3/8\",\n]\n"), 5,
                 "network.allow[1]: '10.1.2.3/8': has host bits set; did you mean 10.0.0.0/8?");
    expect_error(egress("allow = [\"10.0.0.0/33\"]\n"), 3, "'10.0.0.0/33': the prefix length must be 0 to 32");
    expect_error(egress("allow = [\"10.0.0.0/\"]\n"), 3, "the prefix length must be 0 to 32");
    expect_error(egress("allow = [\"example.com:443\"]\n"), 3, "network.allow[0]: 'example.com'");
    expect_error(egress("allow = [\"1.2.3.4:0\"]\n"), 3, "'1.2.3.4:0': the port must be 1 to 65535");
    expect_error(egress("allow = [\"1.2.3.4:65536\"]\n"), 3, "the port must be 1 to 65535");
    expect_error(egress("allow = [\"1.2.3.4:\"]\n"), 3, "the port must be 1 to 65535");
    expect_error(egress("allow = [\"2001:db8::/32\"]\n"), 3, "IPv6 is not supported");
    expect_error(egress("allow = [\"[2001:db8::1]:443\"]\n"), 3, "IPv6 is not supported");
    expect_error(egress("allow = [443]\n"), 3, "network.allow[0]: expected a string, got an integer");
    expect_error(egress("allow = \"1.2.3.4\"\n"), 3, "network.allow: expected an array");
    std::string many = "allow = [";
    for (int i = 0; i < 257; ++i) many += "\"1.2.3." + std::to_string(i % 256) + "\",";
    expect_error(egress(many + "]\n"), 3, "network.allow: at most 256 entries");
}

TEST(PolicyErrors, NetworkDnsAndLimits) {
    auto egress = [](const std::string& lines) { return "[network]\nmode = \"egress\"\n" + lines; };
    expect_error(egress("dns = [\"192.0.2.0/24\"]\n"), 3, "network.dns[0]: '192.0.2.0/24': not an IPv4 address");
    expect_error(egress("dns = [\"one.one.one.one\"]\n"), 3, "not an IPv4 address");
    expect_error(egress("dns = [\"2606:4700::1111\"]\n"), 3, "IPv6 is not supported");
    expect_error(egress("dns = [\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\", \"192.0.2.4\"]\n"), 3,
                 "network.dns: at most 3 entries");
    expect_error(egress("max_connections = 0\n"), 3, "network.max_connections: must be 1 to 1000000");
    expect_error(egress("max_connections = \"ten\"\n"), 3, "network.max_connections: expected an integer");
    expect_error(egress("bandwidth = 0\n"), 3, "network.bandwidth: must be at least 1KiB");
    expect_error(egress("bandwidth = \"fast\"\n"), 3, "network.bandwidth: invalid size 'fast'");
}

TEST(LoadPolicyFile, MissingFileNamesIt) {
    auto r = load_policy_file("/nonexistent/sandboxd/p.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(),
              "read policy file /nonexistent/sandboxd/p.toml: No such file or directory");
}

TEST(LoadPolicyFile, DirectoryIsAnError) {
    auto r = load_policy_file(source_tree_policy_dir() / "policies");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("Is a directory"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace sbx::policy
