// Sizes and durations as people write them in policy files and requests.
//   sizes:     "256MiB", "1.5GiB", "64KiB", "100MB" (decimal), "4096" or "4096B" (bytes)
//   durations: "2.5s", "500ms", "250us", "1m", "1h", or a bare number of seconds ("10", "0.5")
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx::policy {

using Duration = std::chrono::microseconds;

Result<std::uint64_t> parse_size(std::string_view text);
Result<Duration> parse_duration(std::string_view text);

// Shortest exact spelling in binary units where it divides ("256MiB", "1536B"); used in messages.
std::string format_size(std::uint64_t bytes);
// "2.5s", "500ms", "250us".
std::string format_duration(Duration d);

}  // namespace sbx::policy
