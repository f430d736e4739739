// Runs one accepted job through its stages, each in a fresh jail sharing the job's workspace:
//
//   workspace   box uid, tmpfs, the request's source and files written in
//   compile     (compiled languages) the compile command; failure ends the job: compile_error.
//               With a compile cache, the stage is skipped when an earlier job compiled the
//               same thing: its artifacts are written into the workspace instead (the compile
//               report then says `cached`); a successful compile stores what it produced.
//   run         the run command (or the request's argv) with the request's stdin and args, or,
//               with test cases, once per case with its stdin, judged against its expected output
//
// and reports a protocol RunResult. Everything is asynchronous on the daemon's event loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "daemon/jail/execution.hpp"
#include "daemon/jail/runtime.hpp"
#include "daemon/jobs/compile_cache.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/jobs/workspace_snapshot.hpp"

namespace sbx::jobs {

class JobRunner : public std::enable_shared_from_this<JobRunner> {
public:
    using Done = std::function<void(protocol::RunResult)>;

    // `cache` may be null (no compile cache); it must outlive the runner.
    JobRunner(boost::asio::io_context& io, jail::JailRuntime& runtime, std::shared_ptr<Job> job, Done done,
              CompileCache* cache = nullptr);
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    void start();
    void cancel();

private:
    struct Stage {
        std::string name;  // "compile", "run", "test"
        int test = -1;
        std::vector<std::string> argv;
        std::string stdin_data;
        policy::Limits limits;
    };

    Status prepare_workspace();
    std::vector<std::string> stage_env() const;
    std::vector<std::string> expanded(const std::vector<std::string>& argv) const;
    void run_stage(Stage stage, std::function<void(jail::ExecResult)> next);
    void compile_or_reuse();
    bool reuse_cached();
    void run_compile();
    void after_compile(jail::ExecResult r);
    void store_artifacts(const jail::ExecResult& r);
    void release_claim();
    void run_program();
    void run_test(size_t index);
    // Each test case starts from the work directory as the compile left it (or as the request
    // wrote it): kept once before the first case, written into a fresh tmpfs before the others.
    Status keep_case_baseline();
    Status restore_case_baseline();
    void after_test(size_t index, jail::ExecResult r);
    void finish();
    void fail(const std::string& message);

    boost::asio::io_context& io_;
    jail::JailRuntime& runtime_;
    std::shared_ptr<Job> job_;
    Done done_;
    CompileCache* cache_;
    std::unique_ptr<jail::Workspace> workspace_;
    std::shared_ptr<jail::Execution> current_;
    bool cancelled_ = false;
    bool finished_ = false;
    unsigned stage_counter_ = 0;
    std::vector<std::string> sources_;             // for {sources}
    const std::vector<jail::ResolvedBind>* binds_ = nullptr;
    std::string cache_key_;                        // empty: this job's compile is not cached
    bool claimed_ = false;                         // this job compiles cache_key_ for others too
    bool waiting_ = false;                         // for another job's compile of cache_key_
    std::optional<WorkspaceSnapshot> before_compile_;
    std::optional<Artifacts> case_baseline_;
    protocol::RunResult result_;
};

protocol::ExecutionReport to_report(const jail::ExecResult& r);

}  // namespace sbx::jobs
