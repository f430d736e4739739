// A real sandboxd for end-to-end tests: started as a child process on a socket, runtime
// directory and cgroup subtree of its own (named after the test process), with its log in a
// file. Stopped with SIGTERM (SIGKILL after 20 s) and cleaned up, even after kill -9.
// Optionally in a network namespace the test made (tests/support/test_network.hpp).
#pragma once

#include <sys/types.h>

#include <functional>
#include <chrono>
#include <string>
#include <vector>

#include "protocol/client.hpp"
#include "tests/support/host_inspection.hpp"

namespace sbx::testing {

struct DaemonOptions {
    std::string policies_dir;  // default: the source tree's
    std::string languages_dir;
    std::string group = "root";  // the socket's group ("sandbox" lets sandbox-http in)
    std::vector<std::string> extra_args;
    // A network namespace (/run/netns/<name>, made by the test) the daemon runs in; joined with
    // setns before exec, which keeps the daemon's view of /sys (unlike `ip netns exec`).
    std::string netns;
    bool expect_ready = true;  // false: a start that should fail (see wait_exit)
};

class DaemonProcess {
public:
    explicit DaemonProcess(DaemonOptions options = {});
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    const std::string& socket() const { return socket_; }
    const std::string& dir() const { return dir_; }
    const std::string& cgroup_name() const { return cgroup_name_; }
    const std::string& runtime_dir() const { return runtime_dir_; }
    pid_t pid() const { return pid_; }
    std::string log() const;

    protocol::Client client() const;
    void signal(int sig) const;
    // SIGTERM and wait; returns the exit status.
    int stop();
    void kill9();
    void start();
    // The exit status once the daemon has exited (within `timeout`), or -1.
    int wait_exit(std::chrono::milliseconds timeout);

    // Job cgroup directories under this daemon's subtree, over all hierarchies.
    std::vector<std::string> job_cgroups() const;

private:
    void wait_ready();
    void remove_everything();

    DaemonOptions options_;
    std::string dir_;
    std::string socket_;
    std::string runtime_dir_;
    std::string cgroup_name_;
    std::string log_path_;
    pid_t pid_ = -1;
};

// One run request on a fresh connection; a transport error, an error reply or an undecodable
// result fails the calling test and gives an empty result.
protocol::RunResult run_job(const DaemonProcess& daemon, const protocol::RunRequest& request);

// Runs `body` in a child process as uid nobody (keeping group root so the 0660 socket opens);
// returns its exit status (99: could not change identity, 100: did not exit).
int as_nobody(const std::function<int()>& body);

// Paths of the built programs.
std::string sandboxd_binary();
std::string sandboxctl_binary();

}  // namespace sbx::testing
