// Small pieces the compatibility APIs share.
#pragma once

#include <optional>
#include <string>

#include "http-proxy/daemon_pool.hpp"
#include "policy/limits.hpp"
#include "protocol/messages.hpp"

namespace sbx::http {

policy::Duration seconds_to_duration(double seconds);

// A client's own timeout, as APIs without a notion of a server maximum send it (MultiPL-E's
// "timeout": 30): the wall-clock and CPU limits of the run, each lowered to the policy's maximum
// when sandbox-http knows it, so that a generous client timeout is not refused.
void apply_client_timeout(const DaemonPool& daemon, const std::string& policy, double seconds,
                          policy::LimitRequest& limits);

// stdout followed by stderr: for APIs that return one "output".
std::string combined_output(const protocol::ExecutionReport& report);

// The version number in a language's version line ("Python 3.11.2" -> "3.11.2"), or the line.
std::string version_number(const std::string& version_line);

// The stage a client sees as "the program": the compile stage when compiling failed.
const protocol::ExecutionReport& final_stage(const protocol::RunResult& result);

}  // namespace sbx::http
