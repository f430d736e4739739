// sandbox-http's settings, from its command line (main.cpp documents each).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "http-proxy/access_limits.hpp"

namespace sbx::http {

struct ProxyConfig {
    std::string listen = "0.0.0.0:8000";
    std::string socket_path;
    std::string tokens_file;  // empty with `anonymous`
    bool anonymous = false;
    std::string user;  // drop to this user after set-up (required when started as root)
    std::string database = "/var/lib/sandbox-http/submissions.db";
    std::size_t max_body = 16u << 20;
    std::size_t daemon_connections = 4;
    std::chrono::milliseconds request_timeout{120000};  // longest wait for one job (504 after)
    std::chrono::milliseconds idle_timeout{60000};       // keep-alive connections without a request
    std::chrono::milliseconds shutdown_grace{30000};     // requests in flight at SIGTERM get this long
    std::size_t max_connections = 10000;
    // Idle timeout of the sessions the interpreter API opens (its clients cannot ask for one);
    // 0: sandboxd's default.
    std::chrono::milliseconds session_idle_timeout{0};
    ClientLimits default_limits;    // for tokens without their own, and per address when anonymous
};

}  // namespace sbx::http
