// --listen ADDR:PORT: "0.0.0.0:8000", "127.0.0.1:8000", "[::1]:8000", "[::]:8000", ":8000" (all
// IPv4 addresses), "localhost:8000". Port 0 picks a free port (the log line says which).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "common/result.hpp"

namespace sbx::http {

Result<boost::asio::ip::tcp::endpoint> parse_listen_address(const std::string& text);

}  // namespace sbx::http
