// sandboxctl languages / policies / stats / status / cancel / reload.
#include <cstdio>
#include <iostream>

#include "ctl/commands.hpp"
#include "ctl/exit_codes.hpp"
#include "ctl/session.hpp"
#include "policy/units.hpp"
#include "protocol/json_codec.hpp"

namespace sbx::ctl {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
    return out.empty() ? "-" : out;
}

template <class T>
int print_json(const T& result) {
    std::cout << protocol::dump(protocol::to_json(result), 2) << "\n";
    return 0;
}

}  // namespace

int list_languages(const Common& common) {
    auto r = request<protocol::LanguagesResult>(common, protocol::LanguagesRequest{});
    if (!r) return kExitSandboxError;
    if (common.json) return print_json(*r);
    std::printf("%-14s %-9s %-10s %-40s %s\n", "LANGUAGE", "COMPILED", "AVAILABLE", "VERSION", "ALIASES");
    for (const auto& l : r->languages) {
        std::string version = l.available ? (l.version.empty() ? "(probing)" : l.version) : l.reason;
        if (version.size() > 40) version = version.substr(0, 37) + "...";
        std::printf("%-14s %-9s %-10s %-40s %s\n", l.name.c_str(), l.compiled ? "yes" : "no",
                    l.available ? "yes" : "no", version.c_str(), join(l.aliases).c_str());
    }
    return 0;
}

int list_policies(const Common& common) {
    auto r = request<protocol::PoliciesResult>(common, protocol::PoliciesRequest{});
    if (!r) return kExitSandboxError;
    if (common.json) return print_json(*r);
    for (const auto& p : r->policies) {
        const auto& l = p.limits;
        std::printf("%s: %s\n", p.name.c_str(), p.description.c_str());
        std::printf("  network %s; memory %s (max %s); wall %s (max %s); cpu %s (max %s); pids %u; output %s\n",
                    p.network.c_str(), policy::format_size(l.memory_bytes.default_value).c_str(),
                    policy::format_size(l.memory_bytes.maximum).c_str(),
                    policy::format_duration(l.wall_time.default_value).c_str(),
                    policy::format_duration(l.wall_time.maximum).c_str(),
                    policy::format_duration(l.cpu_time.default_value).c_str(),
                    policy::format_duration(l.cpu_time.maximum).c_str(), l.pids.maximum,
                    policy::format_size(l.output_bytes.maximum).c_str());
    }
    return 0;
}

int show_stats(const Common& common) {
    auto r = request<protocol::StatsResult>(common, protocol::StatsRequest{});
    if (!r) return kExitSandboxError;
    if (common.json) return print_json(*r);
    std::printf("uptime %.0f s, %llu jobs finished, %u running, %u queued, %llu refused as busy\n", r->uptime_s,
                static_cast<unsigned long long>(r->jobs_total), r->running, r->queued,
                static_cast<unsigned long long>(r->rejected_busy));
    for (const auto& [status, n] : r->by_status) std::printf("  %-16s %llu\n", status.c_str(), static_cast<unsigned long long>(n));
    for (const auto& [lang, n] : r->by_language) std::printf("  language %-8s %llu\n", lang.c_str(), static_cast<unsigned long long>(n));
    if (r->jobs_total > 0) std::printf("  mean latency %.1f ms\n", r->latency_sum_ms / static_cast<double>(r->jobs_total));
    return 0;
}

int show_status(const Common& common, const std::string& job_id) {
    auto r = request<protocol::StatusResult>(common, protocol::StatusRequest{job_id});
    if (!r) return kExitSandboxError;
    if (common.json) return print_json(*r);
    std::printf("%s, up %.0f s, %s; %u of %u job slots running, %u of %u queue places used\n", r->server.c_str(),
                r->uptime_s, r->cgroup_backend.c_str(), r->running, r->max_jobs, r->queued, r->max_queue);
    if (!r->jobs.empty()) std::printf("%-20s %-8s %-8s %-12s %-10s %s\n", "JOB", "STATE", "UID", "POLICY", "LANGUAGE", "ELAPSED");
    for (const auto& j : r->jobs)
        std::printf("%-20s %-8s %-8u %-12s %-10s %.0f ms\n", j.job_id.c_str(), j.state.c_str(), j.uid, j.policy.c_str(),
                    j.language.empty() ? "-" : j.language.c_str(), j.elapsed_ms);
    return 0;
}

int cancel_job(const Common& common, const std::string& job_id) {
    auto r = request<protocol::CancelResult>(common, protocol::CancelRequest{job_id});
    if (!r) return kExitSandboxError;
    if (common.json) return print_json(*r);
    std::printf("cancelled %s\n", job_id.c_str());
    return 0;
}

int reload(const Common& common) {
    auto r = request<protocol::ReloadResult>(common, protocol::ReloadRequest{});
    if (!r) return kExitSandboxError;
    if (common.json) return print_json(*r);
    std::printf("reloaded %u policies and %u languages\n", r->policies, r->languages);
    return 0;
}

}  // namespace sbx::ctl
