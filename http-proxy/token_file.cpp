#include "http-proxy/token_file.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace sbx::http {

namespace {

bool valid_token(const std::string& t) {
    if (t.size() < 16 || t.size() > 256) return false;
    for (unsigned char c : t)
        if (c <= 0x20 || c >= 0x7f) return false;
    return true;
}

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 64) return false;
    for (unsigned char c : n)
        if (!(std::isalnum(c) || c == '_' || c == '.' || c == '-')) return false;
    return true;
}

template <class T>
bool parse_number(const std::string& text, T& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

Result<TokenTable> load_token_file(const std::string& path, const ClientLimits& defaults) {
    std::ifstream in(path);
    if (!in) return Error::system("open token file " + path);
    TokenTable table;
    std::set<std::string> names;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        auto where = [&] { return path + ":" + std::to_string(number); };
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string token, name, option;
        if (!(words >> token)) continue;
        if (!valid_token(token))
            return Error::invalid(where(), "a token must be 16 to 256 printable characters without spaces");
        if (!(words >> name)) return Error::invalid(where(), "the token has no name (TOKEN NAME [OPTION=VALUE]...)");
        if (!valid_name(name)) return Error::invalid(where(), "name '" + name + "' must be 1 to 64 of [A-Za-z0-9_.-]");
        if (table.count(token) != 0) return Error::invalid(where(), "this token is listed twice");
        if (!names.insert(name).second) return Error::invalid(where(), "the name '" + name + "' is used twice");
        TokenEntry entry{name, defaults};
        while (words >> option) {
            auto eq = option.find('=');
            std::string key = option.substr(0, eq);
            std::string value = eq == std::string::npos ? std::string() : option.substr(eq + 1);
            if (key == "rate") {
                double rate = 0;
                if (!parse_number(value, rate) || !(rate >= 0) || !std::isfinite(rate))
                    return Error::invalid(where(), "rate=" + value + ": must be a number of requests per second, 0 or more");
                entry.limits.rate = rate;
            } else if (key == "burst") {
                if (!parse_number(value, entry.limits.burst))
                    return Error::invalid(where(), "burst=" + value + ": must be a whole number of requests");
            } else if (key == "concurrency") {
                if (!parse_number(value, entry.limits.concurrency))
                    return Error::invalid(where(), "concurrency=" + value + ": must be a whole number of requests");
            } else if (key == "sessions") {
                if (!parse_number(value, entry.limits.sessions))
                    return Error::invalid(where(), "sessions=" + value + ": must be a whole number of sessions");
            } else {
                return Error::invalid(where(), "unknown option '" + key + "' (rate, burst, concurrency, sessions)");
            }
        }
        table.emplace(std::move(token), std::move(entry));
    }
    if (in.bad()) return Error::system("read token file " + path);
    if (table.empty()) return Error::invalid(path, "no tokens in the file (use --anonymous for a service without tokens)");
    return table;
}

}  // namespace sbx::http
