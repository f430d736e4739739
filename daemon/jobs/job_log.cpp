#include "daemon/jobs/job_log.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace sbx::jobs {

namespace {
bool g_json = false;
}

void set_json_job_log(bool json) { g_json = json; }

void log_job_finished(const Job& job, const protocol::RunResult& r) {
    const std::string& language = job.language_name();
    if (g_json) {
        nlohmann::json line = {
            {"event", "job"},
            {"job", job.id},
            {"uid", job.caller.uid},
            {"policy", r.policy},
            {"language", language},
            {"status", r.run.status},
            {"wall_ms", r.run.wall_ms},
            {"cpu_ms", r.run.cpu_ms},
            {"memory_peak_bytes", r.run.memory_peak_bytes},
        };
        if (!r.run.message.empty()) line["message"] = r.run.message;
        spdlog::info("{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return;
    }
    spdlog::info("job {} uid={} policy={} language={} status={} wall_ms={:.1f} cpu_ms={:.1f} memory_peak={}{}{}",
                 job.id, job.caller.uid, r.policy, language.empty() ? "-" : language, r.run.status, r.run.wall_ms,
                 r.run.cpu_ms, r.run.memory_peak_bytes, r.run.message.empty() ? "" : " message=", r.run.message);
}

}  // namespace sbx::jobs
