#include "daemon/jobs/output_compare.hpp"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace sbx::jobs {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string_view> lines_trimmed(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
        lines.push_back(line);
        start = end + 1;
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

std::vector<std::string_view> tokens(std::string_view text) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) out.push_back(text.substr(start, i - start));
    }
    return out;
}

bool parse_number(std::string_view token, double& value) {
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    return ec == std::errc() && ptr == token.data() + token.size();
}

bool numbers_close(double a, double b, double tolerance) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (a == b) return true;
    double diff = std::fabs(a - b);
    return diff <= tolerance || diff <= tolerance * std::max(std::fabs(a), std::fabs(b));
}

}  // namespace

bool outputs_match(std::string_view actual, std::string_view expected, protocol::CompareMode mode,
                   double tolerance) {
    switch (mode) {
        case protocol::CompareMode::exact:
            return actual == expected;
        case protocol::CompareMode::trailing_whitespace:
            return lines_trimmed(actual) == lines_trimmed(expected);
        case protocol::CompareMode::tokens:
            return tokens(actual) == tokens(expected);
        case protocol::CompareMode::float_tolerance: {
            auto a = tokens(actual);
            auto e = tokens(expected);
            if (a.size() != e.size()) return false;
            for (size_t i = 0; i < a.size(); ++i) {
                if (a[i] == e[i]) continue;
                double x = 0, y = 0;
                if (!parse_number(a[i], x) || !parse_number(e[i], y) || !numbers_close(x, y, tolerance)) return false;
            }
            return true;
        }
    }
    return false;
}

}  // namespace sbx::jobs
