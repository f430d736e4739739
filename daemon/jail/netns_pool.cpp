#include "daemon/jail/netns_pool.hpp"

#include <fcntl.h>
#include <sched.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>

namespace sbx::jail {

namespace {

// After a failure the worker waits this long before trying again, instead of spinning.
constexpr std::chrono::seconds kRetryDelay{1};

Result<UniqueFd> open_own_netns() {
    UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::system("open /proc/thread-self/ns/net");
    return fd;
}

}  // namespace

Result<PreparedNetns> make_netns(int home_netns, const std::shared_ptr<SharedRouteSocket>& host,
                                 const std::shared_ptr<AddressPool>& addresses) {
    if (::unshare(CLONE_NEWNET) != 0) return Error::system("create network namespace");
    PreparedNetns made;
    auto build = [&]() -> Status {
        auto ns = open_own_netns();
        if (!ns) return std::move(ns).error();
        made.netns = std::move(*ns);
        auto inside = RouteSocket::open();  // bound to the new namespace for good
        if (!inside) return std::move(inside).error();
        if (auto s = bring_up_link(*inside, "lo"); !s) return s;
        if (!addresses) return {};
        auto lease = addresses->acquire();
        if (!lease) return std::move(lease).error();
        AddressSlot slot = lease->slot();
        auto created = host->with(
            [&](const RouteSocket& sock) { return create_jail_veth(sock, slot, made.netns.get()); });
        if (!created) return created;
        made.link = std::make_unique<JailLink>(host, std::move(*lease));
        return configure_jail_interface(*inside, slot);
    };
    Status built = build();
    // Back home whatever happened: the thread must not keep the namespace alive, nor create
    // the next one from inside this one.
    if (::setns(home_netns, CLONE_NEWNET) != 0) return Error::system("return to the daemon's network namespace");
    if (!built) return std::move(built).error();
    return made;
}

Result<std::unique_ptr<NetnsPool>> NetnsPool::start(NetnsPoolOptions options, std::shared_ptr<SharedRouteSocket> host) {
    auto home = open_own_netns();
    if (!home) return std::move(home).error();
    std::unique_ptr<NetnsPool> pool(new NetnsPool(std::move(options), std::move(host), std::move(*home)));
    pool->worker_ = std::thread([p = pool.get()] { p->run(); });
    pool->reaper_ = std::thread([p = pool.get()] { p->reap(); });
    return pool;
}

NetnsPool::~NetnsPool() {
    std::deque<Waiter> waiters;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        waiters.swap(waiters_);
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
    for (auto& w : waiters) deliver(std::move(w), Error::invalid("network namespace pool", "stopped"));
    {
        std::lock_guard lock(reap_mutex_);
        reap_stopping_ = true;
    }
    reap_wake_.notify_all();
    if (reaper_.joinable()) reaper_.join();  // after running what was queued
}

void NetnsPool::retire(std::function<void()> work) {
    {
        std::lock_guard lock(reap_mutex_);
        retired_.push_back(std::move(work));
    }
    reap_wake_.notify_all();
}

void NetnsPool::wait_retired() {
    std::unique_lock lock(reap_mutex_);
    reaped_.wait(lock, [this] { return retired_.empty() && !reaping_; });
}

void NetnsPool::reap() {
    std::unique_lock lock(reap_mutex_);
    for (;;) {
        reap_wake_.wait(lock, [this] { return !retired_.empty() || reap_stopping_; });
        if (retired_.empty()) return;  // stopping, and nothing left
        auto work = std::move(retired_.front());
        retired_.pop_front();
        reaping_ = true;
        lock.unlock();
        work();
        work = nullptr;  // whatever it held goes now, outside the lock
        lock.lock();
        reaping_ = false;
        reaped_.notify_all();
    }
}

void NetnsPool::enable_egress(std::shared_ptr<AddressPool> addresses) {
    {
        std::lock_guard lock(mutex_);
        addresses_ = std::move(addresses);
    }
    wake_.notify_all();
}

std::optional<PreparedNetns> NetnsPool::take_isolated() {
    std::optional<PreparedNetns> out;
    {
        std::lock_guard lock(mutex_);
        if (isolated_.empty()) return out;
        out = std::move(isolated_.front());
        isolated_.pop_front();
    }
    wake_.notify_all();
    return out;
}

void NetnsPool::take_egress(boost::asio::io_context& io, EgressHandler handler) {
    std::unique_lock lock(mutex_);
    if (!egress_.empty()) {
        PreparedNetns ready = std::move(egress_.front());
        egress_.pop_front();
        lock.unlock();
        wake_.notify_all();
        deliver(Waiter{&io, std::move(handler), boost::asio::make_work_guard(io)}, std::move(ready));
        return;
    }
    if (stopping_) {
        lock.unlock();
        deliver(Waiter{&io, std::move(handler), boost::asio::make_work_guard(io)}, Error::invalid("network namespace pool", "stopped"));
        return;
    }
    waiters_.push_back(Waiter{&io, std::move(handler), boost::asio::make_work_guard(io)});
    lock.unlock();
    wake_.notify_all();
}

void NetnsPool::deliver(Waiter waiter, Result<PreparedNetns> result) {
    // Through a shared_ptr: a std::function handler must be copyable, the result is not.
    auto shared = std::make_shared<Result<PreparedNetns>>(std::move(result));
    boost::asio::post(*waiter.io, [handler = std::move(waiter.handler), shared]() { handler(std::move(*shared)); });
    waiter.work.reset();  // the posted handler is the io_context's work now
}

std::size_t NetnsPool::ready_isolated() const {
    std::lock_guard lock(mutex_);
    return isolated_.size();
}

std::size_t NetnsPool::ready_egress() const {
    std::lock_guard lock(mutex_);
    return egress_.size();
}

void NetnsPool::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        // A job waiting comes first, then the isolated kind (every default job uses it), then
        // egress stock.
        bool egress_enabled = addresses_ != nullptr;
        bool for_waiter = egress_enabled && !waiters_.empty();
        bool egress = for_waiter || (egress_enabled && isolated_.size() >= options_.isolated &&
                                     egress_.size() < options_.egress);
        if (!egress && isolated_.size() >= options_.isolated) {
            wake_.wait(lock);
            continue;
        }
        std::shared_ptr<AddressPool> addresses = egress ? addresses_ : nullptr;
        lock.unlock();
        auto made = make_netns(home_.get(), host_, addresses);
        lock.lock();
        if (!made) {
            if (for_waiter && !waiters_.empty()) {
                Waiter w = std::move(waiters_.front());
                waiters_.pop_front();
                deliver(std::move(w), std::move(made).error());
                continue;
            }
            if (options_.warn) options_.warn("preparing a network namespace: " + made.error().message());
            wake_.wait_for(lock, kRetryDelay, [this] { return stopping_; });
            continue;
        }
        if (egress && !waiters_.empty()) {
            Waiter w = std::move(waiters_.front());
            waiters_.pop_front();
            deliver(std::move(w), std::move(*made));
        } else if (egress) {
            egress_.push_back(std::move(*made));
        } else {
            isolated_.push_back(std::move(*made));
        }
    }
}

}  // namespace sbx::jail
