// Per-process resource limits of the payload: a second line of defence behind the cgroup
// (CPU per process, file size, open files, stack), plus no core dumps and little locked memory.
#pragma once

#include <array>

#include "daemon/jail/launch_plan.hpp"
#include "policy/limits.hpp"

namespace sbx::jail {

using RlimitTable = std::array<RlimitSetting, 6>;

RlimitTable make_rlimits(const policy::Limits& limits);
const char* rlimit_name(int resource);

}  // namespace sbx::jail
