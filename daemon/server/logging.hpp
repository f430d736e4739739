// Log set-up: spdlog to stderr (journald adds time and unit under systemd), as text or as JSON
// lines with one object per line.
#pragma once

#include <string>

#include "common/result.hpp"

namespace sbx::server {

enum class LogFormat { text, json };

// `level`: trace, debug, info, warn, error, critical, off.
Status setup_logging(const std::string& level, LogFormat format);

}  // namespace sbx::server
