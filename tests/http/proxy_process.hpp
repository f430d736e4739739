// A real sandbox-http for end-to-end tests: started as root with --user sandbox-http (so it runs
// unprivileged, as in production) on 127.0.0.1 and a free port, against a DaemonProcess's
// socket, with its log and database in a directory of its own. Stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sbx::testing {

struct ProxyOptions {
    std::string socket;                 // sandboxd's socket
    std::vector<std::string> args;      // more options: "--anonymous", "--tokens", ...
    std::string tokens;                 // when set: written to a file and passed as --tokens
    std::string user = "sandbox-http";  // empty: no --user
};

class ProxyProcess {
public:
    explicit ProxyProcess(ProxyOptions options);
    ~ProxyProcess();
    ProxyProcess(const ProxyProcess&) = delete;
    ProxyProcess& operator=(const ProxyProcess&) = delete;

    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& dir() const { return dir_; }
    std::string log() const;
    // Resident memory now, KiB (VmRSS).
    long rss_kib() const;
    // The process's real uid.
    long uid() const;
    void signal(int sig) const;
    // SIGTERM and wait (up to `timeout_s`); returns the wait status, -1 if it had to be killed.
    int stop(int timeout_s = 40);
    // Waits for the process to exit by itself (after start-up failed); returns its exit code.
    int wait_exit(int timeout_s = 10);

    // Starts without waiting for the listening line (for start-up failures).
    static ProxyProcess start_only(ProxyOptions options);

private:
    ProxyProcess(ProxyOptions options, bool wait);
    void launch();
    void wait_listening();

    ProxyOptions options_;
    std::string dir_;
    std::string log_path_;
    pid_t pid_ = -1;
    unsigned short port_ = 0;
};

std::string sandbox_http_binary();

}  // namespace sbx::testing
