// The outcome of one jail execution.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sbx::jail {

enum class JobStatus {
    ok,              // exited 0
    runtime_error,   // exited non-zero
    signaled,        // killed by a signal it did not get for a limit
    time_limit,      // wall-clock or CPU limit
    memory_limit,    // the kernel killed a process for the memory limit
    output_limit,    // stdout or stderr past its cap, or a file past the file-size limit
    compile_error,   // (stages) the compile stage failed
    rejected,        // (daemon) the request was refused before running
    cancelled,       // cancelled by the client, or the client went away
    internal_error,  // the jail could not be set up; `message` says why
};

std::string_view to_string(JobStatus status);
std::optional<JobStatus> job_status_from_string(std::string_view name);

struct ExecResult {
    JobStatus status = JobStatus::internal_error;
    int exit_code = 0;   // when the payload exited
    int signal = 0;      // when it was killed by a signal
    double wall_ms = 0;  // payload start to exit (or kill)
    double cpu_ms = 0;   // all processes of the job, from the cgroup
    std::uint64_t memory_peak_bytes = 0;
    std::string stdout_data;
    std::string stderr_data;
    bool stdout_truncated = false;
    bool stderr_truncated = false;
    std::string message;  // why, for internal_error and limits
};

}  // namespace sbx::jail
