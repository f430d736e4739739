// Log set-up: spdlog to stderr, as text or as JSON lines with one object per line. When stderr
// is the journal, lines carry their syslog priority and no time stamp (journald adds both time
// and unit).
#pragma once

#include <string>

#include "common/result.hpp"

namespace sbx::server {

enum class LogFormat { text, json };

// `level`: trace, debug, info, warn, error, critical, off.
Status setup_logging(const std::string& level, LogFormat format);

}  // namespace sbx::server
