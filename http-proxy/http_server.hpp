// The HTTP/1.1 server of sandbox-http (Boost.Beast over Asio, one event loop): accepts TCP
// connections, reads requests with a body limit enforced while reading, hands each request to
// the dispatcher as an Exchange, and writes the answer. Connections are kept alive between
// requests (closed after --idle-timeout without one).
//
// While a request waits for its answer the connection is watched: a client that disconnects
// aborts its exchange, which cancels the job behind it. A client that half-closes its side
// after sending (shutdown(SHUT_WR)) looks the same and is treated the same.
//
// Graceful shutdown: stop accepting, close idle connections, let requests in flight finish
// (their connections close after the answer) for up to the grace period, then abort the rest.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "http-proxy/exchange.hpp"
#include "http-proxy/proxy_config.hpp"

namespace sbx::http {

class HttpSession;

class HttpServer {
public:
    using Dispatch = std::function<void(const std::shared_ptr<Exchange>&)>;

    HttpServer(boost::asio::io_context& io, const ProxyConfig& config, Dispatch dispatch);
    ~HttpServer();

    // Binds and listens (before privileges are dropped, so that a low port works).
    Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    void start();
    // Graceful shutdown; `done` runs once every connection is closed.
    void shutdown(std::function<void()> done);
    bool shutting_down() const { return shutting_down_; }

    std::size_t connections() const { return sessions_.size(); }
    const ProxyConfig& config() const { return config_; }
    void dispatch(const std::shared_ptr<Exchange>& exchange) { dispatch_(exchange); }

    // Sessions register themselves.
    void add(HttpSession* session, std::weak_ptr<HttpSession> weak);
    void remove(HttpSession* session);
    std::weak_ptr<char> alive_token() const { return alive_; }

private:
    void accept();
    void maybe_finish_shutdown();

    boost::asio::io_context& io_;
    const ProxyConfig& config_;
    Dispatch dispatch_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::map<HttpSession*, std::weak_ptr<HttpSession>> sessions_;
    bool shutting_down_ = false;
    std::function<void()> shutdown_done_;
    boost::asio::steady_timer grace_timer_;
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace sbx::http
