#include "daemon/jail/network_runtime.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fstream>

namespace sbx::jail {

namespace {

constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";

// /proc/sys/net shows the namespace of the thread that opens it: the daemon's own.
Result<bool> enable_ip_forward() {
    std::string value;
    {
        std::ifstream in(kIpForward);
        if (!(in >> value)) return Error::system(std::string("read ") + kIpForward);
    }
    if (value == "1") return false;
    std::ofstream out(kIpForward);
    out << "1\n";
    out.flush();
    if (!out) return Error::system(std::string("write 1 to ") + kIpForward);
    return true;
}

}  // namespace

Status JailNetwork::release() {
    Status result;
    auto keep_first = [&](Status s) {
        if (!s && result) result = std::move(s);
    };
    // The link first: once it is gone nothing can use the rules; the address slot (inside the
    // link) goes back to the pool only after the rules naming it are gone.
    if (link_) keep_first(link_->remove());
    if (rules_) keep_first(rules_->remove());
    rules_.reset();
    link_.reset();
    netns_.reset();
    return result;
}

Result<std::unique_ptr<NetworkRuntime>> NetworkRuntime::open(NetworkOptions options) {
    std::unique_ptr<NetworkRuntime> rt(new NetworkRuntime(std::move(options)));
    auto sock = RouteSocket::open();
    if (!sock) return std::move(sock).error().within("jail networking");
    rt->host_ = std::make_shared<SharedRouteSocket>(std::move(*sock));
    NetnsPoolOptions pool;
    pool.isolated = rt->options_.isolated_pool;
    pool.egress = rt->options_.egress_pool;
    pool.warn = rt->options_.warn;
    auto started = NetnsPool::start(std::move(pool), rt->host_);
    if (!started) return std::move(started).error().within("jail networking");
    rt->pool_ = std::move(*started);
    return rt;
}

NetworkRuntime::~NetworkRuntime() {
    pool_.reset();   // deletes the prepared veths
    table_.reset();  // then the table
}

Result<std::vector<std::string>> NetworkRuntime::remove_leftover_links() {
    std::vector<std::string> removed;
    auto links = host_->with([](const RouteSocket& s) { return list_jail_links(s, kJailLinkPrefix); });
    if (!links) return std::move(links).error();
    for (const auto& name : *links) {
        auto s = host_->with([&](const RouteSocket& sock) { return delete_link(sock, name); });
        if (!s) return std::move(s).error();
        removed.push_back("veth " + name);
    }
    return removed;
}

Result<std::vector<std::string>> NetworkRuntime::remove_leftovers() {
    if (egress_enabled()) return std::vector<std::string>{};
    // The lock is held only for the look: a none-only daemon claims nothing.
    auto lock = TableOwnerLock::acquire();
    if (!lock)  // a live daemon owns this namespace's table and links
        return std::vector<std::string>{lock.error().message() + "; leaving it and its veths alone"};
    auto table = NftTable::remove_leftover(*lock);
    if (!table) return std::move(table).error();
    auto links = remove_leftover_links();
    if (!links) return std::move(links).error();
    std::vector<std::string> notes;
    if (*table) notes.push_back("removed leftover nftables table inet sandboxd of an earlier run");
    for (const auto& l : *links) notes.push_back("removed leftover " + l + " of an earlier run");
    return notes;
}

Result<std::vector<std::string>> NetworkRuntime::enable_egress() {
    std::vector<std::string> notes;
    if (egress_enabled()) return notes;
    auto addresses = AddressPool::create(options_.egress_range);
    if (!addresses) return std::move(addresses).error();
    auto table = NftTable::create(options_.egress_range, kJailLinkPrefix);
    if (!table) return std::move(table).error();
    if ((*table)->removed_leftover()) notes.push_back("removed leftover nftables table inet sandboxd of an earlier run");
    auto links = remove_leftover_links();
    if (!links) return std::move(links).error();
    for (const auto& l : *links) notes.push_back("removed leftover " + l + " of an earlier run");
    auto forwarding = enable_ip_forward();
    if (!forwarding) return std::move(forwarding).error().within("egress networking needs IPv4 forwarding");
    if (*forwarding) notes.push_back("set net.ipv4.ip_forward = 1 (egress policies need forwarding)");
    addresses_ = std::move(*addresses);
    table_ = std::move(*table);
    pool_->enable_egress(addresses_);
    notes.push_back("egress networking: table inet sandboxd, jail addresses from " + options_.egress_range.to_string() +
                    " (" + std::to_string(addresses_->capacity()) + " jails)");
    return notes;
}

void NetworkRuntime::retire(JailNetwork network) {
    if (network.link() == nullptr) return;  // closing the namespace fd is all there is
    auto held = std::make_shared<JailNetwork>(std::move(network));
    pool_->retire([held, warn = options_.warn] {
        if (auto s = held->release(); !s && warn) warn("removing a jail's network: " + s.error().message());
    });
}

std::optional<JailNetwork> NetworkRuntime::take_isolated() {
    auto ready = pool_->take_isolated();
    if (!ready) return std::nullopt;
    return JailNetwork(std::move(ready->netns), nullptr, nullptr);
}

void NetworkRuntime::take_egress(boost::asio::io_context& io, const nft::PolicyChains& chains,
                                 std::function<void(Result<JailNetwork>)> done) {
    if (!table_) {
        boost::asio::post(io, [done = std::move(done)] {
            done(Error::invalid("egress network", "not enabled in this daemon (no egress policy was loaded)"));
        });
        return;
    }
    pool_->take_egress(io, [this, chains, done = std::move(done)](Result<PreparedNetns> ready) {
        if (!ready) return done(std::move(ready).error());
        const AddressSlot& slot = ready->link->slot();
        auto rules = table_->attach(slot.host_link, slot.jail, chains);
        if (!rules) return done(std::move(rules).error());
        done(JailNetwork(std::move(ready->netns), std::move(ready->link), std::move(*rules)));
    });
}

}  // namespace sbx::jail
