// Jail networking end to end: a real sandboxd inside a network namespace the test made (its
// "host"), a second namespace as the outside world (tests/support/test_network.hpp), jobs
// probing what they can reach. Nothing here touches the machine's own network: the daemon's
// nftables table, veths and forwarding switch live in the test's host namespace.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <thread>

#include "policy/catalog.hpp"
#include "tests/e2e/daemon_process.hpp"
#include "tests/support/test_network.hpp"

namespace sbx::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using protocol::Reply;

// Probes targets "tcp:HOST:PORT" / "udp:HOST:PORT" in parallel; prints "<target> <outcome>"
// per line: "connected <banner>", "reply <data>", "timeout", or the errno name.
constexpr const char* kProbe = R"(
import errno, socket, sys, threading
results = {}
def outcome(e):
    return "timeout" if isinstance(e, socket.timeout) else errno.errorcode.get(e.errno, str(e))
def tcp(host, port):
    s = socket.socket()
    s.settimeout(1.5)
    try:
        s.connect((host, port))
        return "connected " + s.recv(64).decode().strip()
    except OSError as e:
        return outcome(e)
def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.5)
    try:
        s.sendto(b"ping", (host, port))
        return "reply " + s.recvfrom(64)[0].decode()
    except OSError as e:
        return outcome(e)
def run(t):
    kind, host, port = t.split(":")
    results[t] = (tcp if kind == "tcp" else udp)(host, int(port))
threads = [threading.Thread(target=run, args=(t,)) for t in sys.argv[1:]]
for th in threads:
    th.start()
for th in threads:
    th.join()
for t in sys.argv[1:]:
    print(t, results[t])
)";

// The jail's view: interfaces, eth0's address, the routes, resolv.conf.
constexpr const char* kShowNetwork = R"(
import socket
print("links", " ".join(n for _, n in socket.if_nameindex()))
for line in open("/proc/net/route").read().splitlines()[1:]:
    f = line.split()
    if f[1] == "00000000":
        print("default via", socket.inet_ntoa(bytes.fromhex(f[2])[::-1]), "dev", f[0])
try:
    print(open("/etc/resolv.conf").read().strip())
except FileNotFoundError:
    print("no resolv.conf")
)";

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Replaces the whole line that starts with `prefix`.
void replace_line(std::string& text, const std::string& prefix, const std::string& line) {
    auto start = text.find("\n" + prefix);
    ASSERT_NE(start, std::string::npos) << prefix;
    auto end = text.find('\n', start + 1);
    text.replace(start + 1, end - start - 1, line);
}

// The shipped default policy with another name and [network] section.
std::string policy_text(const std::string& name, const std::string& network) {
    std::string text = read_file(policy::source_tree_policy_dir() / "policies" / "default.toml");
    replace_line(text, "name = \"default\"", "name = \"" + name + "\"");
    replace_line(text, "mode = \"none\"", network);
    return text;
}

// The words of a line that starts with `key` ("me 10.231.0.2 start 123.4" -> its fields).
std::vector<std::string> fields_of(const std::string& text, const std::string& key) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(key + " ", 0) != 0) continue;
        std::istringstream words(line);
        std::vector<std::string> out;
        std::string w;
        while (words >> w) out.push_back(w);
        return out;
    }
    return {};
}

// Policies: default (none); egress (one address and port, a resolver); open (port 8080
// anywhere public); anywhere (everything, and the private 10/8 that holds the jail range listed
// on purpose: the rules that keep jails apart and off the host must hold even so); limited (one
// address, 2 connections, 64 KiB/s); fast (the same without limits).
std::string write_policies(const std::string& dir, bool with_egress = true) {
    fs::create_directories(dir);
    std::ofstream(dir + "/default.toml") << policy_text("default", "mode = \"none\"");
    if (!with_egress) return dir;
    std::ofstream(dir + "/egress.toml") << policy_text(
        "egress", "mode = \"egress\"\nallow = [\"203.0.113.10:8080\"]\ndns = [\"192.0.2.2\"]");
    std::ofstream(dir + "/open.toml") << policy_text("open", "mode = \"egress\"\nallow = [\"0.0.0.0/0:8080\"]");
    std::ofstream(dir + "/anywhere.toml")
        << policy_text("anywhere", "mode = \"egress\"\nallow = [\"0.0.0.0/0\", \"10.0.0.0/8\", \"192.0.2.0/24\"]");
    std::ofstream(dir + "/limited.toml") << policy_text(
        "limited", "mode = \"egress\"\nallow = [\"203.0.113.10\"]\nmax_connections = 2\nbandwidth = \"64KiB\"");
    std::ofstream(dir + "/fast.toml") << policy_text("fast", "mode = \"egress\"\nallow = [\"203.0.113.10\"]");
    return dir;
}

protocol::RunResult run_job(const DaemonProcess& daemon, const std::string& policy, std::vector<std::string> argv) {
    auto client = daemon.client();
    protocol::RunRequest req;
    req.policy = policy;
    req.argv = std::move(argv);
    auto reply = client.call(req);
    EXPECT_TRUE(reply) << reply.error().message();
    if (!reply) return {};
    EXPECT_EQ(reply->kind, Reply::Kind::result) << reply->error.message;
    auto result = protocol::decode_result<protocol::RunResult>(*reply);
    EXPECT_TRUE(result);
    if (!result) return {};
    EXPECT_EQ(result->run.status, "ok") << result->run.message << "\n" << result->run.stderr_data;
    return *result;
}

std::string python(const DaemonProcess& daemon, const std::string& policy, const std::string& code,
                   const std::vector<std::string>& args = {}) {
    std::vector<std::string> argv = {"/usr/bin/python3", "-c", code};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_job(daemon, policy, std::move(argv)).run.stdout_data;
}

std::map<std::string, std::string> probe(const DaemonProcess& daemon, const std::string& policy,
                                         const std::vector<std::string>& targets) {
    std::map<std::string, std::string> out;
    std::istringstream lines(python(daemon, policy, kProbe, targets));
    std::string line;
    while (std::getline(lines, line)) {
        auto space = line.find(' ');
        out[line.substr(0, space)] = line.substr(space + 1);
    }
    EXPECT_EQ(out.size(), targets.size());
    return out;
}

std::size_t count_matching(const std::vector<std::string>& lines, const std::string& needle) {
    return static_cast<std::size_t>(
        std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; }));
}

std::vector<std::string> jail_links(const std::vector<std::string>& links) {
    std::vector<std::string> out;
    for (const auto& l : links)
        if (l.rfind("sbx", 0) == 0) out.push_back(l);
    return out;
}

// A jail's veth and rules are taken apart just after its job, off the job's path: wait for it
// (up to 5 s) before looking.
template <class F>
bool eventually(F done) {
    for (int i = 0; i < 250; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

// The daemon's end of the veth of the jail with address `jail_address` (10.231.A.B, slot = offset / 4).
std::string host_link_of(const std::string& jail_address) {
    unsigned a, b, c, d;
    if (std::sscanf(jail_address.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return "?";
    return "sbx" + std::to_string(((c << 8) | d) / 4);
}

class NetworkE2E : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        forward_before_ = ip_forward();
        net_ = new TestNetwork();
        dir_ = "/tmp/" + net_->host() + "-policies";
        daemon_ = new DaemonProcess({.policies_dir = write_policies(dir_), .netns = net_->host()});
    }
    static void TearDownTestSuite() {
        delete daemon_;
        delete net_;
        std::error_code ec;
        fs::remove_all(dir_, ec);
        // The machine's own forwarding switch was never touched.
        EXPECT_EQ(ip_forward(), forward_before_);
    }
    static TestNetwork& net() { return *net_; }
    static DaemonProcess& daemon() { return *daemon_; }

    static inline TestNetwork* net_ = nullptr;
    static inline DaemonProcess* daemon_ = nullptr;
    static inline std::string dir_;
    static inline std::string forward_before_;
};

TEST_F(NetworkE2E, DaemonOwnsItsTableAndForwardingOnlyInItsNamespace) {
    ASSERT_EQ(netns_of_process(daemon().pid()), netns_of_file(net().host_path()));
    ASSERT_NE(netns_of_thread(), netns_of_file(net().host_path()));
    std::string rules = net().host_ruleset();
    EXPECT_NE(rules.find("table inet sandboxd"), std::string::npos) << rules;
    // The only table in the namespace, and no base chain drops by policy.
    EXPECT_EQ(rules.find("table ", rules.find("table inet sandboxd") + 1), std::string::npos) << rules;
    EXPECT_EQ(rules.find("policy drop"), std::string::npos) << rules;
    EXPECT_EQ(net().run_in(net().host(), {"cat", "/proc/sys/net/ipv4/ip_forward"}), "1\n");
    EXPECT_NE(daemon().log().find("set net.ipv4.ip_forward = 1"), std::string::npos) << daemon().log();
}

TEST_F(NetworkE2E, NoneJobSeesOnlyLoopbackAndReachesNothing) {
    EXPECT_EQ(python(daemon(), "default", kShowNetwork), "links lo\nno resolv.conf\n");
    auto r = probe(daemon(), "default",
                   {"tcp:203.0.113.10:8080", "tcp:192.0.2.1:7070", "tcp:192.0.2.2:8080", "tcp:127.0.0.1:7070",
                    "udp:192.0.2.2:53"});
    EXPECT_EQ(r["tcp:203.0.113.10:8080"], "ENETUNREACH");
    EXPECT_EQ(r["tcp:192.0.2.1:7070"], "ENETUNREACH");
    EXPECT_EQ(r["tcp:192.0.2.2:8080"], "ENETUNREACH");
    EXPECT_EQ(r["tcp:127.0.0.1:7070"], "ECONNREFUSED");  // its own loopback, not the host's
    EXPECT_EQ(r["udp:192.0.2.2:53"], "ENETUNREACH");
    EXPECT_TRUE(net().host_accepted().empty());
    EXPECT_TRUE(net().world_accepted().empty());
}

TEST_F(NetworkE2E, EgressJobHasItsInterfaceRouteAndResolver) {
    std::string view = python(daemon(), "egress", kShowNetwork);
    auto route = fields_of(view, "default");
    ASSERT_EQ(route.size(), 5u) << view;
    EXPECT_EQ(route[2].rfind("10.231.", 0), 0u) << view;
    EXPECT_EQ(view, "links lo eth0\ndefault via " + route[2] +
                        " dev eth0\nnameserver 192.0.2.2\noptions timeout:2 attempts:2\n");
}

TEST_F(NetworkE2E, EgressJobReachesTheAllowedAddressAndPortAndNothingElse) {
    auto before = net().world_accepted().size();
    auto r = probe(daemon(), "egress",
                   {"tcp:203.0.113.10:8080", "tcp:203.0.113.10:9090", "tcp:10.99.0.10:8080", "tcp:100.1.2.3:8080",
                    "tcp:192.0.2.2:8080", "udp:192.0.2.2:53", "udp:192.0.2.2:5353", "udp:203.0.113.10:53"});
    EXPECT_EQ(r["tcp:203.0.113.10:8080"], "connected hello 8080");
    EXPECT_EQ(r["tcp:203.0.113.10:9090"], "timeout");  // the address, another port
    EXPECT_EQ(r["tcp:10.99.0.10:8080"], "timeout");    // the port, another address
    EXPECT_EQ(r["tcp:100.1.2.3:8080"], "timeout");
    EXPECT_EQ(r["tcp:192.0.2.2:8080"], "timeout");
    EXPECT_EQ(r["udp:192.0.2.2:53"], "reply ping");     // its resolver, DNS port only
    EXPECT_EQ(r["udp:192.0.2.2:5353"], "timeout");
    EXPECT_EQ(r["udp:203.0.113.10:53"], "timeout");
    auto accepted = net().world_accepted();
    ASSERT_EQ(accepted.size(), before + 2) << ::testing::PrintToString(accepted);
    // Masqueraded: the world saw the host's address, not the jail's.
    EXPECT_EQ(count_matching(accepted, "203.0.113.10:8080 from 192.0.2.1"), 1u);
    EXPECT_EQ(count_matching(accepted, ":53 from 192.0.2.1"), 1u);
}

TEST_F(NetworkE2E, EgressJobCannotReachTheHost) {
    // The host's loopback service, its outside address, its end of the jail's veth (the
    // gateway; the first jail's, the jail's own is found from its route), over TCP and UDP,
    // under a policy that lists all of these networks.
    std::string code = std::string(R"(
import socket, subprocess, sys
gw = [l.split()[2] for l in open("/proc/net/route").read().splitlines()[1:] if l.split()[1] == "00000000"][0]
gw = socket.inet_ntoa(bytes.fromhex(gw)[::-1])
targets = ["tcp:%s:7070" % gw, "udp:%s:7070" % gw, "tcp:192.0.2.1:7070", "udp:192.0.2.1:7070",
           "tcp:10.231.0.1:7070", "tcp:127.0.0.1:7070", "tcp:169.254.169.254:80"]
sys.argv = [""] + targets
)") + kProbe;
    std::istringstream lines(python(daemon(), "anywhere", code));
    std::string line;
    int seen = 0;
    while (std::getline(lines, line)) {
        ++seen;
        if (line.rfind("tcp:127.0.0.1:7070", 0) == 0)
            EXPECT_EQ(line, "tcp:127.0.0.1:7070 ECONNREFUSED");  // the jail's own loopback
        else
            EXPECT_TRUE(line.ends_with(" timeout")) << line;
    }
    EXPECT_EQ(seen, 7);
    EXPECT_TRUE(net().host_accepted().empty()) << ::testing::PrintToString(net().host_accepted());
}

TEST_F(NetworkE2E, AllowingEverythingStillExcludesPrivateRangesNotListed) {
    auto r = probe(daemon(), "open",
                   {"tcp:100.1.2.3:8080", "tcp:100.1.2.3:9090", "tcp:203.0.113.10:8080", "tcp:10.99.0.10:8080",
                    "tcp:192.0.2.2:8080"});
    EXPECT_EQ(r["tcp:100.1.2.3:8080"], "connected hello 8080");
    EXPECT_EQ(r["tcp:100.1.2.3:9090"], "timeout");
    EXPECT_EQ(r["tcp:203.0.113.10:8080"], "timeout");  // documentation range: not listed by itself
    EXPECT_EQ(r["tcp:10.99.0.10:8080"], "timeout");    // private
    EXPECT_EQ(r["tcp:192.0.2.2:8080"], "timeout");
}

TEST_F(NetworkE2E, TwoEgressJobsCannotReachEachOther) {
    // Each job listens, then for 3 s tries every jail address and gateway of the first 32
    // slots but its own; a connection in either direction would show up in its output.
    const std::string code = R"(
import select, socket, time
me = [l.split() for l in open("/proc/net/route").read().splitlines()[1:] if l.split()[1] == "00000000"][0]
gw = socket.inet_ntoa(bytes.fromhex(me[2])[::-1])
mine = gw.rsplit(".", 1)[0] + "." + str(int(gw.rsplit(".", 1)[1]) + 1)
srv = socket.socket()
srv.bind(("0.0.0.0", 6000))
srv.listen(16)
srv.setblocking(False)
start = time.time()
print("me", mine, "start", start)
reached = set()
while time.time() - start < 3:
    socks = {}
    for slot in range(32):
        for last in (1, 2):
            a = "10.231.%d.%d" % ((slot * 4) >> 8, (slot * 4 + last) & 255)
            if a in (mine, gw):
                continue
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((a, 6000))
            socks[s] = a
    _, w, _ = select.select([], list(socks), [], 0.5)
    for s in w:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            reached.add(socks[s])
    for s in socks:
        s.close()
    try:
        c, peer = srv.accept()
        reached.add("accepted from " + peer[0])
    except BlockingIOError:
        pass
print("end", time.time())
print("reached", sorted(reached))
)";
    std::string out[2];
    std::thread jobs[2];
    for (int i = 0; i < 2; ++i) jobs[i] = std::thread([&, i] { out[i] = python(daemon(), "anywhere", code); });
    for (auto& t : jobs) t.join();
    double start[2] = {0, 0}, end[2] = {0, 0};
    std::string me[2];
    for (int i = 0; i < 2; ++i) {
        auto first = fields_of(out[i], "me");
        auto last = fields_of(out[i], "end");
        ASSERT_EQ(first.size(), 4u) << out[i];
        ASSERT_EQ(last.size(), 2u) << out[i];
        EXPECT_NE(out[i].find("\nreached []\n"), std::string::npos) << out[i];
        me[i] = first[1];
        start[i] = std::stod(first[3]);
        end[i] = std::stod(last[1]);
    }
    EXPECT_NE(me[0], me[1]);
    // They ran at the same time.
    EXPECT_LT(std::max(start[0], start[1]), std::min(end[0], end[1]));
}

TEST_F(NetworkE2E, AJobLeavesNoVethAddressOrRuleBehind) {
    std::string view = python(daemon(), "limited", R"(
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", b"eth0"))[20:24]))
)");
    ASSERT_FALSE(view.empty());
    std::string address = view.substr(0, view.size() - 1);
    std::string link = host_link_of(address);
    EXPECT_TRUE(eventually([&] { return net().host_ruleset().find("chain out_") == std::string::npos; }));
    auto links = net().host_links();
    EXPECT_EQ(std::find(links.begin(), links.end(), link), links.end()) << link << " is left";
    // The gateway address of that slot is gone with the link.
    unsigned a, b, c, d;
    ASSERT_EQ(std::sscanf(address.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d), 4);
    std::string gateway = std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." + std::to_string(d - 1);
    EXPECT_EQ(net().host_addresses().find(gateway + "/30"), std::string::npos) << net().host_addresses();
    std::string rules = net().host_ruleset();
    EXPECT_EQ(rules.find("\"" + link + "\""), std::string::npos) << rules;
    EXPECT_EQ(rules.find(address + " "), std::string::npos) << rules;  // no connection count or rate limit left
    // No job is running: no policy chain is left either.
    EXPECT_EQ(rules.find("chain out_"), std::string::npos) << rules;
    EXPECT_EQ(rules.find("chain in_"), std::string::npos) << rules;
}

TEST_F(NetworkE2E, ConnectionLimitStopsTheThirdConnection) {
    auto out = python(daemon(), "limited", R"(
import socket
socks = []
for i in range(3):
    s = socket.socket()
    s.settimeout(1.5)
    try:
        s.connect(("203.0.113.10", 8080))
        print(i, "connected", s.recv(64).decode().strip())
        socks.append(s)
    except OSError as e:
        print(i, "timeout" if isinstance(e, socket.timeout) else e)
for s in socks:
    s.close()
)");
    EXPECT_EQ(out, "0 connected hello 8080\n1 connected hello 8080\n2 timeout\n");
}

TEST_F(NetworkE2E, BandwidthLimitSlowsADownload) {
    // 8 MiB offered; in 2 s at 64 KiB/s the limited job gets a small part of it, the same job
    // without the limit all of it (the bound leaves room for bursts and slow machines).
    const std::string code = R"(
import socket, time
s = socket.socket()
s.settimeout(1)
s.connect(("203.0.113.10", 8082))
got, start = 0, time.time()
while time.time() - start < 2:
    try:
        data = s.recv(65536)
    except socket.timeout:
        continue
    if not data:
        break
    got += len(data)
print(got)
)";
    auto limited = std::stoull(python(daemon(), "limited", code));
    auto fast = std::stoull(python(daemon(), "fast", code));
    EXPECT_LT(limited, 512u * 1024) << "limited job received " << limited << " bytes in 2 s";
    EXPECT_GT(limited, 0u);
    EXPECT_EQ(fast, 8u << 20);
}

TEST_F(NetworkE2E, JailCannotChangeItsNetwork) {
    // No capabilities in the jail: no new address, no route, no raw socket to forge packets,
    // and no way to bring another interface into play.
    auto out = python(daemon(), "egress", R"(
import errno, socket, subprocess
def attempt(name, f):
    try:
        f()
        print(name, "allowed")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
import fcntl, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr = struct.pack("16sH2s4s8s", b"eth0", socket.AF_INET, b"\0\0", socket.inet_aton("192.0.2.1"), b"\0" * 8)
attempt("set address", lambda: fcntl.ioctl(s.fileno(), 0x8916, addr))
flags = struct.pack("16sH14s", b"eth0", 0, b"\0" * 14)
attempt("set link down", lambda: fcntl.ioctl(s.fileno(), 0x8914, flags))
attempt("bind source 192.0.2.1", lambda: socket.socket().bind(("192.0.2.1", 0)))
)");
    EXPECT_EQ(out,
              "raw EPERM\npacket EPERM\nset address EPERM\nset link down EPERM\nbind source 192.0.2.1 EADDRNOTAVAIL\n");
}

// Each test of this suite brings its own namespaces and daemons.
TEST(NetworkLifecycle, CleanShutdownRemovesTheTableAndEveryVeth) {
    TestNetwork net;
    std::string dir = write_policies("/tmp/" + net.host() + "-policies");
    {
        DaemonProcess daemon({.policies_dir = dir, .netns = net.host()});
        EXPECT_NE(net.host_ruleset().find("table inet sandboxd"), std::string::npos);
        EXPECT_EQ(python(daemon, "egress", "print('hi')"), "hi\n");
        EXPECT_EQ(daemon.stop() & 0x7f, 0);
    }
    EXPECT_EQ(net.host_ruleset(), "");
    EXPECT_TRUE(jail_links(net.host_links()).empty()) << ::testing::PrintToString(net.host_links());
    EXPECT_EQ(net.host_addresses().find("10.231."), std::string::npos) << net.host_addresses();
    fs::remove_all(dir);
}

TEST(NetworkLifecycle, WithoutPreparedNamespacesNothingIsLeftAfterJobs) {
    TestNetwork net;
    std::string dir = write_policies("/tmp/" + net.host() + "-policies");
    DaemonProcess daemon({.policies_dir = dir, .extra_args = {"--netns-pool", "0", "--egress-pool", "0"}, .netns = net.host()});
    std::string base = net.host_ruleset();
    for (const char* policy : {"egress", "limited", "default"}) EXPECT_EQ(python(daemon, policy, "print(1)"), "1\n");
    EXPECT_TRUE(eventually([&] { return jail_links(net.host_links()).empty(); }))
        << ::testing::PrintToString(net.host_links());
    EXPECT_TRUE(eventually([&] { return net.host_ruleset() == base; }));  // back to exactly the empty table
    EXPECT_EQ(net.host_ruleset(), base);
    fs::remove_all(dir);
}

TEST(NetworkLifecycle, RestartAfterKillNineRemovesLeftovers) {
    TestNetwork net;
    std::string dir = write_policies("/tmp/" + net.host() + "-policies");
    DaemonProcess daemon({.policies_dir = dir, .netns = net.host()});
    std::thread job([&] {
        auto client = daemon.client();
        protocol::RunRequest req;
        req.policy = "limited";
        req.argv = {"/bin/sleep", "30"};
        (void)client.send(req);
        while (client.read_reply()) {
        }
    });
    // Wait until the job is attached to the table.
    std::string rules;
    for (int i = 0; i < 100 && rules.find("chain out_") == std::string::npos; ++i) {
        std::this_thread::sleep_for(50ms);
        rules = net.host_ruleset();
    }
    ASSERT_NE(rules.find("chain out_"), std::string::npos) << rules;
    daemon.kill9();
    job.join();
    // What a crash leaves: the table with the job's chains and elements. A veth whose jail
    // namespace something still holds would stay too: make one.
    EXPECT_NE(net.host_ruleset().find("chain out_"), std::string::npos);
    net.run_in(net.host(), {"ip", "link", "add", "sbx999", "type", "veth", "peer", "name", "stale0"});
    ASSERT_NE(std::find(net.host_links().begin(), net.host_links().end(), "sbx999"), net.host_links().end());

    daemon.start();
    std::string log = daemon.log();
    EXPECT_NE(log.find("removed leftover nftables table inet sandboxd"), std::string::npos) << log;
    EXPECT_NE(log.find("removed leftover veth sbx999"), std::string::npos) << log;
    auto links = net.host_links();
    EXPECT_EQ(std::find(links.begin(), links.end(), "sbx999"), links.end());
    EXPECT_EQ(std::find(links.begin(), links.end(), "stale0"), links.end());
    rules = net.host_ruleset();
    EXPECT_EQ(rules.find("chain out_"), std::string::npos) << rules;
    EXPECT_EQ(rules.find("elements"), rules.find("elements = { 0.0.0.0/8")) << rules;  // only the fixed set
    EXPECT_EQ(python(daemon, "egress", "print('again')"), "again\n");
    daemon.stop();

    // A daemon with no egress policy still removes a crashed egress run's table, and then
    // leaves the namespace's nftables empty.
    DaemonProcess crashed({.policies_dir = dir, .netns = net.host()});
    crashed.kill9();
    EXPECT_NE(net.host_ruleset().find("table inet sandboxd"), std::string::npos);
    std::string none_dir = write_policies("/tmp/" + net.host() + "-none", false);
    {
        DaemonProcess none_only({.policies_dir = none_dir, .netns = net.host()});
        EXPECT_EQ(net.host_ruleset(), "");
        EXPECT_NE(none_only.log().find("removed leftover nftables table inet sandboxd"), std::string::npos);
        EXPECT_EQ(python(none_only, "default", kShowNetwork), "links lo\nno resolv.conf\n");
    }
    EXPECT_EQ(net.host_ruleset(), "");
    fs::remove_all(dir);
    fs::remove_all(none_dir);
}

TEST(NetworkLifecycle, ReloadAddingAnEgressPolicySetsEgressUp) {
    TestNetwork net;
    std::string dir = write_policies("/tmp/" + net.host() + "-policies", false);
    DaemonProcess daemon({.policies_dir = dir, .netns = net.host()});
    EXPECT_EQ(net.host_ruleset(), "");  // none-only: no table, no forwarding
    EXPECT_EQ(net.run_in(net.host(), {"cat", "/proc/sys/net/ipv4/ip_forward"}), "0\n");
    std::ofstream(dir + "/egress.toml") << policy_text("egress", "mode = \"egress\"\nallow = [\"203.0.113.10:8080\"]");
    auto client = daemon.client();
    auto reply = client.call(protocol::ReloadRequest{});
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->kind, Reply::Kind::result) << reply->error.message;
    EXPECT_NE(net.host_ruleset().find("table inet sandboxd"), std::string::npos);
    auto r = probe(daemon, "egress", {"tcp:203.0.113.10:8080"});
    EXPECT_EQ(r["tcp:203.0.113.10:8080"], "connected hello 8080");
    fs::remove_all(dir);
}

TEST(NetworkLifecycle, SecondDaemonInTheSameNamespaceCannotTakeTheTable) {
    TestNetwork net;
    std::string dir = write_policies("/tmp/" + net.host() + "-policies");
    DaemonProcess first({.policies_dir = dir, .netns = net.host()});
    std::string rules = net.host_ruleset();
    {
        // Its own socket, runtime directory and cgroups; the same network namespace.
        DaemonProcess second({.policies_dir = dir, .netns = net.host(), .expect_ready = false});
        int status = second.wait_exit(20s);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
        EXPECT_NE(second.log().find("another sandboxd in this network namespace owns it"), std::string::npos)
            << second.log();
    }
    EXPECT_EQ(net.host_ruleset(), rules);  // the first daemon's table is untouched
    EXPECT_EQ(python(first, "egress", "print('still here')"), "still here\n");
    fs::remove_all(dir);
}

}  // namespace
}  // namespace sbx::testing
