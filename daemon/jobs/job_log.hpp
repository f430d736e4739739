// The one log line per finished job: id, client uid, policy, language, status, wall and CPU
// milliseconds, memory peak. Text as key=value pairs, or a JSON object in JSON log mode.
#pragma once

#include "daemon/jobs/job.hpp"

namespace sbx::jobs {

void set_json_job_log(bool json);
void log_job_finished(const Job& job, const protocol::RunResult& result);

}  // namespace sbx::jobs
