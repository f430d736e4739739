// API tokens from a file: one token per line with the client's name and, optionally, its own
// limits. Blank lines and '#' comments are ignored.
//
//     # token                            name      options
//     9c1f0e2a7b5d4c3e8f6a1b2c3d4e5f60   grader    rate=50 burst=100 concurrency=32
//     5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d   notebook  sessions=100
//
// A token is 16 to 256 printable characters without spaces; a name is [A-Za-z0-9_.-]+ and is what
// logs and limits refer to. Options not given take the command line's defaults.
#pragma once

#include <map>
#include <string>

#include "common/result.hpp"
#include "http-proxy/access_limits.hpp"

namespace sbx::http {

struct TokenEntry {
    std::string name;
    ClientLimits limits;
};

using TokenTable = std::map<std::string, TokenEntry, std::less<>>;

// Errors are "FILE:LINE: what is wrong". A file without any token is an error too: nobody could
// use the service.
Result<TokenTable> load_token_file(const std::string& path, const ClientLimits& defaults);

}  // namespace sbx::http
