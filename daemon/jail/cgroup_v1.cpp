#include "daemon/jail/cgroup_v1.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "daemon/jail/cgroup_fs.hpp"

namespace sbx::jail {

namespace {

constexpr const char* kRequired[] = {"memory", "pids", "cpu", "cpuacct", "freezer"};
constexpr std::uint64_t kCpuPeriodUs = 100000;

bool has(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

struct Dir {
    std::string path;
    std::vector<std::string> controllers;
    UniqueFd fd;
    UniqueFd procs;  // cgroup.procs, opened for writing: the jail joins through it
};

class JobCgroupV1 final : public JobCgroup {
public:
    JobCgroupV1(std::vector<Dir> dirs, std::string label) : dirs_(std::move(dirs)), label_(std::move(label)) {
        for (size_t i = 0; i < dirs_.size(); ++i) {
            join_.push_back(dirs_[i].procs.get());
            for (const auto& c : dirs_[i].controllers) {
                if (c == "memory") memory_ = &dirs_[i];
                if (c == "pids") pids_ = &dirs_[i];
                if (c == "cpu") cpu_ = &dirs_[i];
                if (c == "cpuacct") cpuacct_ = &dirs_[i];
                if (c == "freezer") freezer_ = &dirs_[i];
            }
        }
    }
    JobCgroupV1(const JobCgroupV1&) = delete;
    JobCgroupV1& operator=(const JobCgroupV1&) = delete;
    ~JobCgroupV1() override { (void)remove(); }

    // Starts accounting from zero, also for an adopted (reused) cgroup.
    Status reset_accounting() {
        if (auto s = cgfs::write_file(cpuacct_->fd.get(), cpuacct_->path, "cpuacct.usage", "0"); !s) return s;
        if (auto s = cgfs::write_file(memory_->fd.get(), memory_->path, "memory.max_usage_in_bytes", "0"); !s)
            return s;
        auto oom = oom_kills_total();
        if (!oom) return std::move(oom).error();
        oom_baseline_ = *oom;
        return {};
    }

    Status set_limits(const CgroupLimits& limits) override {
        std::string mem = std::to_string(limits.memory_bytes);
        // memory.limit must stay <= memory.memsw.limit: which goes first depends on direction.
        auto s = cgfs::write_file(memory_->fd.get(), memory_->path, "memory.limit_in_bytes", mem);
        if (!s) {
            if (s.error().errnum != EINVAL) return s;
            if (auto m = write_memsw(mem); !m) return m;
            s = cgfs::write_file(memory_->fd.get(), memory_->path, "memory.limit_in_bytes", mem);
            if (!s) return s;
        }
        if (auto m = write_memsw(mem); !m) return m;
        if (auto p = cgfs::write_file(pids_->fd.get(), pids_->path, "pids.max", std::to_string(limits.pids)); !p)
            return p;
        auto quota = static_cast<std::uint64_t>(std::llround(limits.cpu_cores * kCpuPeriodUs));
        if (auto c = cgfs::write_file(cpu_->fd.get(), cpu_->path, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)); !c)
            return c;
        return cgfs::write_file(cpu_->fd.get(), cpu_->path, "cpu.cfs_quota_us", std::to_string(quota));
    }

    std::span<const int> join_fds() const override { return join_; }

    Result<std::uint64_t> cpu_usage_us() const override {
        auto ns = cgfs::read_u64(cpuacct_->fd.get(), cpuacct_->path, "cpuacct.usage");
        if (!ns) return std::move(ns).error();
        return *ns / 1000;
    }

    Result<CgroupUsage> usage() const override {
        CgroupUsage u;
        auto cpu = cpu_usage_us();
        if (!cpu) return std::move(cpu).error();
        u.cpu_usage_us = *cpu;
        auto peak = cgfs::read_u64(memory_->fd.get(), memory_->path, "memory.max_usage_in_bytes");
        if (!peak) return std::move(peak).error();
        u.memory_peak_bytes = *peak;
        auto oom = oom_kills_total();
        if (!oom) return std::move(oom).error();
        u.oom_kills = *oom - std::min(*oom, oom_baseline_);
        return u;
    }

    Status kill_all() override {
        if (auto s = set_frozen(true); !s) return s;
        auto procs = cgfs::read_file(freezer_->fd.get(), freezer_->path, "cgroup.procs");
        if (procs) {
            // Frozen processes cannot exit, so their pids cannot be reused while we signal.
            for (pid_t pid : cgfs::parse_pids(*procs)) ::kill(pid, SIGKILL);
        }
        auto thawed = set_frozen(false);
        if (!procs) return std::move(procs).error();
        return thawed;
    }

    Status set_frozen(bool frozen) override {
        const char* want = frozen ? "FROZEN" : "THAWED";
        if (auto s = cgfs::write_file(freezer_->fd.get(), freezer_->path, "freezer.state", want); !s) return s;
        if (!frozen) return {};
        return cgfs::wait_until(
            [this]() -> Result<bool> {
                auto state = cgfs::read_file(freezer_->fd.get(), freezer_->path, "freezer.state");
                if (!state) return std::move(state).error();
                return state->rfind("FROZEN", 0) == 0;
            },
            std::chrono::seconds(2), "freeze " + freezer_->path);
    }

    Status remove() override {
        if (removed_) return {};
        bool killed = false;
        for (auto& dir : dirs_) {
            dir.procs.reset();
            dir.fd.reset();
        }
        for (auto& dir : dirs_) {
            // rmdir is also the emptiness test: it fails with EBUSY while a process is inside.
            auto removed = cgfs::wait_until(
                [&]() -> Result<bool> {
                    if (::rmdir(dir.path.c_str()) == 0 || errno == ENOENT) return true;
                    if (errno != EBUSY) return Error::system("rmdir " + dir.path);
                    if (!killed) {
                        reopen_for_kill();
                        killed = true;
                    }
                    return false;
                },
                std::chrono::seconds(5), "rmdir " + dir.path);
            if (!removed) return removed;
        }
        removed_ = true;
        return {};
    }

    const std::string& path() const override { return label_; }

private:
    Status write_memsw(const std::string& value) {
        auto s = cgfs::write_file(memory_->fd.get(), memory_->path, "memory.memsw.limit_in_bytes", value);
        if (!s && s.error().errnum == ENOENT) return {};  // kernel without swap accounting: no swap to limit
        return s;
    }

    Result<std::uint64_t> oom_kills_total() const {
        auto text = cgfs::read_file(memory_->fd.get(), memory_->path, "memory.oom_control");
        if (!text) return std::move(text).error();
        return cgfs::keyed_value(*text, "oom_kill").value_or(0);
    }

    // remove() closed the fds; killing needs the freezer directory again.
    void reopen_for_kill() {
        if (auto fd = cgfs::open_dir(freezer_->path)) {
            freezer_->fd = std::move(*fd);
            (void)kill_all();
            freezer_->fd.reset();
        }
    }

    std::vector<Dir> dirs_;
    std::string label_;
    std::vector<int> join_;
    Dir* memory_ = nullptr;
    Dir* pids_ = nullptr;
    Dir* cpu_ = nullptr;
    Dir* cpuacct_ = nullptr;
    Dir* freezer_ = nullptr;
    std::uint64_t oom_baseline_ = 0;
    bool removed_ = false;
};

// The named hierarchy that turns on favordynmods (see cgroup_v1.hpp); unmounted on destruction.
class FavorDynmodsMount {
public:
    FavorDynmodsMount() = default;
    FavorDynmodsMount(const FavorDynmodsMount&) = delete;
    FavorDynmodsMount& operator=(const FavorDynmodsMount&) = delete;
    ~FavorDynmodsMount() {
        if (!path_.empty()) ::umount2(path_.c_str(), MNT_DETACH);
    }

    Status mount(const std::string& path) {
        if (auto s = cgfs::ensure_dir(path); !s) return s;
        if (::mount("cgroup", path.c_str(), "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "none,name=sandboxd,favordynmods") != 0)
            return Error::system("mount cgroup name=sandboxd,favordynmods on " + path);
        path_ = path;
        return {};
    }

private:
    std::string path_;
};

class CgroupV1Backend final : public CgroupBackend {
public:
    explicit CgroupV1Backend(std::vector<CgroupV1Hierarchy> hierarchies, std::string subtree)
        : hierarchies_(std::move(hierarchies)), subtree_(std::move(subtree)) {}

    Status favor_dynmods(const std::string& path) { return favor_.mount(path); }

    Status prepare() {
        for (const auto& h : hierarchies_) {
            if (auto s = cgfs::ensure_dir(base(h)); !s) return s;
            if (auto s = cgfs::ensure_dir(jobs(h)); !s) return s;
        }
        return {};
    }

    std::string_view name() const override { return "cgroup v1"; }

    std::vector<std::string> describe() const override {
        std::vector<std::string> out;
        for (const auto& h : hierarchies_) {
            std::string ctrls;
            for (const auto& c : h.controllers) ctrls += (ctrls.empty() ? "" : ",") + c;
            out.push_back(ctrls + ": " + jobs(h));
        }
        return out;
    }

    Result<std::unique_ptr<JobCgroup>> create_job(std::string_view job_name) override {
        std::vector<Dir> dirs;
        std::string label;
        bool adopted = false;
        for (const auto& h : hierarchies_) {
            Dir d;
            d.path = jobs(h) + "/" + std::string(job_name);
            d.controllers = h.controllers;
            if (::mkdir(d.path.c_str(), 0755) != 0) {
                if (errno != EEXIST) {
                    cleanup(dirs);
                    return Error::system("mkdir " + d.path);
                }
                adopted = true;
            }
            auto fd = cgfs::open_dir(d.path);
            if (!fd) {
                cleanup(dirs);
                return std::move(fd).error();
            }
            d.fd = std::move(*fd);
            if (adopted) {  // a leftover of the same name: reuse it only when empty
                auto procs = cgfs::read_file(d.fd.get(), d.path, "cgroup.procs");
                if (!procs || !cgfs::parse_pids(*procs).empty()) {
                    cleanup(dirs);
                    return Error::invalid("create cgroup " + d.path, "it exists and is in use");
                }
            }
            d.procs.reset(::openat(d.fd.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
            if (!d.procs) {
                Error e = Error::system("open " + d.path + "/cgroup.procs");
                cleanup(dirs);
                ::rmdir(d.path.c_str());
                return e;
            }
            if (label.empty()) label = d.path;
            dirs.push_back(std::move(d));
        }
        auto job = std::make_unique<JobCgroupV1>(std::move(dirs), label);
        if (adopted) {
            if (auto s = job->reset_accounting(); !s) return std::move(s).error();
        }
        return std::unique_ptr<JobCgroup>(std::move(job));
    }

    Result<std::vector<std::string>> remove_stale_jobs() override {
        std::vector<std::string> removed;
        std::vector<std::string> names;
        for (const auto& h : hierarchies_) {
            auto subdirs = cgfs::list_subdirs(jobs(h));
            if (!subdirs) return std::move(subdirs).error();
            for (auto& n : *subdirs)
                if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
        }
        for (const auto& n : names) {
            std::vector<Dir> dirs;
            for (const auto& h : hierarchies_) {
                Dir d;
                d.path = jobs(h) + "/" + n;
                d.controllers = h.controllers;
                struct stat st{};
                if (::stat(d.path.c_str(), &st) != 0) {
                    // Missing in this hierarchy (a crash between mkdirs): stand in an empty one.
                    if (auto s = cgfs::ensure_dir(d.path); !s) return std::move(s).error();
                }
                auto fd = cgfs::open_dir(d.path);
                if (!fd) return std::move(fd).error();
                d.fd = std::move(*fd);
                dirs.push_back(std::move(d));
            }
            JobCgroupV1 job(std::move(dirs), jobs(hierarchies_.front()) + "/" + n);
            if (auto s = job.kill_all(); !s) return std::move(s).error();
            if (auto s = job.remove(); !s) return std::move(s).error();
            removed.push_back(job.path());
        }
        return removed;
    }

    Status remove_subtree() override {
        for (const auto& h : hierarchies_) {
            for (const std::string& dir : {jobs(h), base(h)}) {
                if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Error::system("rmdir " + dir);
            }
        }
        return {};
    }

private:
    std::string base(const CgroupV1Hierarchy& h) const { return h.own_dir + "/" + subtree_; }
    std::string jobs(const CgroupV1Hierarchy& h) const { return base(h) + "/jobs"; }

    static void cleanup(std::vector<Dir>& dirs) {
        for (auto& d : dirs) {
            d.procs.reset();
            d.fd.reset();
            ::rmdir(d.path.c_str());
        }
    }

    std::vector<CgroupV1Hierarchy> hierarchies_;
    std::string subtree_;
    FavorDynmodsMount favor_;
};

}  // namespace

Result<std::unique_ptr<CgroupBackend>> open_cgroup_v1(std::vector<CgroupV1Hierarchy> hierarchies,
                                                      const std::string& subtree,
                                                      const std::string& favordynmods_mount) {
    for (const char* controller : kRequired) {
        bool found = std::any_of(hierarchies.begin(), hierarchies.end(),
                                 [&](const CgroupV1Hierarchy& h) { return has(h.controllers, controller); });
        if (!found)
            return Error::invalid("cgroup v1", std::string("required controller '") + controller +
                                                   "' is not mounted");
    }
    // Keep only the hierarchies we use.
    std::erase_if(hierarchies, [](const CgroupV1Hierarchy& h) {
        return std::none_of(std::begin(kRequired), std::end(kRequired),
                            [&](const char* c) { return has(h.controllers, c); });
    });
    auto backend = std::make_unique<CgroupV1Backend>(std::move(hierarchies), subtree);
    if (auto s = backend->prepare(); !s) return std::move(s).error();
    if (!favordynmods_mount.empty()) {
        if (auto s = backend->favor_dynmods(favordynmods_mount); !s) return std::move(s).error();
    }
    return std::unique_ptr<CgroupBackend>(std::move(backend));
}

}  // namespace sbx::jail
