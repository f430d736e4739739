// Counters the daemon reports through `stats` (and sandbox-http exports as Prometheus metrics).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/messages.hpp"

namespace sbx::jobs {

class Stats {
public:
    Stats();
    void job_finished(const std::string& status, const std::string& language, double latency_ms);
    void rejected_busy() { ++rejected_busy_; }
    protocol::StatsResult snapshot(std::uint32_t running, std::uint32_t queued) const;

private:
    std::chrono::steady_clock::time_point started_;
    std::uint64_t total_ = 0;
    std::uint64_t rejected_busy_ = 0;
    std::map<std::string, std::uint64_t> by_status_;
    std::map<std::string, std::uint64_t> by_language_;
    std::vector<double> bounds_ms_;
    std::vector<std::uint64_t> counts_;  // cumulative per bound, as Prometheus buckets are
    double sum_ms_ = 0;
};

}  // namespace sbx::jobs
