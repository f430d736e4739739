// Start-to-exit latency of one short program: in a sandboxd jail (cgroup, namespaces, seccomp,
// fresh workspace, everything torn down), in bubblewrap, and spawned plainly, measured
// alternately in one run so machine noise hits all three alike. Prints medians and ratios.
//
//   jail_latency [--iterations N] [--no-favordynmods]      (root)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/jail/execution.hpp"
#include "daemon/jail/jail_template.hpp"
#include "daemon/jail/runtime.hpp"
#include "policy/catalog.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double spawn_and_wait(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    auto t0 = Clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
        std::perror("posix_spawn");
        std::exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    double ms = ms_since(t0);
    posix_spawn_file_actions_destroy(&actions);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "%s failed (status %d)\n", argv[0].c_str(), status);
        std::exit(1);
    }
    return ms;
}

std::vector<std::string> bwrap_argv(const std::vector<std::string>& program) {
    std::vector<std::string> argv = {"/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/usr", "/usr"};
    for (const char* link : {"lib", "lib64", "bin", "sbin"}) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(std::string("/") + link, ec);
        if (!ec) argv.insert(argv.end(), {"--symlink", target.string(), std::string("/") + link});
    }
    argv.insert(argv.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--cap-drop", "ALL"});
    argv.insert(argv.end(), program.begin(), program.end());
    return argv;
}

struct Stats {
    double median, p10, p90;
};

Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))]; };
    return {at(0.5), at(0.1), at(0.9)};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"jail start-to-exit latency beside bubblewrap and plain spawning"};
    int iterations = 200;
    bool no_favor = false;
    bool only_sandboxd = false;
    app.add_option("--iterations", iterations, "runs of each program per contender")->check(CLI::PositiveNumber);
    app.add_flag("--no-favordynmods", no_favor, "leave the kernel's cgroup mode alone (v1: slower joins)");
    app.add_flag("--only-sandboxd", only_sandboxd, "measure the jail alone (for profiling)");
    CLI11_PARSE(app, argc, argv);

    if (geteuid() != 0) {
        std::fprintf(stderr, "jail_latency: run as root\n");
        return 2;
    }
    if (access("/usr/bin/bwrap", X_OK) != 0) {
        std::fprintf(stderr, "jail_latency: /usr/bin/bwrap missing (apt-get install bubblewrap)\n");
        return 2;
    }
    using namespace sbx;
    if (auto s = jail::isolate_mount_namespace(); !s) {
        std::fprintf(stderr, "%s\n", s.error().message().c_str());
        return 1;
    }
    std::string name = "sandboxd-bench-" + std::to_string(getpid());
    jail::CgroupOptions cg;
    cg.subtree = name;
    cg.favordynmods_mount = no_favor ? "" : "auto";
    auto runtime = jail::open_jail_runtime("/run/" + name, cg);
    if (!runtime) {
        std::fprintf(stderr, "%s\n", runtime.error().message().c_str());
        return 1;
    }
    auto policy = policy::load_policy_file(policy::source_tree_policy_dir() / "policies" / "default.toml");
    if (!policy) {
        std::fprintf(stderr, "%s\n", policy.error().message().c_str());
        return 1;
    }
    auto tmpl = jail::compile_jail_template(*policy);
    if (!tmpl) {
        std::fprintf(stderr, "%s\n", tmpl.error().message().c_str());
        return 1;
    }
    std::printf("cgroups: %s%s\n", std::string((*runtime)->cgroups->name()).c_str(),
                no_favor ? " (favordynmods off)" : "");

    unsigned counter = 0;
    auto jail_run = [&](const std::vector<std::string>& program) {
        auto t0 = Clock::now();
        auto box = (*runtime)->box_ids.acquire(tmpl.value()->box_ids);
        auto ws = jail::Workspace::create((*runtime)->jobs_dir, "b" + std::to_string(++counter),
                                          policy->limits.defaults().tmpfs_bytes, std::move(*box));
        if (!ws) {
            std::fprintf(stderr, "%s\n", ws.error().message().c_str());
            std::exit(1);
        }
        jail::ExecRequest req;
        req.name = "b" + std::to_string(++counter);
        req.argv = program;
        req.limits = policy->limits.defaults();
        auto result = jail::execute(**runtime, *tmpl, *ws, std::move(req));
        (void)ws->release();
        double ms = ms_since(t0);
        if (result.status != jail::JobStatus::ok) {
            std::fprintf(stderr, "jail run failed: %s %s\n", std::string(to_string(result.status)).c_str(),
                         result.message.c_str());
            std::exit(1);
        }
        return ms;
    };

    const std::vector<std::vector<std::string>> programs = {{"/bin/true"}, {"/usr/bin/python3", "-c", "pass"}};
    std::printf("%d runs each, alternating; milliseconds from start to exit (jail: includes workspace and cgroup\n"
                "creation and teardown)\n\n",
                iterations);
    std::printf("%-28s %-10s %8s %8s %8s %10s\n", "program", "contender", "median", "p10", "p90", "vs plain");
    for (const auto& program : programs) {
        std::vector<double> plain, bwrap, ours;
        auto bw = bwrap_argv(program);
        for (int i = 0; i < 5; ++i) {  // warm caches
            spawn_and_wait(program);
            spawn_and_wait(bw);
            jail_run(program);
        }
        for (int i = 0; i < iterations; ++i) {
            if (only_sandboxd) {
                ours.push_back(jail_run(program));
                continue;
            }
            plain.push_back(spawn_and_wait(program));
            bwrap.push_back(spawn_and_wait(bw));
            ours.push_back(jail_run(program));
        }
        std::string label = program[0] + (program.size() > 1 ? " " + program[1] + " " + program[2] : "");
        if (only_sandboxd) {
            Stats o = stats(ours);
            std::printf("%-28s %-10s %8.3f %8.3f %8.3f\n", label.c_str(), "sandboxd", o.median, o.p10, o.p90);
            continue;
        }
        Stats p = stats(plain), b = stats(bwrap), o = stats(ours);
        std::printf("%-28s %-10s %8.3f %8.3f %8.3f %9.1fx\n", label.c_str(), "plain", p.median, p.p10, p.p90, 1.0);
        std::printf("%-28s %-10s %8.3f %8.3f %8.3f %9.1fx\n", "", "bwrap", b.median, b.p10, b.p90, b.median / p.median);
        std::printf("%-28s %-10s %8.3f %8.3f %8.3f %9.1fx\n", "", "sandboxd", o.median, o.p10, o.p90,
                    o.median / p.median);
        std::printf("%-28s sandboxd / bwrap median: %.2f\n\n", "", o.median / b.median);
    }
    (void)(*runtime)->cgroups->remove_subtree();
    std::string dir = (*runtime)->runtime_dir;
    runtime->reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
