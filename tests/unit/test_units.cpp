// Sizes and durations as written in policy files and requests.
#include <gtest/gtest.h>

#include <limits>

#include "policy/units.hpp"

namespace sbx::policy {
namespace {

using namespace std::chrono_literals;

std::uint64_t size_of(std::string_view text) {
    auto r = parse_size(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.error().message();
    return r.ok() ? *r : 0;
}

Duration duration_of(std::string_view text) {
    auto r = parse_duration(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.error().message();
    return r.ok() ? *r : Duration(-1);
}

std::string size_error(std::string_view text) {
    auto r = parse_size(text);
    EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
    return r.ok() ? std::string() : r.error().message();
}

std::string duration_error(std::string_view text) {
    auto r = parse_duration(text);
    EXPECT_FALSE(r.ok()) << text << " parsed";
    return r.ok() ? std::string() : r.error().message();
}

TEST(ParseSize, BareNumbersAreBytes) {
    EXPECT_EQ(size_of("0"), 0u);
    EXPECT_EQ(size_of("4096"), 4096u);
    EXPECT_EQ(size_of("4096B"), 4096u);
    EXPECT_EQ(size_of("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
}

TEST(ParseSize, BinaryUnits) {
    EXPECT_EQ(size_of("64KiB"), 64u << 10);
    EXPECT_EQ(size_of("256MiB"), 256u << 20);
    EXPECT_EQ(size_of("2GiB"), 2ull << 30);
    EXPECT_EQ(size_of("1TiB"), 1ull << 40);
    EXPECT_EQ(size_of("1K"), 1024u);
    EXPECT_EQ(size_of("3M"), 3u << 20);
    EXPECT_EQ(size_of("1G"), 1ull << 30);
}

TEST(ParseSize, DecimalUnits) {
    EXPECT_EQ(size_of("1KB"), 1000u);
    EXPECT_EQ(size_of("1kB"), 1000u);
    EXPECT_EQ(size_of("100MB"), 100'000'000u);
    EXPECT_EQ(size_of("2GB"), 2'000'000'000u);
    EXPECT_EQ(size_of("1TB"), 1'000'000'000'000u);
}

TEST(ParseSize, FractionsThatAreWholeBytes) {
    EXPECT_EQ(size_of("1.5GiB"), 3ull << 29);
    EXPECT_EQ(size_of("0.5KiB"), 512u);
    EXPECT_EQ(size_of("1.5KB"), 1500u);
    EXPECT_EQ(size_of("2.000B"), 2u);
    EXPECT_EQ(size_of("0.25MiB"), 256u << 10);
}

TEST(ParseSize, SpacesAroundAndBeforeTheUnit) {
    EXPECT_EQ(size_of("256 MiB"), 256u << 20);
    EXPECT_EQ(size_of("  1GiB "), 1ull << 30);
}

TEST(ParseSize, JunkNamesTheText) {
    EXPECT_EQ(size_error("abc"), "invalid size 'abc': expected a number with a unit like 256MiB");
    EXPECT_EQ(size_error(""), "invalid size '': expected a number with a unit like 256MiB");
    EXPECT_EQ(size_error("MiB"), "invalid size 'MiB': expected a number with a unit like 256MiB");
    EXPECT_EQ(size_error(".5MiB"), "invalid size '.5MiB': expected a number with a unit like 256MiB");
    EXPECT_EQ(size_error("1.MiB"), "invalid size '1.MiB': expected a number with a unit like 256MiB");
}

TEST(ParseSize, RejectsNegativeUnknownUnitFractionalBytesAndOverflow) {
    EXPECT_EQ(size_error("-1"), "invalid size '-1': must not be negative");
    EXPECT_EQ(size_error("-5MiB"), "invalid size '-5MiB': must not be negative");
    EXPECT_NE(size_error("5XB").find("unknown unit 'XB'"), std::string::npos);
    EXPECT_NE(size_error("5mib").find("unknown unit 'mib'"), std::string::npos);
    EXPECT_NE(size_error("1e3").find("unknown unit 'e3'"), std::string::npos);
    EXPECT_EQ(size_error("1.5B"), "invalid size '1.5B': not a whole number of bytes");
    EXPECT_EQ(size_error("0.1KiB"), "invalid size '0.1KiB': not a whole number of bytes");
    EXPECT_EQ(size_error("18446744073709551616"), "invalid size '18446744073709551616': too large");
    EXPECT_EQ(size_error("16777216TiB"), "invalid size '16777216TiB': too large");
    EXPECT_EQ(size_error("99999999999999999999999MiB"),
              "invalid size '99999999999999999999999MiB': too large");
}

TEST(ParseSize, LargestValueThatFitsInTebibytes) {
    EXPECT_EQ(size_of("16777215TiB"), 16777215ull << 40);
}

TEST(ParseDuration, Units) {
    EXPECT_EQ(duration_of("250us"), 250us);
    EXPECT_EQ(duration_of("500ms"), 500ms);
    EXPECT_EQ(duration_of("10s"), 10s);
    EXPECT_EQ(duration_of("1m"), 60s);
    EXPECT_EQ(duration_of("1h"), 3600s);
}

TEST(ParseDuration, FractionsAndBareSeconds) {
    EXPECT_EQ(duration_of("2.5s"), Duration(2'500'000));
    EXPECT_EQ(duration_of("0.5"), 500ms);
    EXPECT_EQ(duration_of("10"), 10s);
    EXPECT_EQ(duration_of("0"), 0us);
    EXPECT_EQ(duration_of("1.5ms"), 1500us);
    EXPECT_EQ(duration_of("0.000001s"), 1us);
    EXPECT_EQ(duration_of("1.5m"), 90s);
    EXPECT_EQ(duration_of("2 s"), 2s);
}

TEST(ParseDuration, RejectsJunkNegativeAndSubMicrosecond) {
    EXPECT_EQ(duration_error("abc"),
              "invalid duration 'abc': expected a number with a unit like 10s, 500ms or 250us");
    EXPECT_EQ(duration_error(""),
              "invalid duration '': expected a number with a unit like 10s, 500ms or 250us");
    EXPECT_EQ(duration_error("-1s"), "invalid duration '-1s': must not be negative");
    EXPECT_EQ(duration_error("10 sec"),
              "invalid duration '10 sec': unknown unit 'sec' (use us, ms, s, m, h)");
    EXPECT_EQ(duration_error("0.5us"), "invalid duration '0.5us': not a whole number of microseconds");
    EXPECT_EQ(duration_error("9999999999999h"), "invalid duration '9999999999999h': too large");
    EXPECT_EQ(duration_error("9223372036854775808us"),
              "invalid duration '9223372036854775808us': too large");
}

TEST(FormatSize, UsesTheLargestBinaryUnitThatDivides) {
    EXPECT_EQ(format_size(0), "0B");
    EXPECT_EQ(format_size(1), "1B");
    EXPECT_EQ(format_size(1536), "1536B");
    EXPECT_EQ(format_size(1024), "1KiB");
    EXPECT_EQ(format_size(256ull << 20), "256MiB");
    EXPECT_EQ(format_size(1ull << 30), "1GiB");
    EXPECT_EQ(format_size(3ull << 29), "1536MiB");
    EXPECT_EQ(format_size(5ull << 40), "5TiB");
    EXPECT_EQ(format_size(1'000'000), "1000000B");
}

TEST(FormatDuration, SecondsMillisecondsMicroseconds) {
    EXPECT_EQ(format_duration(Duration(2'500'000)), "2.5s");
    EXPECT_EQ(format_duration(10s), "10s");
    EXPECT_EQ(format_duration(500ms), "500ms");
    EXPECT_EQ(format_duration(1500us), "1.5ms");
    EXPECT_EQ(format_duration(250us), "250us");
    EXPECT_EQ(format_duration(0us), "0s");
    EXPECT_EQ(format_duration(Duration(1'000'001)), "1.000001s");
    EXPECT_EQ(format_duration(3600s), "3600s");
}

TEST(FormatRoundTrip, FormattedValuesParseBack) {
    for (std::uint64_t bytes : {0ull, 1ull, 1536ull, 1ull << 20, 3ull << 29, 1'000'000ull}) {
        EXPECT_EQ(size_of(format_size(bytes)), bytes);
    }
    for (Duration d : {Duration(0), Duration(1), Duration(1500), Duration(2'500'000), Duration(3'600'000'000)}) {
        EXPECT_EQ(duration_of(format_duration(d)), d);
    }
}

}  // namespace
}  // namespace sbx::policy
