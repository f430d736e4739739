// Sizes and durations: "<number><unit>" with an exact decimal number, so "1.5GiB" is exact and
// "1.5B" is refused rather than silently rounded.
#include "policy/units.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <numeric>
#include <optional>

namespace sbx::policy {
namespace {

struct Unit {
    std::string_view name;
    std::uint64_t factor;
};

constexpr std::array<Unit, 15> kSizeUnits{{
    {"", 1},
    {"B", 1},
    {"K", 1ull << 10},
    {"KiB", 1ull << 10},
    {"KB", 1000},
    {"kB", 1000},
    {"M", 1ull << 20},
    {"MiB", 1ull << 20},
    {"MB", 1000ull * 1000},
    {"G", 1ull << 30},
    {"GiB", 1ull << 30},
    {"GB", 1000ull * 1000 * 1000},
    {"T", 1ull << 40},
    {"TiB", 1ull << 40},
    {"TB", 1000ull * 1000 * 1000 * 1000},
}};

constexpr std::array<Unit, 6> kDurationUnits{{
    {"", 1'000'000},  // a bare number is seconds
    {"us", 1},
    {"ms", 1'000},
    {"s", 1'000'000},
    {"m", 60'000'000},
    {"h", 3'600'000'000},
}};

// 10^18 is the largest power of ten in a uint64; more fraction digits than that are refused.
constexpr std::size_t kMaxFractionDigits = 18;

// An exact non-negative decimal: whole + fraction / scale, scale = 10^digits.
struct Decimal {
    std::uint64_t whole = 0;
    std::uint64_t fraction = 0;
    std::uint64_t scale = 1;
};

enum class Problem { none, syntax, negative, unknown_unit, too_large, too_precise, not_whole };

struct Parsed {
    Problem problem = Problem::none;
    std::uint64_t value = 0;
    std::string_view unit;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Reads "digits[.digits]" from the front of `s`, leaving the rest (the unit) in `s`.
std::optional<Decimal> take_decimal(std::string_view& s, Problem& problem) {
    Decimal d;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
        if (__builtin_mul_overflow(d.whole, 10u, &d.whole) ||
            __builtin_add_overflow(d.whole, static_cast<unsigned>(s[i] - '0'), &d.whole)) {
            problem = Problem::too_large;
            return std::nullopt;
        }
    }
    if (i == 0) {
        problem = Problem::syntax;
        return std::nullopt;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        const std::size_t first = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        std::string_view digits = s.substr(first, i - first);
        if (digits.empty()) {
            problem = Problem::syntax;
            return std::nullopt;
        }
        while (!digits.empty() && digits.back() == '0') digits.remove_suffix(1);
        if (digits.size() > kMaxFractionDigits) {
            problem = Problem::too_precise;
            return std::nullopt;
        }
        for (char c : digits) {
            d.fraction = d.fraction * 10 + static_cast<unsigned>(c - '0');
            d.scale *= 10;
        }
    }
    s.remove_prefix(i);
    return d;
}

// whole * factor + fraction * factor / scale, when that is a whole number that fits.
Problem scale_exactly(const Decimal& d, std::uint64_t factor, std::uint64_t& out) {
    // fraction * factor / scale is whole iff (scale / g) divides fraction, g = gcd(factor, scale).
    const std::uint64_t g = std::gcd(factor, d.scale);
    const std::uint64_t denominator = d.scale / g;
    if (d.fraction % denominator != 0) return Problem::not_whole;
    std::uint64_t whole_part = 0;
    std::uint64_t fraction_part = 0;
    if (__builtin_mul_overflow(d.whole, factor, &whole_part) ||
        __builtin_mul_overflow(d.fraction / denominator, factor / g, &fraction_part) ||
        __builtin_add_overflow(whole_part, fraction_part, &out)) {
        return Problem::too_large;
    }
    return Problem::none;
}

template <std::size_t N>
Parsed parse_quantity(std::string_view text, const std::array<Unit, N>& units) {
    Parsed parsed;
    std::string_view s = trim(text);
    if (!s.empty() && s.front() == '-') {
        parsed.problem = Problem::negative;
        return parsed;
    }
    const auto number = take_decimal(s, parsed.problem);
    if (!number) return parsed;
    parsed.unit = trim(s);
    for (const Unit& unit : units) {
        if (unit.name != parsed.unit) continue;
        parsed.problem = scale_exactly(*number, unit.factor, parsed.value);
        return parsed;
    }
    parsed.problem = Problem::unknown_unit;
    return parsed;
}

Error quantity_error(std::string_view kind, std::string_view text, const Parsed& parsed,
                     std::string_view example, std::string_view unit_list,
                     std::string_view whole_of) {
    std::string detail;
    switch (parsed.problem) {
        case Problem::negative: detail = "must not be negative"; break;
        case Problem::unknown_unit:
            detail = "unknown unit '" + std::string(parsed.unit) + "' (use " +
                     std::string(unit_list) + ")";
            break;
        case Problem::too_large: detail = "too large"; break;
        case Problem::too_precise: detail = "too many decimal places"; break;
        case Problem::not_whole: detail = "not a whole number of " + std::string(whole_of); break;
        case Problem::none:
        case Problem::syntax:
            detail = "expected a number with a unit like " + std::string(example);
            break;
    }
    return Error::invalid("invalid " + std::string(kind) + " '" + std::string(text) + "'",
                          std::move(detail));
}

// Digits of `value / scale` with the remainder as a trimmed decimal fraction: (2500, 1000) -> "2.5".
std::string decimal_string(std::uint64_t value, std::uint64_t scale, int fraction_digits) {
    std::string out = std::to_string(value / scale);
    std::uint64_t rest = value % scale;
    if (rest == 0) return out;
    std::string fraction = std::to_string(rest);
    fraction.insert(0, static_cast<std::size_t>(fraction_digits) - fraction.size(), '0');
    while (fraction.back() == '0') fraction.pop_back();
    return out + "." + fraction;
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
    const Parsed parsed = parse_quantity(text, kSizeUnits);
    if (parsed.problem != Problem::none) {
        return quantity_error("size", text, parsed, "256MiB",
                              "B, KiB, MiB, GiB, TiB, K, M, G, T, KB, MB, GB, TB", "bytes");
    }
    return parsed.value;
}

Result<Duration> parse_duration(std::string_view text) {
    Parsed parsed = parse_quantity(text, kDurationUnits);
    if (parsed.problem == Problem::none &&
        parsed.value > static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max())) {
        parsed.problem = Problem::too_large;
    }
    if (parsed.problem != Problem::none) {
        return quantity_error("duration", text, parsed, "10s, 500ms or 250us",
                              "us, ms, s, m, h", "microseconds");
    }
    return Duration(static_cast<Duration::rep>(parsed.value));
}

std::string format_size(std::uint64_t bytes) {
    static constexpr std::array<Unit, 4> kBinary{{
        {"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}}};
    if (bytes != 0) {
        for (const Unit& unit : kBinary) {
            if (bytes % unit.factor == 0) return std::to_string(bytes / unit.factor) + std::string(unit.name);
        }
    }
    return std::to_string(bytes) + "B";
}

std::string format_duration(Duration d) {
    const Duration::rep us = d.count();
    if (us < 0) {
        // Negative durations never come from a parse; spell them for debugging only.
        const auto magnitude = static_cast<std::uint64_t>(-(us + 1)) + 1;
        return "-" + decimal_string(magnitude, 1'000'000, 6) + "s";
    }
    const auto value = static_cast<std::uint64_t>(us);
    if (value == 0) return "0s";
    if (value >= 1'000'000) return decimal_string(value, 1'000'000, 6) + "s";
    if (value >= 1'000) return decimal_string(value, 1'000, 3) + "ms";
    return std::to_string(value) + "us";
}

}  // namespace sbx::policy
