#include "daemon/jail/rlimits.hpp"

#include <sys/resource.h>

#include "daemon/jail/child_steps.hpp"

namespace sbx::jail {

RlimitTable make_rlimits(const policy::Limits& limits) {
    // The cgroup check ends the job at the CPU limit; RLIMIT_CPU (whole seconds) only stops a
    // single process that somehow outran it, so it sits a second above.
    auto cpu_s = static_cast<rlim_t>((limits.cpu_time.count() + 999999) / 1000000) + 1;
    return {{
        {RLIMIT_CPU, {cpu_s, cpu_s + 1}},
        {RLIMIT_FSIZE, {limits.file_size_bytes, limits.file_size_bytes}},
        {RLIMIT_NOFILE, {limits.open_files, limits.open_files}},
        {RLIMIT_STACK, {limits.stack_bytes, limits.stack_bytes}},
        {RLIMIT_CORE, {0, 0}},
        {RLIMIT_MEMLOCK, {64 * 1024, 64 * 1024}},
    }};
}

const char* rlimit_name(int resource) {
    switch (resource) {
        case RLIMIT_CPU: return "RLIMIT_CPU";
        case RLIMIT_FSIZE: return "RLIMIT_FSIZE";
        case RLIMIT_NOFILE: return "RLIMIT_NOFILE";
        case RLIMIT_STACK: return "RLIMIT_STACK";
        case RLIMIT_CORE: return "RLIMIT_CORE";
        case RLIMIT_MEMLOCK: return "RLIMIT_MEMLOCK";
        default: return "rlimit";
    }
}

bool apply_rlimits(const LaunchPlan& p, StepError* e) noexcept {
    for (std::size_t i = 0; i < p.rlimit_count; ++i) {
        if (::setrlimit(static_cast<__rlimit_resource>(p.rlimits[i].resource), &p.rlimits[i].value) != 0)
            return fail_step(e, SetupStep::rlimit, static_cast<int>(i));
    }
    return true;
}

}  // namespace sbx::jail
