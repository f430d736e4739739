// What a job's network costs: start-to-exit latency of the same job with no network namespace
// of its own, with policy network "none" (a namespace made ahead of time by the pool, or a
// fresh one from CLONE_NEWNET), and with "egress" (a prepared namespace with its veth, plus
// the job's nftables elements, then veth and rules removed). Alternating in one run, medians
// and ratios; then the parts measured one by one.
//
//   network_latency [--iterations N]      (root)
//
// The benchmark first moves itself into a network namespace of its own (unshare), so the
// nftables table, the veths and IPv4 forwarding it sets up never touch the machine's own.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/jail/execution.hpp"
#include "daemon/jail/jail_template.hpp"
#include "daemon/jail/netns_pool.hpp"
#include "daemon/jail/network_runtime.hpp"
#include "daemon/jail/runtime.hpp"
#include "policy/catalog.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace sbx;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

struct Stats {
    double median, p10, p90;
};

Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))]; };
    return {at(0.5), at(0.1), at(0.9)};
}

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "network_latency: %s\n", message.c_str());
    std::exit(1);
}

template <class T>
T must(Result<T> r, const char* what) {
    if (!r) die(std::string(what) + ": " + r.error().message());
    return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"job latency by network mode: no namespace, none (pool / clone), egress"};
    int iterations = 200;
    app.add_option("--iterations", iterations, "runs of each variant")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    if (geteuid() != 0) die("run as root");

    // Single-threaded still: both unshares apply to the whole process from here on.
    if (::unshare(CLONE_NEWNET) != 0) die("unshare network namespace");
    if (auto s = jail::isolate_mount_namespace(); !s) die(s.error().message());
    sbx::UniqueFd own_netns(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));

    std::string name = "sandboxd-bench-" + std::to_string(getpid());
    jail::CgroupOptions cg;
    cg.subtree = name;
    cg.favordynmods_mount = "auto";
    auto runtime = must(jail::open_jail_runtime("/run/" + name, cg), "jail runtime");
    jail::NetworkOptions net;
    net.isolated_pool = 4;
    net.egress_pool = 2;
    runtime->network = must(jail::NetworkRuntime::open(net), "network runtime");
    must(runtime->network->enable_egress(), "egress");
    {
        // lo of the benchmark's own namespace, for the job without a namespace of its own.
        auto sock = must(jail::RouteSocket::open(), "netlink");
        if (auto s = jail::bring_up_link(sock, "lo"); !s) die(s.error().message());
    }

    auto policy = must(policy::load_policy_file(policy::source_tree_policy_dir() / "policies" / "default.toml"), "policy");
    auto none_template = must(jail::compile_jail_template(policy), "template");
    policy::Policy egress_policy = policy;
    egress_policy.network.mode = policy::NetworkMode::egress;
    egress_policy.network.allow.push_back(*policy::parse_allow_entry("203.0.113.0/24:443"));
    auto egress_template = must(jail::compile_jail_template(egress_policy), "egress template");

    enum class Variant { no_netns, none_clone, none_pool, egress };
    const char* labels[] = {"no netns", "none, clone", "none, pool", "egress"};
    unsigned counter = 0;
    auto run = [&](Variant v, const std::vector<std::string>& program) {
        auto t0 = Clock::now();
        auto tmpl = v == Variant::egress ? egress_template : none_template;
        auto box = must(runtime->box_ids.acquire(tmpl->box_ids), "box id");
        auto ws = must(jail::Workspace::create(runtime->jobs_dir, "b" + std::to_string(++counter),
                                               policy.limits.defaults().tmpfs_bytes, std::move(box)),
                       "workspace");
        jail::ExecRequest req;
        req.name = "b" + std::to_string(++counter);
        req.argv = program;
        req.limits = policy.limits.defaults();
        if (v == Variant::no_netns) req.netns_fd = own_netns.get();
        std::unique_ptr<jail::NetworkRuntime> parked;
        if (v == Variant::none_clone) parked = std::move(runtime->network);  // no pool: CLONE_NEWNET
        auto result = jail::execute(*runtime, tmpl, ws, std::move(req));
        if (parked) runtime->network = std::move(parked);
        (void)ws.release();
        double ms = ms_since(t0);
        if (result.status != jail::JobStatus::ok)
            die(std::string(labels[static_cast<int>(v)]) + " run failed: " + std::string(to_string(result.status)) + " " +
                result.message);
        return ms;
    };

    std::printf("%d runs of each, alternating; milliseconds from start to exit, including workspace, cgroup,\n"
                "network set-up and teardown (egress: a prepared namespace with its veth, the job's nftables\n"
                "elements added, then veth and elements removed)\n\n",
                iterations);
    std::printf("%-28s %-12s %8s %8s %8s %12s\n", "program", "network", "median", "p10", "p90", "vs no netns");
    const std::vector<std::vector<std::string>> programs = {{"/bin/true"}, {"/usr/bin/python3", "-c", "pass"}};
    for (const auto& program : programs) {
        std::vector<double> times[4];
        for (int i = 0; i < 5; ++i)
            for (int v = 0; v < 4; ++v) run(static_cast<Variant>(v), program);
        for (int i = 0; i < iterations; ++i)
            for (int v = 0; v < 4; ++v) times[v].push_back(run(static_cast<Variant>(v), program));
        std::string label = program[0] + (program.size() > 1 ? " " + program[1] + " " + program[2] : "");
        Stats base = stats(times[0]);
        for (int v = 0; v < 4; ++v) {
            Stats s = stats(times[v]);
            std::printf("%-28s %-12s %8.3f %8.3f %8.3f %11.2fx\n", v == 0 ? label.c_str() : "", labels[v], s.median,
                        s.p10, s.p90, s.median / base.median);
        }
        std::printf("\n");
    }

    // The parts, one at a time, on this thread (the pool's worker does the first two in the daemon).
    std::vector<double> isolated, egress, attach, teardown;
    auto home = own_netns.get();
    auto host = std::make_shared<jail::SharedRouteSocket>(must(jail::RouteSocket::open(), "netlink"));
    auto addresses = must(jail::AddressPool::create(*policy::parse_ipv4_cidr("10.232.0.0/16")), "addresses");
    // Another job of the policy keeps its chains in place, as under load.
    auto keeper = must(runtime->network->table()->attach("sbx99999", 0x0AE8FFFE, egress_template->nft_chains), "attach");
    for (int i = 0; i < iterations; ++i) {
        auto t0 = Clock::now();
        auto iso = must(jail::make_netns(home, host, nullptr), "isolated namespace");
        isolated.push_back(ms_since(t0));
        t0 = Clock::now();
        auto eg = must(jail::make_netns(home, host, addresses), "egress namespace");
        egress.push_back(ms_since(t0));
        const auto& slot = eg.link->slot();
        t0 = Clock::now();
        auto rules = must(runtime->network->table()->attach(slot.host_link, slot.jail, egress_template->nft_chains),
                          "attach");
        attach.push_back(ms_since(t0));
        t0 = Clock::now();
        if (auto s = eg.link->remove(); !s) die(s.error().message());
        if (auto s = rules->remove(); !s) die(s.error().message());
        teardown.push_back(ms_since(t0));
    }
    if (auto s = keeper->remove(); !s) die(s.error().message());
    std::printf("%-50s %8s %8s %8s\n", "part", "median", "p10", "p90");
    auto line = [](const char* what, const std::vector<double>& v) {
        Stats s = stats(v);
        std::printf("%-50s %8.3f %8.3f %8.3f\n", what, s.median, s.p10, s.p90);
    };
    line("make an isolated namespace (unshare, lo up)", isolated);
    line("make an egress namespace (+ veth, addresses, route)", egress);
    line("add a job's nftables elements (policy chains exist)", attach);
    line("delete the veth, remove the job's elements", teardown);

    runtime->network.reset();
    (void)runtime->cgroups->remove_subtree();
    std::string dir = runtime->runtime_dir;
    runtime.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
