#include "http-proxy/http_session.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <spdlog/spdlog.h>

#include "http-proxy/http_server.hpp"

namespace sbx::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr auto kLingerTime = 5s;
}  // namespace

HttpSession::HttpSession(tcp::socket socket, HttpServer& server)
    : stream_(std::move(socket)), server_(server), server_alive_(server.alive_token()) {
    boost::system::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? std::string("unknown") : endpoint.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
}

HttpSession::~HttpSession() {
    if (!server_alive_.expired()) server_.remove(this);
}

void HttpSession::start() {
    server_.add(this, weak_from_this());
    read_header();
}

void HttpSession::read_header() {
    if (closing_ || server_.shutting_down()) {
        close();
        return;
    }
    idle_ = true;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_.config().max_body);
    stream_.expires_after(server_.config().idle_timeout);
    beast::http::async_read_header(stream_, buffer_, *parser_,
                                   [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                       self->on_header(ec);
                                   });
}

void HttpSession::on_header(const boost::system::error_code& ec) {
    idle_ = false;
    if (closed_) return;
    if (ec == beast::http::error::header_limit) {
        refuse(HttpStatus::request_header_fields_too_large, "headers_too_large",
               "the request's headers are larger than " + std::to_string(kHeaderLimit) + " bytes");
        return;
    }
    if (ec == beast::http::error::body_limit) {
        refuse(HttpStatus::payload_too_large, "too_large",
               "the request body is larger than the limit of " + std::to_string(server_.config().max_body) + " bytes");
        return;
    }
    if (ec) {
        // The client closed, timed out while idle, or sent something that is not HTTP.
        if (ec == beast::http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
            ec == asio::error::connection_reset || ec == asio::error::operation_aborted || buffer_.size() == 0) {
            close();
            return;
        }
        refuse(HttpStatus::bad_request, "malformed_request", "the request is not valid HTTP/1.1: " + ec.message());
        return;
    }
    const auto& header = parser_->get();
    if (beast::http::token_list(header[beast::http::field::expect]).exists("100-continue")) {
        auto cont = std::make_shared<beast::http::response<beast::http::empty_body>>(beast::http::status::continue_,
                                                                                     header.version());
        beast::http::async_write(stream_, *cont,
                                 [self = shared_from_this(), cont](const boost::system::error_code& wec, std::size_t) {
                                     if (wec) {
                                         self->close();
                                         return;
                                     }
                                     self->read_body();
                                 });
        return;
    }
    read_body();
}

void HttpSession::read_body() {
    if (parser_->is_done()) {
        on_request({});
        return;
    }
    stream_.expires_after(server_.config().idle_timeout);
    beast::http::async_read(stream_, buffer_, *parser_,
                            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                self->on_request(ec);
                            });
}

void HttpSession::on_request(const boost::system::error_code& ec) {
    if (closed_) return;
    if (ec == beast::http::error::body_limit) {
        refuse(HttpStatus::payload_too_large, "too_large",
               "the request body is larger than the limit of " + std::to_string(server_.config().max_body) + " bytes");
        return;
    }
    if (ec) {
        if (ec == beast::http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
            ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
            close();
            return;
        }
        refuse(HttpStatus::bad_request, "malformed_request", "the request body could not be read: " + ec.message());
        return;
    }
    dispatch();
}

void HttpSession::dispatch() {
    stream_.expires_never();
    std::weak_ptr<HttpSession> weak = shared_from_this();
    exchange_ = std::make_shared<Exchange>(parser_->release(), remote_, [weak](Response response) {
        if (auto self = weak.lock()) self->send(std::move(response));
    });
    parser_.reset();
    watch_for_disconnect();
    auto exchange = exchange_;
    server_.dispatch(exchange);
}

void HttpSession::watch_for_disconnect() {
    unsigned generation = ++watch_generation_;
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                         generation](const boost::system::error_code& ec) {
        if (ec || generation != self->watch_generation_ || self->closed_ || !self->exchange_ ||
            self->exchange_->answered())
            return;
        char c;
        ssize_t n = ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;  // the next (pipelined) request: it waits for its turn
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            self->watch_for_disconnect();
            return;
        }
        spdlog::debug("client {} disconnected before its answer ({} {})", self->remote_,
                      std::string(self->exchange_->request().method_string()),
                      std::string(self->exchange_->request().target()));
        self->close();  // aborts the exchange, which cancels its job
    });
}

void HttpSession::send(Response response) {
    if (closed_) return;
    ++watch_generation_;
    boost::system::error_code ignored;
    stream_.socket().cancel(ignored);  // the disconnect watch
    bool keep_alive = exchange_ && exchange_->request().keep_alive() && !closing_ && !server_.shutting_down();
    if (exchange_) response.version(exchange_->request().version());
    write(std::move(response), keep_alive);
}

void HttpSession::write(Response response, bool keep_alive) {
    response.keep_alive(keep_alive);
    auto message = std::make_shared<Response>(std::move(response));
    stream_.expires_after(server_.config().idle_timeout);
    beast::http::async_write(stream_, *message, [self = shared_from_this(), message,
                                                 keep_alive](const boost::system::error_code& ec, std::size_t) {
        self->exchange_.reset();
        if (ec) {
            self->close();
            return;
        }
        if (!keep_alive) {
            self->close();
            return;
        }
        self->read_header();
    });
}

// An answer the connection cannot go on after (the request could not be read whole): write it,
// then read and discard what the client still sends for a while before closing, so that it
// sees the answer instead of a reset. The discarding reads into a fixed buffer: a client
// pushing a huge body costs no memory.
void HttpSession::refuse(HttpStatus status, const std::string& code, const std::string& message) {
    closing_ = true;
    ++watch_generation_;
    Response response = native_error({status, code, message, {}});
    response.keep_alive(false);
    auto msg = std::make_shared<Response>(std::move(response));
    stream_.expires_after(server_.config().idle_timeout);
    beast::http::async_write(stream_, *msg, [self = shared_from_this(), msg](const boost::system::error_code& ec,
                                                                             std::size_t) {
        if (ec) {
            self->close();
            return;
        }
        boost::system::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->stream_.expires_after(kLingerTime);
        self->linger();
    });
}

void HttpSession::linger() {
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                                std::size_t) {
        if (ec || self->closed_) {
            self->close();
            return;
        }
        self->linger();
    });
}

void HttpSession::close_when_idle() {
    if (idle_)
        close();
    else
        closing_ = true;
}

void HttpSession::force_close() { close(); }

void HttpSession::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (exchange_ && !exchange_->answered()) {
        auto exchange = std::exchange(exchange_, nullptr);
        exchange->abort();
    }
}

}  // namespace sbx::http
