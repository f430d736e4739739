#include "daemon/jobs/stats.hpp"

namespace sbx::jobs {

Stats::Stats()
    : started_(std::chrono::steady_clock::now()),
      bounds_ms_{1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000},
      counts_(bounds_ms_.size(), 0) {}

void Stats::job_finished(const std::string& status, const std::string& language, double latency_ms) {
    ++total_;
    ++by_status_[status];
    ++by_language_[language.empty() ? "exec" : language];
    sum_ms_ += latency_ms;
    for (size_t i = 0; i < bounds_ms_.size(); ++i)
        if (latency_ms <= bounds_ms_[i]) ++counts_[i];
}

protocol::StatsResult Stats::snapshot(std::uint32_t running, std::uint32_t queued) const {
    protocol::StatsResult s;
    s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    s.jobs_total = total_;
    s.by_status = by_status_;
    s.by_language = by_language_;
    s.running = running;
    s.queued = queued;
    s.rejected_busy = rejected_busy_;
    s.latency_bounds_ms = bounds_ms_;
    s.latency_counts = counts_;
    s.latency_sum_ms = sum_ms_;
    return s;
}

}  // namespace sbx::jobs
