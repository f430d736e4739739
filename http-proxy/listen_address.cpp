#include "http-proxy/listen_address.hpp"

#include <charconv>

namespace sbx::http {

namespace asio = boost::asio;

Result<asio::ip::tcp::endpoint> parse_listen_address(const std::string& text) {
    auto bad = [&](const std::string& why) { return Error::invalid("--listen " + text, why); };
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad("expected ADDR:PORT, e.g. 0.0.0.0:8000 or [::1]:8000");
    std::string host = text.substr(0, colon);
    std::string port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535)
        return bad("the port must be a number from 0 to 65535");
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code error;
    auto address = asio::ip::make_address(host, error);
    if (error) return bad("'" + host + "' is not an IP address");
    return asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace sbx::http
