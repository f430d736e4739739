#include "http-proxy/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include "http-proxy/http_session.hpp"

namespace sbx::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

HttpServer::HttpServer(asio::io_context& io, const ProxyConfig& config, Dispatch dispatch)
    : io_(io), config_(config), dispatch_(std::move(dispatch)), acceptor_(io), grace_timer_(io) {}

HttpServer::~HttpServer() {
    alive_.reset();
    for (auto& [ptr, weak] : sessions_)
        if (auto session = weak.lock()) session->force_close();
}

Status HttpServer::listen(const tcp::endpoint& endpoint) {
    boost::system::error_code ec;
    const std::string where = "listen on " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && endpoint.protocol() == tcp::v6()) acceptor_.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error::system(where, ec.value());
    return {};
}

tcp::endpoint HttpServer::local_endpoint() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec);
}

void HttpServer::start() { accept(); }

void HttpServer::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || shutting_down_) return;
        if (ec) {
            // Out of file descriptors and the like: log, and go on accepting.
            spdlog::warn("accept: {}", ec.message());
        } else if (sessions_.size() >= config_.max_connections) {
            boost::system::error_code ignored;
            socket.close(ignored);
        } else {
            std::make_shared<HttpSession>(std::move(socket), *this)->start();
        }
        accept();
    });
}

void HttpServer::add(HttpSession* session, std::weak_ptr<HttpSession> weak) { sessions_[session] = std::move(weak); }

void HttpServer::remove(HttpSession* session) {
    sessions_.erase(session);
    if (shutting_down_) maybe_finish_shutdown();
}

void HttpServer::shutdown(std::function<void()> done) {
    if (shutting_down_) return;
    shutting_down_ = true;
    shutdown_done_ = std::move(done);
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    spdlog::info("shutting down: {} connections open; requests in flight get {} s", sessions_.size(),
                 config_.shutdown_grace.count() / 1000.0);
    // Closing may remove sessions from the map: iterate over a copy.
    auto sessions = sessions_;
    for (auto& [ptr, weak] : sessions)
        if (auto session = weak.lock()) session->close_when_idle();
    grace_timer_.expires_after(config_.shutdown_grace);
    grace_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        if (!sessions_.empty()) spdlog::warn("grace period over: closing {} connections", sessions_.size());
        auto left = sessions_;
        for (auto& [ptr, weak] : left)
            if (auto session = weak.lock()) session->force_close();
    });
    asio::post(io_, [this] { maybe_finish_shutdown(); });
}

void HttpServer::maybe_finish_shutdown() {
    if (!sessions_.empty() || !shutdown_done_) return;
    grace_timer_.cancel();
    auto done = std::exchange(shutdown_done_, nullptr);
    done();
}

}  // namespace sbx::http
