// One job as the daemon tracks it, from acceptance to result: what to run (a validated request),
// who asked, where its events and result go, and its state.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "daemon/jobs/caller.hpp"
#include "daemon/jobs/registry.hpp"
#include "protocol/messages.hpp"

namespace sbx::jobs {

// A run request checked against the registry: every name resolved, every limit effective.
struct JobSpec {
    std::shared_ptr<const Registry> registry;  // keeps the policies and languages it names alive
    const policy::Policy* policy = nullptr;
    const policy::Language* language = nullptr;  // nullptr: argv mode
    std::shared_ptr<const jail::JailTemplate> jail;
    protocol::RunRequest request;
    policy::Limits limits;                      // the run stage
    policy::Limits compile_limits;              // the compile stage
    std::vector<policy::Limits> test_limits;    // one per test case
};

// Where a job's events and result go (the connection that asked). Either may be empty when
// nobody listens any more.
struct JobSink {
    std::function<void(const protocol::Event&)> on_event;
    std::function<void(protocol::RunResult)> on_result;
    std::function<void(protocol::ErrorCode, const std::string&)> on_error;  // refused after acceptance
};

enum class JobState { queued, running, finished };

struct Job {
    std::string id;
    Caller caller;
    JobSpec spec;
    JobSink sink;
    JobState state = JobState::queued;
    std::chrono::steady_clock::time_point accepted_at = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point started_at{};
    std::function<void()> cancel;  // set while running

    const std::string& language_name() const;
};

}  // namespace sbx::jobs
