#include "daemon/jail/cgroup_v2.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "daemon/jail/cgroup_fs.hpp"

namespace sbx::jail {

namespace {

constexpr std::uint64_t kCpuPeriodUs = 100000;

class JobCgroupV2 final : public JobCgroup {
public:
    JobCgroupV2(std::string path, UniqueFd dir, UniqueFd procs)
        : path_(std::move(path)), dir_(std::move(dir)), procs_(std::move(procs)) {}
    JobCgroupV2(const JobCgroupV2&) = delete;
    JobCgroupV2& operator=(const JobCgroupV2&) = delete;
    ~JobCgroupV2() override { (void)remove(); }

    // Baselines for an adopted (reused) cgroup whose counters do not start at zero.
    Status take_baselines() {
        auto cpu = cpu_usage_us();
        if (!cpu) return std::move(cpu).error();
        cpu_baseline_ = *cpu;
        auto oom = oom_kills_total();
        if (!oom) return std::move(oom).error();
        oom_baseline_ = *oom;
        return {};
    }

    Status set_limits(const CgroupLimits& limits) override {
        if (auto s = write("memory.max", std::to_string(limits.memory_bytes)); !s) return s;
        if (auto s = write("memory.swap.max", "0"); !s && s.error().errnum != ENOENT) return s;
        // One OOM kill takes the whole job down, as any other limit does.
        if (auto s = write("memory.oom.group", "1"); !s && s.error().errnum != ENOENT) return s;
        if (auto s = write("pids.max", std::to_string(limits.pids)); !s) return s;
        auto quota = static_cast<std::uint64_t>(std::llround(limits.cpu_cores * kCpuPeriodUs));
        return write("cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodUs));
    }

    // The jail is cloned straight into the cgroup (CLONE_INTO_CGROUP): nothing to join.
    std::span<const int> join_fds() const override { return {}; }
    int clone_into_fd() const override { return dir_.get(); }

    Result<std::uint64_t> cpu_usage_us() const override {
        auto text = cgfs::read_file(dir_.get(), path_, "cpu.stat");
        if (!text) return std::move(text).error();
        auto usec = cgfs::keyed_value(*text, "usage_usec");
        if (!usec) return Error::invalid(path_ + "/cpu.stat", "no usage_usec");
        return *usec - std::min(*usec, cpu_baseline_);
    }

    Result<CgroupUsage> usage() const override {
        CgroupUsage u;
        auto cpu = cpu_usage_us();
        if (!cpu) return std::move(cpu).error();
        u.cpu_usage_us = *cpu;
        auto peak = cgfs::read_u64(dir_.get(), path_, "memory.peak");
        if (!peak && peak.error().errnum == ENOENT)  // kernels before 5.19
            peak = cgfs::read_u64(dir_.get(), path_, "memory.current");
        if (!peak) return std::move(peak).error();
        u.memory_peak_bytes = *peak;
        auto oom = oom_kills_total();
        if (!oom) return std::move(oom).error();
        u.oom_kills = *oom - std::min(*oom, oom_baseline_);
        return u;
    }

    Status kill_all() override {
        auto s = write("cgroup.kill", "1");
        if (!s && s.error().errnum == ENOENT) s = kill_by_freezing();  // kernels before 5.14
        if (!s) return s;
        return wait_unpopulated();
    }

    Status set_frozen(bool frozen) override {
        if (auto s = write("cgroup.freeze", frozen ? "1" : "0"); !s) return s;
        if (!frozen) return {};
        return cgfs::wait_until([this] { return events_say("frozen", 1); }, std::chrono::seconds(2), "freeze " + path_);
    }

    Status remove() override {
        if (removed_) return {};
        procs_.reset();
        bool killed = false;
        // rmdir is also the emptiness test: it fails with EBUSY while a process is inside.
        auto removed = cgfs::wait_until(
            [&]() -> Result<bool> {
                if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) return true;
                if (errno != EBUSY) return Error::system("rmdir " + path_);
                if (!killed) {
                    (void)kill_all();
                    killed = true;
                }
                return false;
            },
            std::chrono::seconds(5), "rmdir " + path_);
        if (!removed) return removed;
        dir_.reset();
        removed_ = true;
        return {};
    }

    const std::string& path() const override { return path_; }

private:
    Status write(const char* file, std::string_view value) {
        return cgfs::write_file(dir_.get(), path_, file, value);
    }

    Result<std::uint64_t> oom_kills_total() const {
        auto text = cgfs::read_file(dir_.get(), path_, "memory.events");
        if (!text) return std::move(text).error();
        return cgfs::keyed_value(*text, "oom_kill").value_or(0);
    }

    Status kill_by_freezing() {
        if (auto s = set_frozen(true); !s) return s;
        auto procs = cgfs::read_file(dir_.get(), path_, "cgroup.procs");
        if (procs)
            for (pid_t pid : cgfs::parse_pids(*procs)) ::kill(pid, SIGKILL);
        auto thawed = set_frozen(false);
        if (!procs) return std::move(procs).error();
        return thawed;
    }

    Status wait_unpopulated() {
        return cgfs::wait_until([this] { return events_say("populated", 0); }, std::chrono::seconds(2),
                                "kill " + path_ + ": processes remain, emptying");
    }

    // Whether cgroup.events has `key` at `value`.
    Result<bool> events_say(std::string_view key, std::uint64_t value) const {
        auto events = cgfs::read_file(dir_.get(), path_, "cgroup.events");
        if (!events) return std::move(events).error();
        return cgfs::keyed_value(*events, key).value_or(value + 1) == value;
    }

    std::string path_;
    UniqueFd dir_;
    UniqueFd procs_;
    std::uint64_t cpu_baseline_ = 0;
    std::uint64_t oom_baseline_ = 0;
    bool removed_ = false;
};

class CgroupV2Backend final : public CgroupBackend {
public:
    explicit CgroupV2Backend(CgroupV2Config config) : config_(std::move(config)) {
        base_ = config_.own_dir + "/" + config_.subtree;
        jobs_ = base_ + "/jobs";
    }

    Status prepare() {
        auto own = cgfs::open_dir(config_.own_dir);
        if (!own) return std::move(own).error();
        auto available = cgfs::read_file(own->get(), config_.own_dir, "cgroup.controllers");
        if (!available) return std::move(available).error();
        for (const auto& c : config_.required_controllers) {
            if (!has_word(*available, c))
                return Error::invalid("cgroup v2 at " + config_.own_dir,
                                      "required controller '" + c + "' is not available (cgroup.controllers: '" +
                                          trim(*available) + "'); give sandboxd a delegated cgroup (systemd Delegate=yes)");
        }
        if (auto s = cgfs::ensure_dir(base_); !s) return s;
        if (auto s = cgfs::ensure_dir(jobs_); !s) return s;
        if (config_.required_controllers.empty()) return {};

        std::string enable;
        for (const auto& c : config_.required_controllers) enable += (enable.empty() ? "+" : " +") + c;
        auto s = cgfs::write_file(own->get(), config_.own_dir, "cgroup.subtree_control", enable);
        if (!s && s.error().errnum == EBUSY) {
            // "No internal processes": the daemon lives in its own cgroup, so it moves itself
            // into a leaf before its cgroup may hand controllers to children.
            if (auto m = move_self_to_leaf(); !m) return m;
            s = cgfs::write_file(own->get(), config_.own_dir, "cgroup.subtree_control", enable);
        }
        if (!s) return s;
        for (const std::string& dir : {base_, jobs_}) {
            auto fd = cgfs::open_dir(dir);
            if (!fd) return std::move(fd).error();
            if (auto w = cgfs::write_file(fd->get(), dir, "cgroup.subtree_control", enable); !w) return w;
        }
        return {};
    }

    std::string_view name() const override { return "cgroup v2"; }

    std::vector<std::string> describe() const override {
        std::string ctrls;
        for (const auto& c : config_.required_controllers) ctrls += (ctrls.empty() ? "" : ",") + c;
        return {"unified (" + ctrls + "): " + jobs_};
    }

    Result<std::unique_ptr<JobCgroup>> create_job(std::string_view job_name) override {
        std::string path = jobs_ + "/" + std::string(job_name);
        bool adopted = false;
        if (::mkdir(path.c_str(), 0755) != 0) {
            if (errno != EEXIST) return Error::system("mkdir " + path);
            adopted = true;
        }
        auto dir = cgfs::open_dir(path);
        if (!dir) return std::move(dir).error();
        if (adopted) {  // a leftover of the same name: reuse it only when empty
            auto procs = cgfs::read_file(dir->get(), path, "cgroup.procs");
            if (!procs || !cgfs::parse_pids(*procs).empty())
                return Error::invalid("create cgroup " + path, "it exists and is in use");
        }
        UniqueFd procs(::openat(dir->get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
        if (!procs) {
            Error e = Error::system("open " + path + "/cgroup.procs");
            if (!adopted) ::rmdir(path.c_str());
            return e;
        }
        auto job = std::make_unique<JobCgroupV2>(path, std::move(*dir), std::move(procs));
        if (adopted && !config_.required_controllers.empty()) {
            if (auto s = job->take_baselines(); !s) return std::move(s).error();
        }
        return std::unique_ptr<JobCgroup>(std::move(job));
    }

    Result<std::vector<std::string>> remove_stale_jobs() override {
        auto names = cgfs::list_subdirs(jobs_);
        if (!names) return std::move(names).error();
        std::vector<std::string> removed;
        for (const auto& n : *names) {
            std::string path = jobs_ + "/" + n;
            auto dir = cgfs::open_dir(path);
            if (!dir) return std::move(dir).error();
            JobCgroupV2 job(path, std::move(*dir), UniqueFd());
            if (auto s = job.kill_all(); !s) return std::move(s).error();
            if (auto s = job.remove(); !s) return std::move(s).error();
            removed.push_back(path);
        }
        return removed;
    }

    Status remove_subtree() override {
        for (const std::string& dir : {jobs_, base_}) {
            if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && errno != EBUSY)
                return Error::system("rmdir " + dir);
        }
        return {};
    }

private:
    static bool has_word(std::string_view text, std::string_view word) {
        size_t pos = 0;
        while ((pos = text.find(word, pos)) != std::string_view::npos) {
            bool start = pos == 0 || text[pos - 1] == ' ';
            size_t end = pos + word.size();
            bool stop = end == text.size() || text[end] == ' ' || text[end] == '\n';
            if (start && stop) return true;
            pos = end;
        }
        return false;
    }
    static std::string trim(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s;
    }

    Status move_self_to_leaf() {
        std::string leaf = base_ + "/daemon";
        if (auto s = cgfs::ensure_dir(leaf); !s) return s;
        auto fd = cgfs::open_dir(leaf);
        if (!fd) return std::move(fd).error();
        return cgfs::write_file(fd->get(), leaf, "cgroup.procs", std::to_string(::getpid()));
    }

    CgroupV2Config config_;
    std::string base_;
    std::string jobs_;
};

}  // namespace

Result<std::unique_ptr<CgroupBackend>> open_cgroup_v2(const CgroupV2Config& config) {
    auto backend = std::make_unique<CgroupV2Backend>(config);
    if (auto s = backend->prepare(); !s) return std::move(s).error();
    return std::unique_ptr<CgroupBackend>(std::move(backend));
}

}  // namespace sbx::jail
