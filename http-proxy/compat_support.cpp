#include "http-proxy/compat_support.hpp"

#include <cctype>
#include <cmath>

namespace sbx::http {

policy::Duration seconds_to_duration(double seconds) {
    return policy::Duration(static_cast<std::int64_t>(std::llround(seconds * 1e6)));
}

void apply_client_timeout(const DaemonPool& daemon, const std::string& policy, double seconds,
                          policy::LimitRequest& limits) {
    if (!(seconds > 0) || !std::isfinite(seconds)) return;
    policy::Duration wall = seconds_to_duration(seconds);
    policy::Duration cpu = wall;
    if (const protocol::PolicyInfo* info = daemon.policy(policy)) {
        wall = std::min(wall, info->limits.wall_time.maximum);
        cpu = std::min(cpu, info->limits.cpu_time.maximum);
    }
    limits.wall_time = wall;
    limits.cpu_time = cpu;
}

std::string combined_output(const protocol::ExecutionReport& report) { return report.stdout_data + report.stderr_data; }

std::string version_number(const std::string& line) {
    for (size_t i = 0; i < line.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i]))) continue;
        if (i > 0 && (std::isalnum(static_cast<unsigned char>(line[i - 1])) && line[i - 1] != 'v')) continue;
        size_t j = i;
        while (j < line.size() && (std::isdigit(static_cast<unsigned char>(line[j])) || line[j] == '.')) ++j;
        while (j > i && line[j - 1] == '.') --j;
        return line.substr(i, j - i);
    }
    return line;
}

const protocol::ExecutionReport& final_stage(const protocol::RunResult& result) {
    if (result.run.status == "compile_error" && result.compile) return *result.compile;
    return result.run;
}

}  // namespace sbx::http
