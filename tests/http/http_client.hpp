// A blocking HTTP/1.1 client for the tests (Boost.Beast): one keep-alive connection; send and
// receive may be split to put many requests in flight on many connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/verb.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace sbx::testing {

struct HttpResult {
    int status = 0;  // 0: no answer (the connection failed)
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    bool keep_alive = false;
    std::string error;

    std::string header(const std::string& name) const;
    nlohmann::json json() const;  // null when the body is not JSON
};

using Headers = std::map<std::string, std::string>;

class HttpClient {
public:
    explicit HttpClient(unsigned short port);
    bool connected() const { return socket_.is_open(); }

    HttpResult request(boost::beast::http::verb method, const std::string& target, const std::string& body = "",
                       const Headers& headers = {});
    HttpResult get(const std::string& target, const Headers& headers = {}) {
        return request(boost::beast::http::verb::get, target, "", headers);
    }
    HttpResult post(const std::string& target, const std::string& body, const Headers& headers = {}) {
        return request(boost::beast::http::verb::post, target, body, headers);
    }
    HttpResult post(const std::string& target, const nlohmann::json& body, const Headers& headers = {}) {
        return post(target, body.dump(), headers);
    }

    // Split use: send now, read the answer later.
    bool send(boost::beast::http::verb method, const std::string& target, const std::string& body = "",
              const Headers& headers = {});
    HttpResult receive();

    int fd() { return socket_.native_handle(); }
    void close();

private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
    unsigned short port_;
};

}  // namespace sbx::testing
