#include "daemon/jail/job_result.hpp"

#include <array>
#include <utility>

namespace sbx::jail {

namespace {
constexpr std::array<std::pair<JobStatus, std::string_view>, 10> kNames = {{
    {JobStatus::ok, "ok"},
    {JobStatus::runtime_error, "runtime_error"},
    {JobStatus::signaled, "signaled"},
    {JobStatus::time_limit, "time_limit"},
    {JobStatus::memory_limit, "memory_limit"},
    {JobStatus::output_limit, "output_limit"},
    {JobStatus::compile_error, "compile_error"},
    {JobStatus::rejected, "rejected"},
    {JobStatus::cancelled, "cancelled"},
    {JobStatus::internal_error, "internal_error"},
}};
}  // namespace

std::string_view to_string(JobStatus status) {
    for (const auto& [s, name] : kNames)
        if (s == status) return name;
    return "internal_error";
}

std::optional<JobStatus> job_status_from_string(std::string_view name) {
    for (const auto& [s, n] : kNames)
        if (n == name) return s;
    return std::nullopt;
}

}  // namespace sbx::jail
