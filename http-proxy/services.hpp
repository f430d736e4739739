// What the API handlers work with: the daemon connections, metrics, the submissions store and
// the session back end, and the configuration.
#pragma once

#include <boost/asio/io_context.hpp>

#include "http-proxy/daemon_pool.hpp"
#include "http-proxy/metrics.hpp"
#include "http-proxy/proxy_config.hpp"

namespace sbx::http {

class SubmissionStore;
class SessionBackend;

struct Services {
    boost::asio::io_context& io;
    const ProxyConfig& config;
    DaemonPool& daemon;
    Metrics& metrics;
    SubmissionStore& submissions;
    SessionBackend& sessions;
};

}  // namespace sbx::http
