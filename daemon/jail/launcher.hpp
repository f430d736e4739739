// clone3 into new PID, mount, IPC, UTS and network namespaces (or a prepared network
// namespace the child joins), keeping a pidfd. The child
// becomes the jail's supervisor (supervisor.cpp); this side only returns its pidfd.
#pragma once

#include <sys/types.h>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "daemon/jail/launch_plan.hpp"

namespace sbx::jail {

struct LaunchedJail {
    UniqueFd pidfd;
    pid_t pid = -1;
};

Result<LaunchedJail> launch_jail(const LaunchPlan& plan);

}  // namespace sbx::jail
