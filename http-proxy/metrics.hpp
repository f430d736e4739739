// sandbox-http's own counters (requests by route and status, request latency, jobs it relayed
// by status and language, refusals by reason) and their Prometheus text exposition, together
// with the daemon-wide figures of sandboxd's `stats` reply (jobs by status and language, queue
// depth, job latency histogram).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "protocol/messages.hpp"

namespace sbx::http {

class Metrics {
public:
    // Upper bounds of the request-duration histogram, seconds.
    static constexpr std::array<double, 13> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                        1,     2.5,  5,     10,   30,  60};

    void request_started() { ++in_flight_; }
    void request_finished(const std::string& route, const std::string& method, unsigned status, double seconds);
    void job_finished(const std::string& status, const std::string& language);
    void refused(const std::string& reason);
    // Stateful sessions: opened through this proxy, and calls answered, by status and language.
    void session_opened(const std::string& language) { ++sessions_opened_[language]; }
    void session_call_finished(const std::string& status, const std::string& language) {
        ++session_calls_[{status, language}];
    }  // "unauthorized", "rate_limit", "concurrency_limit", "busy", ...

    std::uint64_t requests_total() const;

    // The exposition; `daemon` is the daemon's stats when it answered.
    std::string render(const std::optional<protocol::StatsResult>& daemon, std::size_t daemon_connections) const;

private:
    struct Histogram {
        std::array<std::uint64_t, kBuckets.size()> counts{};  // not cumulative
        std::uint64_t count = 0;
        double sum = 0;
    };
    std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> requests_;
    std::map<std::string, Histogram> durations_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> jobs_;
    std::map<std::string, std::uint64_t> refused_;
    std::map<std::string, std::uint64_t> sessions_opened_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> session_calls_;
    std::int64_t in_flight_ = 0;
};

}  // namespace sbx::http
