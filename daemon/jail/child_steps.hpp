// The jail's setup steps, run in the cloned child between clone and execve. Each is a small
// function that uses only system calls and data prepared in LaunchPlan (nothing allocates),
// and on failure fills StepError with which step, errno and an index (mount step, rlimit).
#pragma once

#include <cerrno>

#include "daemon/jail/child_report.hpp"
#include "daemon/jail/launch_plan.hpp"

namespace sbx::jail {

struct StepError {
    SetupStep step = SetupStep::none;
    int err = 0;
    int index = -1;
};

// Records a failed step with the current errno; returns false so steps chain with &&.
inline bool fail_step(StepError* e, SetupStep step, int index = -1) noexcept {
    e->step = step;
    e->err = errno;
    e->index = index;
    return false;
}

// supervisor.cpp: PID 1 of the jail. Sets up, forks the payload, reaps, reports. Never returns.
[[noreturn]] void run_supervisor(const LaunchPlan& plan) noexcept;
// payload.cpp: the payload process from fork to execve. Never returns.
[[noreturn]] void run_payload(const LaunchPlan& plan) noexcept;

// mount_setup.cpp
bool build_root_filesystem(const LaunchPlan& plan, StepError* error) noexcept;
// loopback.cpp
bool bring_up_loopback(StepError* error) noexcept;
// rlimits.cpp
bool apply_rlimits(const LaunchPlan& plan, StepError* error) noexcept;
// identity.cpp: no_new_privs, empty bounding set, box uid/gid, no capabilities in any set.
bool drop_privileges(const LaunchPlan& plan, StepError* error) noexcept;
// seccomp_filter.cpp
bool install_seccomp(const sock_fprog* program, StepError* error) noexcept;

// Sends one record on the status pipe (errors ignored: the daemon sees the pipe close).
void send_record(int fd, const StatusRecord& record) noexcept;
[[noreturn]] void report_failure_and_exit(int status_fd, const StepError& error) noexcept;
std::uint64_t monotonic_ns() noexcept;

}  // namespace sbx::jail
