// Network namespaces for tests that touch networking: a "host" namespace where sandboxd (or
// the jail library) runs, and a "world" namespace playing the outside, joined by a veth:
//
//   host  wan0 192.0.2.1/24, default route via the world; a TCP service on 0.0.0.0:7070 (the
//         host's own services, on its loopback and every address)
//   world wan0 192.0.2.2/24; on lo 203.0.113.10 (documentation range), 10.99.0.10 (private)
//         and 100.1.2.3 (a public-looking address); TCP 8080 and 9090 answer "hello <port>"
//         and stay open until the client closes; TCP 8082 streams 8 MiB; UDP 53 and 5353 echo
//
// Nothing here changes the machine's own namespace: namespaces are made with `ip netns add`
// and deleted in the destructor; namespaces (and their servers) of test processes that died
// are deleted first. Every service records the peers it accepted, so tests can prove that
// nothing reached them.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace sbx::testing {

class TestNetwork {
public:
    TestNetwork();  // aborts the test program when a step fails (a broken fixture proves nothing)
    ~TestNetwork();
    TestNetwork(const TestNetwork&) = delete;
    TestNetwork& operator=(const TestNetwork&) = delete;

    const std::string& host() const { return host_; }
    const std::string& world() const { return world_; }
    std::string host_path() const { return "/run/netns/" + host_; }

    // Runs argv inside a namespace (`ip netns exec`), returns its stdout; fails the test on a
    // non-zero exit unless `allow_failure`.
    std::string run_in(const std::string& ns, const std::vector<std::string>& argv, bool allow_failure = false) const;
    // `ip -br link` names in the host namespace, and its nftables ruleset.
    std::vector<std::string> host_links() const;
    std::string host_ruleset() const;
    std::string host_addresses() const;  // `ip -4 -o addr` of the host namespace
    // Peers ("203.0.113.10:8080 from 192.0.2.1") the world's and the host's services accepted.
    std::vector<std::string> world_accepted() const;
    std::vector<std::string> host_accepted() const;

private:
    void start_service(const std::string& ns, const std::string& log, pid_t& pid, const std::vector<std::string>& args);

    std::string prefix_;
    std::string host_;
    std::string world_;
    std::string dir_;
    pid_t world_pid_ = -1;
    pid_t host_pid_ = -1;
};

// While alive, the calling thread is in network namespace `path` (threads it starts too).
class NetnsGuard {
public:
    explicit NetnsGuard(const std::string& path);
    ~NetnsGuard();
    NetnsGuard(const NetnsGuard&) = delete;
    NetnsGuard& operator=(const NetnsGuard&) = delete;

private:
    UniqueFd previous_;
};

// "net:[4026531840]": the network namespace of the calling thread, of a process, of a
// namespace file (/run/netns/<name>).
std::string netns_of_thread();
std::string netns_of_process(pid_t pid);
std::string netns_of_file(const std::string& path);
// net.ipv4.ip_forward of the calling thread's namespace.
std::string ip_forward();

}  // namespace sbx::testing
