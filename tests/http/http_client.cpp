#include "tests/http/http_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>

namespace sbx::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string HttpResult::header(const std::string& name) const {
    std::string key;
    for (char c : name) key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    auto it = headers.find(key);
    return it == headers.end() ? std::string() : it->second;
}

nlohmann::json HttpResult::json() const { return nlohmann::json::parse(body, nullptr, false); }

HttpClient::HttpClient(unsigned short port) : socket_(io_), port_(port) {
    boost::system::error_code ec;
    socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
        socket_.close(ec);
        return;
    }
    timeval tv{60, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool HttpClient::send(http::verb method, const std::string& target, const std::string& body, const Headers& headers) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    bool has_type = false;
    for (const auto& [k, v] : headers) {
        req.set(k, v);
        std::string lower;
        for (char c : k) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        has_type = has_type || lower == "content-type";
    }
    if (!body.empty() && !has_type) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    boost::system::error_code ec;
    http::write(socket_, req, ec);
    return !ec;
}

HttpResult HttpClient::receive() {
    HttpResult result;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    boost::system::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    if (ec) {
        result.error = ec.message();
        return result;
    }
    auto& res = parser.get();
    result.status = res.result_int();
    result.body = res.body();
    result.keep_alive = res.keep_alive();
    for (const auto& field : res) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        result.headers[name] = std::string(field.value());
    }
    return result;
}

HttpResult HttpClient::request(http::verb method, const std::string& target, const std::string& body,
                               const Headers& headers) {
    if (!send(method, target, body, headers)) {
        HttpResult r;
        r.error = "send failed";
        return r;
    }
    return receive();
}

void HttpClient::close() {
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
}

}  // namespace sbx::testing
