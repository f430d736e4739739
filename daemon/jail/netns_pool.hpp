// Network namespaces made ahead of time by a background thread, so that creating one (about a
// millisecond of kernel work, serialised on a global lock, docs/performance.md) is not on a
// job's path. A jail joins a prepared namespace with setns() instead of CLONE_NEWNET.
//
// Two kinds are kept ready:
//   isolated  `lo` up and nothing else: for policies with network "none"
//   egress    also a veth pair to the daemon's namespace (veth_link.hpp), eth0 addressed from
//             the address pool, the default route via the daemon's end
// A namespace is handed out once and never reused: it goes away with the job's processes.
//
// The worker thread moves itself into each namespace it creates (unshare) to configure it
// through a netlink socket opened there, and returns to the daemon's namespace after each one.
//
// A second thread takes jails' networks apart after their jobs (retire): deleting a veth waits
// for RCU grace periods in the kernel, milliseconds and more under load, which belongs on
// neither the event loop nor a job's path.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "daemon/jail/address_pool.hpp"
#include "daemon/jail/veth_link.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace sbx::jail {

struct PreparedNetns {
    UniqueFd netns;                  // open /proc/thread-self/ns/net of the namespace
    std::unique_ptr<JailLink> link;  // egress only
};

// Makes one namespace now, on the calling thread, which ends up back in the namespace it
// started in (`home_netns`). `addresses` set: egress, else isolated.
Result<PreparedNetns> make_netns(int home_netns, const std::shared_ptr<SharedRouteSocket>& host,
                                 const std::shared_ptr<AddressPool>& addresses);

struct NetnsPoolOptions {
    unsigned isolated = 4;  // isolated namespaces kept ready; 0: none (jails use CLONE_NEWNET)
    unsigned egress = 2;    // egress namespaces kept ready once egress is enabled
    std::function<void(const std::string&)> warn;  // from the worker thread
};

class NetnsPool {
public:
    using EgressHandler = std::function<void(Result<PreparedNetns>)>;

    // `host` is a netlink socket in the daemon's namespace, where the veths' daemon ends go.
    static Result<std::unique_ptr<NetnsPool>> start(NetnsPoolOptions options, std::shared_ptr<SharedRouteSocket> host);
    // Stops the worker; prepared namespaces are dropped (their veths deleted); waiting egress
    // requests get an error.
    ~NetnsPool();
    NetnsPool(const NetnsPool&) = delete;
    NetnsPool& operator=(const NetnsPool&) = delete;

    // From now on egress namespaces get their addresses from `addresses`.
    void enable_egress(std::shared_ptr<AddressPool> addresses);

    // A ready isolated namespace, or nothing (the caller falls back to CLONE_NEWNET).
    std::optional<PreparedNetns> take_isolated();
    // A ready egress namespace: `handler` runs in `io` (never inside this call) with one, or
    // with the error that kept the worker from making it.
    void take_egress(boost::asio::io_context& io, EgressHandler handler);

    std::size_t ready_isolated() const;
    std::size_t ready_egress() const;

    // Runs `work` on the teardown thread, in order. Work queued before destruction still runs.
    void retire(std::function<void()> work);
    // Waits until everything retired so far has run (tests, shutdown).
    void wait_retired();

private:
    NetnsPool(NetnsPoolOptions options, std::shared_ptr<SharedRouteSocket> host, UniqueFd home)
        : options_(std::move(options)), host_(std::move(host)), home_(std::move(home)) {}
    void run();
    void reap();

    struct Waiter {
        boost::asio::io_context* io;
        EgressHandler handler;
        // Keeps io.run() from returning while the request waits for the worker.
        boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
    };
    void deliver(Waiter waiter, Result<PreparedNetns> result);

    NetnsPoolOptions options_;
    std::shared_ptr<SharedRouteSocket> host_;
    UniqueFd home_;  // the daemon's namespace, where the worker returns after each creation
    std::shared_ptr<AddressPool> addresses_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<PreparedNetns> isolated_;
    std::deque<PreparedNetns> egress_;
    std::deque<Waiter> waiters_;
    bool stopping_ = false;
    std::thread worker_;

    std::mutex reap_mutex_;
    std::condition_variable reap_wake_;
    std::condition_variable reaped_;
    std::deque<std::function<void()>> retired_;
    bool reaping_ = false;  // a work item is running
    bool reap_stopping_ = false;
    std::thread reaper_;
};

}  // namespace sbx::jail
