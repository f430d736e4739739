#include "daemon/jobs/job_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "daemon/jobs/compile_key.hpp"
#include "daemon/jobs/output_compare.hpp"

namespace sbx::jobs {

namespace asio = boost::asio;

protocol::ExecutionReport to_report(const jail::ExecResult& r) {
    protocol::ExecutionReport out;
    out.status = std::string(jail::to_string(r.status));
    out.exit_code = r.exit_code;
    out.signal = r.signal;
    out.wall_ms = r.wall_ms;
    out.cpu_ms = r.cpu_ms;
    out.memory_peak_bytes = r.memory_peak_bytes;
    out.stdout_data = r.stdout_data;
    out.stderr_data = r.stderr_data;
    out.stdout_truncated = r.stdout_truncated;
    out.stderr_truncated = r.stderr_truncated;
    out.message = r.message;
    return out;
}

namespace {

std::string verdict_for(const jail::ExecResult& r, bool output_matches) {
    switch (r.status) {
        case jail::JobStatus::ok: return output_matches ? "accepted" : "wrong_answer";
        case jail::JobStatus::runtime_error:
        case jail::JobStatus::signaled: return "runtime_error";
        case jail::JobStatus::time_limit: return "time_limit";
        case jail::JobStatus::memory_limit: return "memory_limit";
        case jail::JobStatus::output_limit: return "output_limit";
        case jail::JobStatus::cancelled: return "cancelled";
        default: return "internal_error";
    }
}

}  // namespace

JobRunner::JobRunner(asio::io_context& io, jail::JailRuntime& runtime, std::shared_ptr<Job> job, Done done,
                     CompileCache* cache)
    : io_(io), runtime_(runtime), job_(std::move(job)), done_(std::move(done)), cache_(cache) {
    result_.job_id = job_->id;
    result_.policy = job_->spec.policy->name;
    result_.language = job_->language_name();
    // Known from the start, so even a compile error reports how many cases there were.
    result_.total = static_cast<std::uint32_t>(job_->spec.request.tests.size());
}

void JobRunner::start() {
    const JobSpec& spec = job_->spec;
    if (spec.language != nullptr) {
        binds_ = &spec.registry->language_state(spec.language->name).binds;
        // {sources}: every submitted file with one of the language's extensions, in the order
        // given, then the source file (dependencies before what uses them).
        for (const auto& f : spec.request.files)
            if (spec.language->is_source_name(f.name) && f.name != spec.language->source_file &&
                std::find(sources_.begin(), sources_.end(), f.name) == sources_.end())
                sources_.push_back(f.name);
        const bool has_main = !spec.request.source.empty() ||
                              std::any_of(spec.request.files.begin(), spec.request.files.end(),
                                          [&](const auto& f) { return f.name == spec.language->source_file; });
        if (has_main) sources_.push_back(spec.language->source_file);
    }
    if (auto s = prepare_workspace(); !s) {
        fail(s.error().message());
        return;
    }
    if (spec.language != nullptr && spec.language->compiled()) {
        compile_or_reuse();
        return;
    }
    run_program();
}

void JobRunner::cancel() {
    cancelled_ = true;
    if (current_) current_->cancel();
    if (waiting_) {
        // Waiting for another job's compile: nothing of ours runs, end now.
        waiting_ = false;
        result_.run.status = "cancelled";
        result_.run.message = "cancelled";
        asio::post(io_, [self = shared_from_this()] { self->finish(); });
    }
}

std::vector<std::string> JobRunner::expanded(const std::vector<std::string>& argv) const {
    return job_->spec.language->expand(argv, sources_);
}

Status JobRunner::prepare_workspace() {
    const JobSpec& spec = job_->spec;
    auto box = runtime_.box_ids.acquire(spec.jail->box_ids);
    if (!box) return std::move(box).error();
    // One workspace for every stage: as large as the largest stage wants.
    std::uint64_t size = spec.limits.tmpfs_bytes;
    if (spec.language != nullptr && spec.language->compiled()) size = std::max(size, spec.compile_limits.tmpfs_bytes);
    for (const auto& l : spec.test_limits) size = std::max(size, l.tmpfs_bytes);
    auto ws = jail::Workspace::create(runtime_.jobs_dir, job_->id, size, std::move(*box));
    if (!ws) return std::move(ws).error();
    workspace_ = std::make_unique<jail::Workspace>(std::move(*ws));
    const auto& req = spec.request;
    if (spec.language != nullptr && !req.source.empty()) {
        if (auto s = workspace_->write_file(spec.language->source_file, req.source, 0644); !s) return s;
    }
    for (const auto& f : req.files) {
        if (auto s = workspace_->write_file(f.name, f.content, f.executable ? 0755 : 0644); !s) return s;
    }
    return {};
}

std::vector<std::string> JobRunner::stage_env() const {
    std::vector<std::string> env;
    if (job_->spec.language != nullptr)
        for (const auto& [k, v] : job_->spec.language->env) env.push_back(k + "=" + v);
    for (const auto& [k, v] : job_->spec.request.env) env.push_back(k + "=" + v);
    return env;
}

void JobRunner::run_stage(Stage stage, std::function<void(jail::ExecResult)> next) {
    if (cancelled_) {
        jail::ExecResult r;
        r.status = jail::JobStatus::cancelled;
        r.message = "cancelled";
        asio::post(io_, [next = std::move(next), r = std::move(r)]() mutable { next(std::move(r)); });
        return;
    }
    if (job_->sink.on_event) {
        protocol::Event started;
        started.event = "started";
        started.job_id = job_->id;
        started.stage = stage.name;
        started.test = stage.test;
        job_->sink.on_event(started);
    }
    jail::ExecRequest req;
    req.name = job_->id + "-" + std::to_string(++stage_counter_);
    req.argv = std::move(stage.argv);
    req.env = stage_env();
    req.stdin_data = std::move(stage.stdin_data);
    req.limits = stage.limits;
    req.extra_binds = binds_;
    if (job_->spec.request.stream && job_->sink.on_event) {
        req.on_output = [job = job_, name = stage.name, test = stage.test](jail::OutputStream s, std::string_view data) {
            if (!job->sink.on_event) return;
            protocol::Event e;
            e.event = "output";
            e.stage = name;
            e.test = test;
            e.stream = s == jail::OutputStream::stdout_stream ? "stdout" : "stderr";
            e.data = std::string(data);
            job->sink.on_event(e);
        };
    }
    current_ = jail::start_execution(io_, runtime_, job_->spec.jail, *workspace_, std::move(req),
                                     [self = shared_from_this(), next = std::move(next)](jail::ExecResult r) {
                                         self->current_.reset();
                                         next(std::move(r));
                                     });
}

void JobRunner::compile_or_reuse() {
    const JobSpec& spec = job_->spec;
    if (cache_ != nullptr && cache_key_.empty()) {
        CompileKeyInput key{spec.language, expanded(spec.language->compile), stage_env(), spec.jail.get(), binds_,
                            &spec.request};
        cache_key_ = compile_key(key);
    }
    if (cache_ == nullptr || cache_key_.empty()) {
        run_compile();
        return;
    }
    if (reuse_cached()) return;
    if (cache_->claim(cache_key_)) {
        claimed_ = true;
        run_compile();
        return;
    }
    // The same compile is under way in another job: wait for it, then look again (and compile
    // here only if it did not store anything).
    waiting_ = true;
    cache_->wait(cache_key_, [weak = std::weak_ptr<JobRunner>(shared_from_this()), &io = io_] {
        asio::post(io, [weak] {
            auto self = weak.lock();
            if (!self || !self->waiting_) return;
            self->waiting_ = false;
            self->compile_or_reuse();
        });
    });
}

bool JobRunner::reuse_cached() {
    auto entry = cache_->find(cache_key_);
    if (!entry) return false;
    for (const auto& f : entry->artifacts.files) {
        if (auto s = workspace_->write_file(f.path, f.content, f.mode); !s) {
            fail("restore compiled files: " + s.error().message());
            return true;
        }
    }
    protocol::ExecutionReport report;
    report.status = "ok";
    report.cached = true;
    report.stdout_data = std::move(entry->stdout_data);
    report.stderr_data = std::move(entry->stderr_data);
    report.message = "compiled earlier; the compile cache had the result";
    result_.compile = std::move(report);
    run_program();
    return true;
}

void JobRunner::run_compile() {
    const JobSpec& spec = job_->spec;
    if (!cache_key_.empty()) {
        auto snapshot = snapshot_workspace(workspace_->path());
        if (snapshot) {
            before_compile_ = std::move(*snapshot);
        } else {
            spdlog::warn("job {}: not caching its compile: {}", job_->id, snapshot.error().message());
        }
    }
    Stage compile{"compile", -1, expanded(spec.language->compile), {}, spec.compile_limits};
    run_stage(std::move(compile), [self = shared_from_this()](jail::ExecResult r) { self->after_compile(std::move(r)); });
}

void JobRunner::store_artifacts(const jail::ExecResult& r) {
    if (cache_ == nullptr || cache_key_.empty() || !before_compile_ || r.status != jail::JobStatus::ok) return;
    // Every process of the stage is gone: what is in the workspace now is what it produced.
    auto after = snapshot_workspace(workspace_->path());
    if (!after) {
        spdlog::warn("job {}: not caching its compile: {}", job_->id, after.error().message());
        return;
    }
    auto artifacts = collect_artifacts(workspace_->path(), *before_compile_, *after, job_->spec.language->artifacts);
    if (!artifacts) {
        spdlog::info("job {}: not caching its compile: {}", job_->id, artifacts.error().message());
        return;
    }
    CompileCacheEntry entry{std::move(*artifacts), r.stdout_data, r.stderr_data};
    if (auto s = cache_->store(cache_key_, entry); !s)
        spdlog::info("job {}: not caching its compile: {}", job_->id, s.error().message());
}

void JobRunner::release_claim() {
    if (!claimed_) return;
    claimed_ = false;
    cache_->release(cache_key_);
}

void JobRunner::after_compile(jail::ExecResult r) {
    store_artifacts(r);
    release_claim();
    result_.compile = to_report(r);
    if (r.status != jail::JobStatus::ok) {
        // The top-level report carries the verdict; the compiler's output is in `compile`. A
        // compiler that exceeded a limit is a compile error too; only the daemon's own
        // failures and cancellation keep their status.
        bool ours = r.status == jail::JobStatus::internal_error || r.status == jail::JobStatus::cancelled;
        result_.run.status = ours ? result_.compile->status : "compile_error";
        result_.run.exit_code = r.exit_code;
        result_.run.signal = r.signal;
        result_.run.message = r.status == jail::JobStatus::runtime_error
                                  ? "compilation failed (exit code " + std::to_string(r.exit_code) + ")"
                                  : "compile stage: " + (r.message.empty() ? result_.compile->status : r.message);
        finish();
        return;
    }
    run_program();
}

void JobRunner::run_program() {
    const JobSpec& spec = job_->spec;
    if (!spec.request.tests.empty()) {
        if (auto s = keep_case_baseline(); !s) return fail("test cases: " + s.error().message());
        run_test(0);
        return;
    }
    std::vector<std::string> argv = spec.language != nullptr ? expanded(spec.language->run) : spec.request.argv;
    argv.insert(argv.end(), spec.request.args.begin(), spec.request.args.end());
    Stage run{"run", -1, std::move(argv), spec.request.stdin_data, spec.limits};
    run_stage(std::move(run), [self = shared_from_this()](jail::ExecResult r) {
        self->result_.run = to_report(r);
        self->finish();
    });
}

void JobRunner::run_test(size_t index) {
    const JobSpec& spec = job_->spec;
    if (index == spec.request.tests.size()) {
        // Every case ran: the job itself is ok; how each case fared is in its verdict.
        result_.run.status = "ok";
        finish();
        return;
    }
    if (index > 0) {
        if (auto s = restore_case_baseline(); !s) return fail("test case " + std::to_string(index) + ": " + s.error().message());
    }
    std::vector<std::string> argv = spec.language != nullptr ? expanded(spec.language->run) : spec.request.argv;
    argv.insert(argv.end(), spec.request.args.begin(), spec.request.args.end());
    Stage stage{"test", static_cast<int>(index), std::move(argv), spec.request.tests[index].stdin_data,
                spec.test_limits[index]};
    run_stage(std::move(stage),
              [self = shared_from_this(), index](jail::ExecResult r) { self->after_test(index, std::move(r)); });
}

Status JobRunner::keep_case_baseline() {
    if (job_->spec.request.tests.size() < 2) return {};
    auto now = snapshot_workspace(workspace_->path());
    if (!now) return std::move(now).error().within("keep the work directory for each case");
    auto files = collect_artifacts(workspace_->path(), {}, *now, {});
    if (!files) {
        // Only regular files and directories can be kept (a compiler that leaves a symlink or a
        // FIFO in the work directory): the cases then share it, as they would without this.
        spdlog::warn("job {}: test cases share one work directory: {}", job_->id, files.error().message());
        return {};
    }
    case_baseline_ = std::move(*files);
    return {};
}

Status JobRunner::restore_case_baseline() {
    if (!case_baseline_) return {};
    if (auto s = workspace_->renew(); !s) return s;
    for (const auto& f : case_baseline_->files)
        if (auto s = workspace_->write_file(f.path, f.content, f.mode); !s) return s;
    return {};
}

void JobRunner::after_test(size_t index, jail::ExecResult r) {
    const auto& request = job_->spec.request;
    bool matches = r.status == jail::JobStatus::ok &&
                   outputs_match(r.stdout_data, request.tests[index].expected_output, request.compare,
                                 request.float_tolerance);
    protocol::TestCaseReport report{verdict_for(r, matches), to_report(r)};
    result_.run.wall_ms = std::max(result_.run.wall_ms, r.wall_ms);
    result_.run.cpu_ms = std::max(result_.run.cpu_ms, r.cpu_ms);
    result_.run.memory_peak_bytes = std::max(result_.run.memory_peak_bytes, r.memory_peak_bytes);
    bool passed = report.verdict == "accepted";
    if (passed) ++result_.passed;
    result_.tests.push_back(std::move(report));
    if (r.status == jail::JobStatus::cancelled || r.status == jail::JobStatus::internal_error) {
        result_.run.status = std::string(jail::to_string(r.status));
        result_.run.message = r.message;
        finish();
        return;
    }
    if (!passed && request.stop_on_failure) {
        for (size_t i = index + 1; i < request.tests.size(); ++i) {
            protocol::TestCaseReport skipped;
            skipped.verdict = "skipped";
            result_.tests.push_back(std::move(skipped));
        }
        result_.run.status = "ok";
        finish();
        return;
    }
    run_test(index + 1);
}

void JobRunner::fail(const std::string& message) {
    result_.run.status = "internal_error";
    result_.run.message = message;
    asio::post(io_, [self = shared_from_this()] { self->finish(); });
}

void JobRunner::finish() {
    if (finished_) return;
    finished_ = true;
    release_claim();
    if (workspace_) {
        (void)workspace_->release();
        workspace_.reset();
    }
    if (cancelled_ && result_.run.status != "cancelled") {
        result_.run.status = "cancelled";
        result_.run.message = "cancelled";
    }
    auto done = std::move(done_);
    if (done) done(std::move(result_));
}

}  // namespace sbx::jobs
