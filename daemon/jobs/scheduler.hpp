// Admission and ordering of jobs: at most max_jobs run at once; up to max_queue more wait in
// arrival order; beyond that a submission is refused at once with `busy` (never a hang).
// Finished, cancelled and abandoned jobs make room for the next.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "daemon/jail/runtime.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/jobs/job_runner.hpp"
#include "daemon/jobs/stats.hpp"

namespace sbx::jobs {

class Scheduler {
public:
    // `cache` (may be null: no compile cache) must outlive the scheduler.
    Scheduler(boost::asio::io_context& io, jail::JailRuntime& runtime, Stats& stats, std::uint32_t max_jobs,
              std::uint32_t max_queue, CompileCache* cache = nullptr);

    // Gives the job its id and runs or queues it; returns how many jobs are ahead of it (0: it
    // runs now), or busy / shutting_down.
    protocol::Decoded<std::uint32_t> submit(std::shared_ptr<Job> job);

    enum class CancelOutcome { cancelled, not_found, forbidden };
    // Root may cancel any job, others their own.
    CancelOutcome cancel(const std::string& job_id, const Caller& caller);
    // The client went away: the job is cancelled and nobody hears of it again.
    void abandon(const std::string& job_id);

    std::vector<protocol::JobInfo> jobs(const Caller& caller) const;
    std::uint32_t running() const { return running_; }
    std::uint32_t queued() const { return static_cast<std::uint32_t>(queue_.size()); }
    std::uint32_t max_jobs() const { return max_jobs_; }
    std::uint32_t max_queue() const { return max_queue_; }

    // Stops admitting jobs, refuses the queued ones, lets running jobs finish for `grace`, then
    // cancels them; `drained` runs once nothing is left.
    void shutdown(std::chrono::milliseconds grace, std::function<void()> drained);

private:
    void start_next();
    void launch(const std::shared_ptr<Job>& job);
    void finished(const std::shared_ptr<Job>& job, protocol::RunResult result);
    void check_drained();

    boost::asio::io_context& io_;
    jail::JailRuntime& runtime_;
    Stats& stats_;
    CompileCache* cache_;
    std::uint32_t max_jobs_;
    std::uint32_t max_queue_;
    std::uint32_t running_ = 0;
    std::string id_prefix_;
    std::uint64_t next_id_ = 1;
    std::map<std::string, std::shared_ptr<Job>> jobs_;  // queued and running
    std::map<std::string, std::shared_ptr<JobRunner>> runners_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool shutting_down_ = false;
    bool start_posted_ = false;
    std::function<void()> drained_;
    boost::asio::steady_timer grace_timer_;
};

}  // namespace sbx::jobs
