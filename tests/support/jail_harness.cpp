#include "tests/support/jail_harness.hpp"

#include "tests/support/host_inspection.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <gtest/gtest.h>
#include <sstream>

#include "daemon/jail/cgroup_discovery.hpp"
#include "daemon/jail/cgroup_fs.hpp"
#include "policy/catalog.hpp"

namespace sbx::testing {

namespace {

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "jail test harness: %s\n", message.c_str());
    std::exit(2);
}

std::string subtree_name() { return "sandboxd-test-" + std::to_string(::getpid()); }

std::size_t count_dir_entries(const std::string& path) {
    std::size_t n = 0;
    if (DIR* d = ::opendir(path.c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
    }
    return n;
}

// Cleans up even when a test fails or aborts an assertion.
class HarnessEnvironment : public ::testing::Environment {
public:
    void TearDown() override { JailHarness::get().tear_down(); }
};

// A test process that crashed could not clean up: remove the cgroup subtrees and runtime
// directories of test processes that no longer exist.
void remove_leftovers_of_dead_test_runs() {
    const std::string prefix = "sandboxd-test-";
    auto alive = [](const std::string& name, const std::string& pfx) {
        std::string pid = name.substr(pfx.size());
        return pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos ||
               ::access(("/proc/" + pid).c_str(), F_OK) == 0;
    };
    std::set<std::string> dead;
    auto layout = jail::read_cgroup_layout();
    if (layout) {
        for (const auto& m : layout->mounts)
            for (const auto& member : layout->memberships) {
                bool same = m.unified ? member.controllers.empty() : member.controllers == m.controllers;
                auto dir = same ? jail::cgroup_dir_in_mount(m, member.path) : Result<std::string>(Error{});
                if (!dir) continue;
                if (auto subdirs = jail::cgfs::list_subdirs(*dir))
                    for (const auto& name : *subdirs)
                        if (name.rfind(prefix, 0) == 0 && !alive(name, prefix)) dead.insert(name);
            }
    }
    for (const auto& name : dead) {
        jail::CgroupOptions cg;
        cg.subtree = name;
        if (auto backend = jail::open_cgroup_backend(cg)) {
            (void)(*backend)->remove_stale_jobs();
            (void)(*backend)->remove_subtree();
        }
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/run", ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) == 0 && !alive(name, prefix)) std::filesystem::remove_all(entry.path(), ec);
    }
}

}  // namespace

JailHarness& JailHarness::get() {
    static JailHarness* harness = [] {
        auto* h = new JailHarness();
        ::testing::AddGlobalTestEnvironment(new HarnessEnvironment());
        return h;
    }();
    return *harness;
}

JailHarness::JailHarness() {
    if (::geteuid() != 0) die("these tests run real jails and need root");
    if (auto s = jail::isolate_mount_namespace(); !s) die(s.error().message());
    remove_leftovers_of_dead_test_runs();
    runtime_dir_ = "/run/" + subtree_name();
    jail::CgroupOptions cg;
    cg.subtree = subtree_name();
    cg.favordynmods_mount = "auto";
    auto rt = jail::open_jail_runtime(runtime_dir_, cg);
    if (!rt) die(rt.error().message());
    runtime_ = std::move(*rt);
    auto policy = policy::load_policy_file(policy::source_tree_policy_dir() / "policies" / "default.toml");
    if (!policy) die(policy.error().message());
    policy_ = std::move(*policy);
    auto tmpl = jail::compile_jail_template(policy_);
    if (!tmpl) die(tmpl.error().message());
    template_ = std::move(*tmpl);
}

void JailHarness::tear_down() {
    if (!runtime_) return;
    (void)runtime_->cgroups->remove_stale_jobs();
    (void)runtime_->cgroups->remove_subtree();
    runtime_.reset();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir_, ec);
}

std::string JailHarness::next_name() { return "t" + std::to_string(++counter_); }

Result<jail::Workspace> JailHarness::make_workspace(const policy::IdRange& ids, std::uint64_t size) {
    auto box = runtime_->box_ids.acquire(ids);
    if (!box) return std::move(box).error();
    return jail::Workspace::create(runtime_->jobs_dir, next_name(), size, std::move(*box));
}

jail::ExecResult JailHarness::run_with(std::shared_ptr<const jail::JailTemplate> jail, std::vector<std::string> argv,
                                       const RunOptions& options) {
    policy::Limits limits = options.limits.value_or(default_limits());
    auto ws = make_workspace(jail->box_ids, limits.tmpfs_bytes);
    if (!ws) {
        jail::ExecResult r;
        r.message = ws.error().message();
        return r;
    }
    for (const auto& [name, content] : options.files) {
        if (auto s = ws->write_file(name, content, 0755); !s) {
            jail::ExecResult r;
            r.message = s.error().message();
            return r;
        }
    }
    jail::ExecRequest req;
    req.name = next_name();
    req.argv = std::move(argv);
    req.env = options.env;
    req.stdin_data = options.stdin_data;
    req.limits = limits;
    return jail::execute(*runtime_, std::move(jail), *ws, std::move(req));
}

jail::ExecResult JailHarness::run(std::vector<std::string> argv, const RunOptions& options) {
    return run_with(template_, std::move(argv), options);
}

jail::ExecResult JailHarness::sh(const std::string& script, const RunOptions& options) {
    return run({"/bin/sh", "-c", script}, options);
}

jail::ExecResult JailHarness::py(const std::string& code, const RunOptions& options) {
    return run({"/usr/bin/python3", "-c", code}, options);
}

std::shared_ptr<const jail::JailTemplate> JailHarness::template_with(const std::function<void(policy::Policy&)>& edit) {
    policy::Policy p = policy_;
    edit(p);
    auto t = jail::compile_jail_template(p);
    if (!t) die(t.error().message());
    return *t;
}

ResourceCounts count_resources() {
    ResourceCounts c;
    std::ifstream mounts("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mounts, line)) ++c.mounts;
    c.fds = count_dir_entries("/proc/self/fd");
    std::ifstream children("/proc/self/task/" + std::to_string(::getpid()) + "/children");
    std::string pid;
    while (children >> pid) ++c.child_processes;
    c.job_cgroups = job_cgroup_dirs(subtree_name()).size();
    return c;
}

}  // namespace sbx::testing
