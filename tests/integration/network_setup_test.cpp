// The jail library's networking on the real kernel, inside namespaces the test makes: the whole
// test process moves into a test "host" namespace first (tests/support/test_network.hpp), so the
// pool, the veths, the nftables table and IPv4 forwarding all stay out of the machine's own.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <gtest/gtest.h>
#include <thread>

#include "daemon/jail/network_runtime.hpp"
#include "daemon/jail/nft_table.hpp"
#include "tests/support/jail_harness.hpp"
#include "tests/support/test_network.hpp"

namespace sbx::testing {
namespace {

using namespace std::chrono_literals;
using jail::JobStatus;

TestNetwork* g_net = nullptr;
NetnsGuard* g_inside = nullptr;
std::string g_forward_before;

// Enters the test host namespace before anything else runs (the harness, then the pool thread,
// inherit it), and leaves and deletes it at the end.
class InsideTestNamespace : public ::testing::Environment {
public:
    void SetUp() override {
        g_forward_before = ip_forward();
        const std::string own = netns_of_thread();
        g_net = new TestNetwork();
        g_inside = new NetnsGuard(g_net->host_path());
        if (netns_of_thread() == own || netns_of_thread() != netns_of_file(g_net->host_path())) {
            std::fprintf(stderr, "not inside the test namespace: refusing to go on\n");
            delete g_inside;
            delete g_net;
            std::exit(2);
        }
        auto& h = JailHarness::get();
        jail::NetworkOptions options;
        options.isolated_pool = 2;
        options.egress_pool = 1;
        auto network = jail::NetworkRuntime::open(options);
        if (!network) {
            std::fprintf(stderr, "%s\n", network.error().message().c_str());
            std::exit(2);
        }
        h.runtime().network = std::move(*network);
        auto notes = h.runtime().network->enable_egress();
        if (!notes) {
            std::fprintf(stderr, "%s\n", notes.error().message().c_str());
            std::exit(2);
        }
    }
    // The harness's own environment, registered later, tears down first: its runtime and the
    // network with it are gone (inside the test namespace) by the time this runs.
    void TearDown() override {
        delete g_inside;
        delete g_net;
        EXPECT_EQ(ip_forward(), g_forward_before);  // the machine's own switch, untouched
    }
};
const auto* const g_env = ::testing::AddGlobalTestEnvironment(new InsideTestNamespace);

jail::NetworkRuntime& network() { return *JailHarness::get().runtime().network; }

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Interface names and whether each is up, inside the namespace of `fd`.
std::vector<std::string> links_in(int fd) {
    NetnsGuard inside(fd_path(fd));
    auto sock = jail::RouteSocket::open();
    EXPECT_TRUE(sock.ok());
    auto links = jail::list_links(*sock);
    EXPECT_TRUE(links.ok());
    return links.ok() ? *links : std::vector<std::string>{};
}

std::shared_ptr<const jail::JailTemplate> egress_template(std::vector<std::string> allow) {
    return JailHarness::get().template_with([&](policy::Policy& p) {
        p.network.mode = policy::NetworkMode::egress;
        for (const auto& a : allow) p.network.allow.push_back(*policy::parse_allow_entry(a));
    });
}

jail::JailNetwork take_egress(const jail::JailTemplate& t) {
    boost::asio::io_context io;
    std::optional<Result<jail::JailNetwork>> got;
    network().take_egress(io, t.nft_chains, [&](Result<jail::JailNetwork> n) { got.emplace(std::move(n)); });
    io.run();
    EXPECT_TRUE(got && got->ok()) << (got ? got->error().message() : "no answer");
    return std::move(got->value());
}

// The pool refills in the background: wait up to 2 s for a ready namespace.
std::optional<jail::JailNetwork> wait_isolated() {
    for (int i = 0; i < 200; ++i) {
        if (auto n = network().take_isolated()) return n;
        std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
}

TEST(NetnsPool, IsolatedNamespaceHasOnlyLoopbackAndItIsUp) {
    auto n = wait_isolated();
    ASSERT_TRUE(n);
    EXPECT_EQ(links_in(n->netns_fd()), std::vector<std::string>{"lo"});
    // Up: a socket bound to 127.0.0.1 in there can talk to itself.
    NetnsGuard inside(fd_path(n->netns_fd()));
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    ::close(s);
}

// Until the pool holds its target of ready egress namespaces (one here) and makes no more.
void wait_pool_settled() {
    for (int i = 0; i < 200 && network().pool().ready_egress() < 1; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(network().pool().ready_egress(), 1u);
}

TEST(NetnsPool, EgressNamespaceIsWiredToTheHostAndReleasedInOrder) {
    auto t = egress_template({"203.0.113.10:8080"});
    jail::JailNetwork n = take_egress(*t);
    wait_pool_settled();
    const auto in_use = network().addresses()->in_use();
    ASSERT_NE(n.link(), nullptr);
    const jail::AddressSlot slot = n.link()->slot();
    EXPECT_EQ(links_in(n.netns_fd()), (std::vector<std::string>{"lo", "eth0"}));
    // The daemon's end carries the gateway address; the jail's table names the link.
    EXPECT_NE(g_net->host_addresses().find(slot.host_link + "    inet " + policy::ipv4_to_string(slot.gateway) + "/30"),
              std::string::npos)
        << g_net->host_addresses();
    auto rules = network().table()->list();
    ASSERT_TRUE(rules.ok());
    EXPECT_NE(rules->find("\"" + slot.host_link + "\" : jump " + t->nft_chains.out_chain), std::string::npos) << *rules;

    ASSERT_TRUE(n.release().ok());
    auto links = g_net->host_links();
    EXPECT_EQ(std::find(links.begin(), links.end(), slot.host_link), links.end());
    rules = network().table()->list();
    EXPECT_EQ(rules->find("\"" + slot.host_link + "\""), std::string::npos) << *rules;
    EXPECT_EQ(rules->find(t->nft_chains.out_chain), std::string::npos) << *rules;
    EXPECT_EQ(network().addresses()->in_use(), in_use - 1);  // the slot went back
}

TEST(NetnsPool, JobsOfOnePolicyShareItsChainsUntilTheLastEnds) {
    auto t = egress_template({"203.0.113.10"});
    auto a = take_egress(*t);
    auto b = take_egress(*t);
    auto count = [](const std::string& text, const std::string& what) {
        std::size_t n = 0;
        for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
        return n;
    };
    auto rules = network().table()->list();
    EXPECT_EQ(count(*rules, "chain " + t->nft_chains.out_chain + " {"), 1u) << *rules;
    ASSERT_TRUE(a.release().ok());
    rules = network().table()->list();
    EXPECT_EQ(count(*rules, "chain " + t->nft_chains.out_chain + " {"), 1u) << *rules;
    ASSERT_TRUE(b.release().ok());
    rules = network().table()->list();
    EXPECT_EQ(count(*rules, "chain " + t->nft_chains.out_chain), 0u) << *rules;
    EXPECT_EQ(network().table()->policies_in_use(), 0u);
}

TEST(NftTable, OneOwnerPerNamespaceAndLeftoversAreReplaced) {
    // The harness's runtime owns the table: nobody else in this namespace may take it.
    auto second = jail::NftTable::create(*policy::parse_ipv4_cidr("10.232.0.0/16"), "sbx");
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().message().find("another sandboxd in this network namespace owns it"), std::string::npos)
        << second.error().message();
    auto lock = jail::TableOwnerLock::acquire();
    EXPECT_FALSE(lock.ok());

    // In a namespace of its own, a leftover table (with something a crashed run added) is
    // replaced by a clean one, and the table goes when its owner does.
    TestNetwork other;
    NetnsGuard inside(other.host_path());
    other.run_in(other.host(), {"nft", "add table inet sandboxd; add chain inet sandboxd stale_chain"});
    {
        auto table = jail::NftTable::create(*policy::parse_ipv4_cidr("10.232.0.0/16"), "sbx");
        ASSERT_TRUE(table.ok()) << table.error().message();
        EXPECT_TRUE((*table)->removed_leftover());
        std::string rules = other.host_ruleset();
        EXPECT_EQ(rules.find("stale_chain"), std::string::npos) << rules;
        EXPECT_NE(rules.find("chain from_jail"), std::string::npos) << rules;
    }
    EXPECT_EQ(other.host_ruleset(), "");
    // Without an owner, a none-only daemon's look removes a leftover and creates nothing.
    other.run_in(other.host(), {"nft", "add table inet sandboxd"});
    auto free_lock = jail::TableOwnerLock::acquire();
    ASSERT_TRUE(free_lock.ok()) << free_lock.error().message();
    auto removed = jail::NftTable::remove_leftover(*free_lock);
    ASSERT_TRUE(removed.ok());
    EXPECT_TRUE(*removed);
    EXPECT_EQ(other.host_ruleset(), "");
}

TEST(NetnsPool, WaitingEgressRequestGetsTheErrorWhenAddressesRunOut) {
    // A pool of one address: the second request cannot be served and must hear why.
    TestNetwork other;
    NetnsGuard inside(other.host_path());
    jail::NetworkOptions options;
    options.egress_range = *policy::parse_ipv4_cidr("10.240.0.0/30");
    options.isolated_pool = 0;
    options.egress_pool = 0;
    auto rt = jail::NetworkRuntime::open(options);
    ASSERT_TRUE(rt.ok());
    ASSERT_TRUE((*rt)->enable_egress().ok());
    auto t = egress_template({"203.0.113.10"});
    boost::asio::io_context io;
    std::vector<Result<jail::JailNetwork>> got;
    for (int i = 0; i < 2; ++i)
        (*rt)->take_egress(io, t->nft_chains, [&](Result<jail::JailNetwork> n) { got.push_back(std::move(n)); });
    io.run();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[0].ok());
    ASSERT_FALSE(got[1].ok());
    EXPECT_EQ(got[1].error().message(), "egress address range 10.240.0.0/30: all 1 jail addresses are in use");
    got.clear();
    rt->reset();
    EXPECT_EQ(other.host_ruleset(), "");
    auto links = other.host_links();
    EXPECT_EQ(std::count_if(links.begin(), links.end(), [](const std::string& l) { return l.rfind("sbx", 0) == 0; }), 0);
}

TEST(JailNetworking, EgressJobThroughTheJailLibraryReachesOnlyItsAllowList) {
    auto r = JailHarness::get().run_with(egress_template({"203.0.113.10:8080"}), {"/usr/bin/python3", "-c", R"(
import socket
for port in (8080, 9090):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("203.0.113.10", port))
        print(port, s.recv(64).decode().strip())
    except OSError as e:
        print(port, "timeout" if isinstance(e, socket.timeout) else e)
)"});
    EXPECT_EQ(r.status, JobStatus::ok) << r.message << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "8080 hello 8080\n9090 timeout\n");
}

TEST(JailNetworking, JailJoinsTheNamespaceItIsGiven) {
    // The setns path: the jail's namespace is the one handed over, not a new one.
    auto n = wait_isolated();
    ASSERT_TRUE(n);
    struct stat st {};
    ASSERT_EQ(fstat(n->netns_fd(), &st), 0);
    auto& h = JailHarness::get();
    auto ws = h.make_workspace(h.default_template()->box_ids, h.default_limits().tmpfs_bytes);
    ASSERT_TRUE(ws.ok());
    jail::ExecRequest req;
    req.name = h.next_name();
    req.argv = {"/usr/bin/readlink", "/proc/self/ns/net"};
    req.limits = h.default_limits();
    req.netns_fd = n->netns_fd();
    auto r = jail::execute(h.runtime(), h.default_template(), *ws, std::move(req));
    EXPECT_EQ(r.status, JobStatus::ok) << r.message;
    EXPECT_EQ(r.stdout_data, "net:[" + std::to_string(st.st_ino) + "]\n");
}

TEST(JailNetworking, NoneJobOfThePoolSeesOnlyLoopback) {
    auto r = JailHarness::get().py("import socket\nprint(socket.if_nameindex())");
    EXPECT_EQ(r.status, JobStatus::ok) << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "[(1, 'lo')]\n");
}

}  // namespace
}  // namespace sbx::testing
