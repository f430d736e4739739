// Small file operations on cgroupfs (real or a test's fake tree): open a directory, read or
// write one control file, parse keyed values and pid lists. Errors name the full path.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace sbx::jail::cgfs {

Result<UniqueFd> open_dir(const std::string& path);
// mkdir that accepts an existing directory.
Status ensure_dir(const std::string& path);

Status write_file(int dirfd, const std::string& dir, const char* name, std::string_view value);
Result<std::string> read_file(int dirfd, const std::string& dir, const char* name);
Result<std::uint64_t> read_u64(int dirfd, const std::string& dir, const char* name);

// "key value" lines (memory.events, cpu.stat, memory.oom_control).
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);
std::vector<pid_t> parse_pids(std::string_view text);

// Polls `done` every 200 us until it answers true; after `timeout` fails with "<what> after N ms".
Status wait_until(const std::function<Result<bool>()>& done, std::chrono::milliseconds timeout,
                  const std::string& what);

// Lists the subdirectories of a directory (job cgroups under jobs/).
Result<std::vector<std::string>> list_subdirs(const std::string& path);

}  // namespace sbx::jail::cgfs
