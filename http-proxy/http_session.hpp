// One client connection of the HTTP server (see http_server.hpp).
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>

#include "http-proxy/exchange.hpp"

namespace sbx::http {

class HttpServer;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(boost::asio::ip::tcp::socket socket, HttpServer& server);
    ~HttpSession();

    void start();
    // Server shutdown: close now when no request is in flight, else after its answer.
    void close_when_idle();
    // End of the grace period: abort the request in flight and close.
    void force_close();

private:
    void read_header();
    void on_header(const boost::system::error_code& ec);
    void read_body();
    void on_request(const boost::system::error_code& ec);
    void dispatch();
    void watch_for_disconnect();
    void send(Response response);
    void write(Response response, bool keep_alive);
    void refuse(HttpStatus status, const std::string& code, const std::string& message);
    void linger();
    void close();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    HttpServer& server_;
    std::weak_ptr<char> server_alive_;
    std::string remote_;
    std::shared_ptr<Exchange> exchange_;  // the request in flight
    unsigned watch_generation_ = 0;
    bool idle_ = true;      // waiting for a request's first bytes
    bool closing_ = false;  // close after the current answer
    bool closed_ = false;
    std::array<char, 16384> discard_{};  // for lingering close
};

}  // namespace sbx::http
