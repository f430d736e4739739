#include "http-proxy/metrics.hpp"

#include <cmath>
#include <sstream>

namespace sbx::http {

namespace {

// Label values escape backslash, double quote and newline.
std::string label(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    std::ostringstream s;
    s.precision(10);
    s << v;
    return s.str();
}

}  // namespace

void Metrics::request_finished(const std::string& route, const std::string& method, unsigned status, double seconds) {
    --in_flight_;
    ++requests_[{route, method, status}];
    Histogram& h = durations_[route];
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
        if (seconds <= kBuckets[i]) {
            ++h.counts[i];
            break;
        }
    ++h.count;
    h.sum += seconds;
}

void Metrics::job_finished(const std::string& status, const std::string& language) { ++jobs_[{status, language}]; }

void Metrics::refused(const std::string& reason) { ++refused_[reason]; }

std::uint64_t Metrics::requests_total() const {
    std::uint64_t n = 0;
    for (const auto& [key, count] : requests_) n += count;
    return n;
}

std::string Metrics::render(const std::optional<protocol::StatsResult>& daemon, std::size_t daemon_connections) const {
    std::ostringstream o;
    o << "# HELP sandbox_http_requests_total HTTP requests answered, by route, method and status code.\n"
         "# TYPE sandbox_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
        const auto& [route, method, status] = key;
        o << "sandbox_http_requests_total{route=\"" << label(route) << "\",method=\"" << label(method)
          << "\",code=\"" << status << "\"} " << count << "\n";
    }
    o << "# HELP sandbox_http_request_duration_seconds Time from a request's arrival to its response, by route.\n"
         "# TYPE sandbox_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : durations_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += h.counts[i];
            o << "sandbox_http_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\""
              << number(kBuckets[i]) << "\"} " << cumulative << "\n";
        }
        o << "sandbox_http_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\"+Inf\"} " << h.count
          << "\n";
        o << "sandbox_http_request_duration_seconds_sum{route=\"" << label(route) << "\"} " << number(h.sum) << "\n";
        o << "sandbox_http_request_duration_seconds_count{route=\"" << label(route) << "\"} " << h.count << "\n";
    }
    o << "# HELP sandbox_http_requests_in_flight Requests received and not yet answered.\n"
         "# TYPE sandbox_http_requests_in_flight gauge\n"
      << "sandbox_http_requests_in_flight " << in_flight_ << "\n";
    o << "# HELP sandbox_http_jobs_total Jobs this proxy relayed, by result status and language.\n"
         "# TYPE sandbox_http_jobs_total counter\n";
    for (const auto& [key, count] : jobs_)
        o << "sandbox_http_jobs_total{status=\"" << label(key.first) << "\",language=\"" << label(key.second)
          << "\"} " << count << "\n";
    o << "# HELP sandbox_http_sessions_opened_total Stateful sessions opened through this proxy, by language.\n"
         "# TYPE sandbox_http_sessions_opened_total counter\n";
    for (const auto& [language, count] : sessions_opened_)
        o << "sandbox_http_sessions_opened_total{language=\"" << label(language) << "\"} " << count << "\n";
    o << "# HELP sandbox_http_session_calls_total Calls of stateful sessions answered, by status and language.\n"
         "# TYPE sandbox_http_session_calls_total counter\n";
    for (const auto& [key, count] : session_calls_)
        o << "sandbox_http_session_calls_total{status=\"" << label(key.first) << "\",language=\""
          << label(key.second) << "\"} " << count << "\n";
    o << "# HELP sandbox_http_refused_total Requests refused before reaching a job, by reason.\n"
         "# TYPE sandbox_http_refused_total counter\n";
    for (const auto& [reason, count] : refused_)
        o << "sandbox_http_refused_total{reason=\"" << label(reason) << "\"} " << count << "\n";
    o << "# HELP sandbox_http_daemon_connections Open protocol connections to sandboxd.\n"
         "# TYPE sandbox_http_daemon_connections gauge\n"
      << "sandbox_http_daemon_connections " << daemon_connections << "\n";

    o << "# HELP sandboxd_up Whether sandboxd answered the stats request of this scrape.\n"
         "# TYPE sandboxd_up gauge\n"
      << "sandboxd_up " << (daemon ? 1 : 0) << "\n";
    if (!daemon) return o.str();
    const protocol::StatsResult& s = *daemon;
    o << "# HELP sandboxd_uptime_seconds Seconds since sandboxd started.\n"
         "# TYPE sandboxd_uptime_seconds gauge\n"
      << "sandboxd_uptime_seconds " << number(s.uptime_s) << "\n";
    o << "# HELP sandboxd_jobs_total Jobs finished since sandboxd started, by status.\n"
         "# TYPE sandboxd_jobs_total counter\n";
    for (const auto& [status, count] : s.by_status)
        o << "sandboxd_jobs_total{status=\"" << label(status) << "\"} " << count << "\n";
    o << "# HELP sandboxd_jobs_by_language_total Jobs finished since sandboxd started, by language.\n"
         "# TYPE sandboxd_jobs_by_language_total counter\n";
    for (const auto& [language, count] : s.by_language)
        o << "sandboxd_jobs_by_language_total{language=\"" << label(language) << "\"} " << count << "\n";
    o << "# HELP sandboxd_jobs_running Jobs running now.\n# TYPE sandboxd_jobs_running gauge\n"
      << "sandboxd_jobs_running " << s.running << "\n";
    o << "# HELP sandboxd_queue_depth Jobs waiting for a slot now.\n# TYPE sandboxd_queue_depth gauge\n"
      << "sandboxd_queue_depth " << s.queued << "\n";
    o << "# HELP sandboxd_rejected_busy_total Runs refused because every slot and queue place was taken.\n"
         "# TYPE sandboxd_rejected_busy_total counter\n"
      << "sandboxd_rejected_busy_total " << s.rejected_busy << "\n";
    o << "# HELP sandboxd_job_latency_seconds Job latency from request to result.\n"
         "# TYPE sandboxd_job_latency_seconds histogram\n";
    for (std::size_t i = 0; i < s.latency_bounds_ms.size() && i < s.latency_counts.size(); ++i)
        o << "sandboxd_job_latency_seconds_bucket{le=\"" << number(s.latency_bounds_ms[i] / 1000) << "\"} "
          << s.latency_counts[i] << "\n";
    o << "sandboxd_job_latency_seconds_bucket{le=\"+Inf\"} " << s.jobs_total << "\n";
    o << "sandboxd_job_latency_seconds_sum " << number(s.latency_sum_ms / 1000) << "\n";
    o << "sandboxd_job_latency_seconds_count " << s.jobs_total << "\n";
    return o.str();
}

}  // namespace sbx::http
