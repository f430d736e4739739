#include "daemon/jobs/scheduler.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <random>

#include "daemon/jobs/job_log.hpp"

namespace sbx::jobs {

namespace {

// Job ids start with a prefix that differs from one daemon start to the next, so ids in logs
// and cgroup names never repeat across restarts.
std::string random_prefix() {
    std::random_device rd;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06x", static_cast<unsigned>(rd()) & 0xffffffu);
    return buf;
}

double ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Scheduler::Scheduler(boost::asio::io_context& io, jail::JailRuntime& runtime, Stats& stats, std::uint32_t max_jobs,
                     std::uint32_t max_queue, CompileCache* cache)
    : io_(io),
      runtime_(runtime),
      stats_(stats),
      cache_(cache),
      max_jobs_(std::max<std::uint32_t>(1, max_jobs)),
      max_queue_(max_queue),
      id_prefix_(random_prefix()),
      grace_timer_(io) {}

protocol::Decoded<std::uint32_t> Scheduler::submit(std::shared_ptr<Job> job) {
    using protocol::ErrorCode;
    if (shutting_down_) return protocol::ProtocolError{ErrorCode::shutting_down, "sandboxd is shutting down", {}};
    std::uint32_t free_slots = max_jobs_ - std::min(running_, max_jobs_);
    if (queue_.size() >= free_slots + max_queue_) {
        stats_.rejected_busy();
        return protocol::ProtocolError{ErrorCode::busy,
                                       "all " + std::to_string(max_jobs_) + " job slots and " +
                                           std::to_string(max_queue_) + " queue places are taken; retry later",
                                       {}};
    }
    job->id = id_prefix_ + "-" + std::to_string(next_id_++);
    jobs_[job->id] = job;
    // Jobs ahead of this one that will still be waiting when free slots are filled.
    std::uint32_t ahead = static_cast<std::uint32_t>(queue_.size());
    std::uint32_t position = ahead < free_slots ? 0 : ahead - free_slots + 1;
    queue_.push_back(job);
    // Started from the loop, never inside submit: the caller reports acceptance first.
    if (!start_posted_) {
        start_posted_ = true;
        boost::asio::post(io_, [this] {
            start_posted_ = false;
            start_next();
        });
    }
    return position;
}

void Scheduler::launch(const std::shared_ptr<Job>& job) {
    ++running_;
    job->state = JobState::running;
    job->started_at = std::chrono::steady_clock::now();
    auto runner = std::make_shared<JobRunner>(io_, runtime_, job, [this, job](protocol::RunResult result) {
        finished(job, std::move(result));
    }, cache_);
    runners_[job->id] = runner;
    job->cancel = [weak = std::weak_ptr<JobRunner>(runner)] {
        if (auto r = weak.lock()) r->cancel();
    };
    runner->start();
}

void Scheduler::finished(const std::shared_ptr<Job>& job, protocol::RunResult result) {
    --running_;
    job->state = JobState::finished;
    job->cancel = nullptr;
    double latency = ms_since(job->accepted_at);
    stats_.job_finished(result.run.status, job->language_name(), latency);
    log_job_finished(*job, result);
    // The runner is still on the stack: release it after this handler.
    boost::asio::post(io_, [keep = std::move(runners_[job->id])] {});
    runners_.erase(job->id);
    jobs_.erase(job->id);
    if (job->sink.on_result) job->sink.on_result(std::move(result));
    job->sink = {};
    start_next();
    check_drained();
}

void Scheduler::start_next() {
    while (running_ < max_jobs_ && !queue_.empty()) {
        auto job = queue_.front();
        queue_.pop_front();
        launch(job);
    }
}

Scheduler::CancelOutcome Scheduler::cancel(const std::string& job_id, const Caller& caller) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return CancelOutcome::not_found;
    auto job = it->second;
    if (!caller.is_root() && caller.uid != job->caller.uid) return CancelOutcome::forbidden;
    if (job->state == JobState::queued) {
        queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
        jobs_.erase(it);
        protocol::RunResult result;
        result.job_id = job->id;
        result.policy = job->spec.policy->name;
        result.language = job->language_name();
        result.run.status = "cancelled";
        result.run.message = "cancelled before it started";
        stats_.job_finished("cancelled", job->language_name(), ms_since(job->accepted_at));
        log_job_finished(*job, result);
        if (job->sink.on_result) job->sink.on_result(std::move(result));
        job->sink = {};
        check_drained();
        return CancelOutcome::cancelled;
    }
    if (job->cancel) job->cancel();
    return CancelOutcome::cancelled;
}

void Scheduler::abandon(const std::string& job_id) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    it->second->sink = {};
    Caller root;
    cancel(job_id, root);
}

std::vector<protocol::JobInfo> Scheduler::jobs(const Caller& caller) const {
    std::vector<protocol::JobInfo> out;
    for (const auto& [id, job] : jobs_) {
        if (!caller.is_root() && caller.uid != job->caller.uid) continue;
        protocol::JobInfo info;
        info.job_id = id;
        info.uid = job->caller.uid;
        info.policy = job->spec.policy->name;
        info.language = job->language_name();
        info.state = job->state == JobState::queued ? "queued" : "running";
        info.elapsed_ms = ms_since(job->accepted_at);
        out.push_back(std::move(info));
    }
    return out;
}

void Scheduler::shutdown(std::chrono::milliseconds grace, std::function<void()> drained) {
    shutting_down_ = true;
    drained_ = std::move(drained);
    while (!queue_.empty()) {
        auto job = queue_.front();
        queue_.pop_front();
        jobs_.erase(job->id);
        if (job->sink.on_error) job->sink.on_error(protocol::ErrorCode::shutting_down, "sandboxd is shutting down");
        job->sink = {};
    }
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        for (const auto& [id, job] : jobs_)
            if (job->cancel) job->cancel();
    });
    check_drained();
}

void Scheduler::check_drained() {
    if (!shutting_down_ || running_ > 0 || !jobs_.empty() || !drained_) return;
    grace_timer_.cancel();
    auto done = std::move(drained_);
    drained_ = nullptr;
    boost::asio::post(io_, std::move(done));
}

}  // namespace sbx::jobs
