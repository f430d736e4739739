// HumanEval through sandboxd: problems per second at concurrency 1 and at the machine's best
// concurrency, beside the same programs spawned plainly (python3 on a temporary file, no
// sandbox), in one run. Every run is checked: a problem that fails counts as an error.
//
//   sudo build/bench/humaneval_throughput [--concurrency 1,2,4,8] [--rounds 3]
//        [--datasets DIR] [--sandboxd PATH]
//
// Starts its own sandboxd (temporary socket, runtime directory and cgroup subtree, no compile
// cache), as root. For each concurrency level and each way of running, all 164 programs are run
// `rounds` times; the median round's throughput is reported.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "protocol/client.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> load_programs(const std::string& datasets) {
    const std::string path = datasets + "/humaneval/HumanEval.jsonl.gz";
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) throw std::runtime_error("cannot open " + path);
    std::string text;
    char buf[65536];
    int n = 0;
    while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    gzclose(f);
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);
        out.push_back(j.at("prompt").get<std::string>() + j.at("canonical_solution").get<std::string>() + "\n" +
                      j.at("test").get<std::string>() + "\ncheck(" + j.at("entry_point").get<std::string>() + ")\n");
    }
    return out;
}

// A sandboxd of our own, stopped and cleaned up on destruction.
class Daemon {
public:
    Daemon(const std::string& binary, const std::string& policy_root, unsigned max_jobs) {
        name_ = "sandboxd-bench-" + std::to_string(::getpid());
        dir_ = "/tmp/" + name_;
        fs::create_directories(dir_);
        socket_ = dir_ + "/sock";
        std::vector<std::string> args = {binary,        "--socket",      socket_,        "--runtime-dir",
                                         "/run/" + name_, "--cgroup-name", name_,          "--group",
                                         "root",        "--max-jobs",    std::to_string(max_jobs),
                                         "--max-queue", "4096",          "--compile-cache-size", "0", "--cache-dir", dir_ + "/cache",
                                         "--probe-versions", "on-demand", "--log-level", "warn"};
        if (!policy_root.empty()) {
            args.insert(args.end(), {"--policies", policy_root + "/policies", "--languages", policy_root + "/languages"});
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            int log = ::open((dir_ + "/log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(log, 1);
            ::dup2(log, 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        for (int i = 0; i < 500; ++i) {
            if (sbx::protocol::Client::connect(socket_)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("sandboxd did not start; see " + dir_ + "/log");
    }
    ~Daemon() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        std::error_code ec;
        fs::remove_all(dir_, ec);
        fs::remove_all("/run/" + name_, ec);
    }
    const std::string& socket() const { return socket_; }

private:
    std::string name_, dir_, socket_;
    pid_t pid_ = -1;
};

struct Round {
    double seconds = 0;
    std::size_t failures = 0;
};

// Runs every program with `concurrency` workers; `one(program)` returns whether it passed.
template <class One>
Round run_round(const std::vector<std::string>& programs, unsigned concurrency, One one) {
    std::atomic<std::size_t> next{0}, failures{0};
    auto start = Clock::now();
    std::vector<std::thread> workers;
    for (unsigned w = 0; w < concurrency; ++w) {
        workers.emplace_back([&] {
            for (std::size_t i = next++; i < programs.size(); i = next++)
                if (!one(programs[i])) ++failures;
        });
    }
    for (auto& t : workers) t.join();
    return {std::chrono::duration<double>(Clock::now() - start).count(), failures.load()};
}

bool through_sandboxd(const std::string& socket, const std::string& program) {
    thread_local std::optional<sbx::protocol::Client> client;
    if (!client) {
        auto c = sbx::protocol::Client::connect(socket);
        if (!c) return false;
        client.emplace(std::move(*c));
    }
    sbx::protocol::RunRequest req;
    req.language = "python";
    req.source = program;
    auto reply = client->call(req);
    if (!reply || reply->kind != sbx::protocol::Reply::Kind::result) {
        client.reset();
        return false;
    }
    auto r = sbx::protocol::decode_result<sbx::protocol::RunResult>(*reply);
    return r && r->run.status == "ok";
}

// The same program with plain spawning: a temporary file, fork + exec /usr/bin/python3, wait.
bool plainly(const std::string& program) {
    char dir[] = "/tmp/humaneval-plain-XXXXXX";
    if (::mkdtemp(dir) == nullptr) return false;
    const std::string file = std::string(dir) + "/main.py";
    {
        std::ofstream(file, std::ios::binary) << program;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        if (::chdir(dir) != 0) ::_exit(126);
        const char* argv[] = {"/usr/bin/python3", "main.py", nullptr};
        const char* envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", nullptr};
        ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"HumanEval problems per second through sandboxd and with plain spawning"};
    std::vector<unsigned> levels{1, 2, 4, 8};
    unsigned rounds = 3;
    std::string datasets = (fs::path(SANDBOXD_SOURCE_DIR) / ".." / "shared" / "datasets").lexically_normal().string();
    std::string sandboxd = SANDBOXD_BINARY;
    std::string policy_root = (fs::path(SANDBOXD_SOURCE_DIR) / "policy").string();
    app.add_option("--concurrency", levels, "concurrency levels to measure")->delimiter(',');
    app.add_option("--rounds", rounds, "rounds per measurement (the median is reported)");
    app.add_option("--datasets", datasets, "the shared datasets directory");
    app.add_option("--sandboxd", sandboxd, "the sandboxd binary");
    CLI11_PARSE(app, argc, argv);
    if (::geteuid() != 0) {
        std::fprintf(stderr, "humaneval_throughput: run as root (it starts sandboxd)\n");
        return 1;
    }
    auto programs = load_programs(datasets);
    const unsigned max_level = *std::max_element(levels.begin(), levels.end());
    Daemon daemon(sandboxd, policy_root, max_level);
    std::printf("HumanEval: %zu programs (canonical solution + tests), python3; %u rounds per cell, median; %u CPUs\n\n",
                programs.size(), rounds, std::thread::hardware_concurrency());
    std::printf("%-12s %16s %16s %10s\n", "concurrency", "sandboxd (p/s)", "plain (p/s)", "ratio");
    double best_sandbox = 0, best_plain = 0;
    unsigned best_sandbox_at = 0, best_plain_at = 0;
    double sandbox_at_1 = 0, plain_at_1 = 0;
    std::size_t errors = 0;
    for (unsigned c : levels) {
        std::vector<double> sandboxed, plain;
        for (unsigned r = 0; r < rounds; ++r) {
            // Alternate the order so neither side always runs on a warmer machine.
            auto s = run_round(programs, c, [&](const std::string& p) { return through_sandboxd(daemon.socket(), p); });
            auto p = run_round(programs, c, plainly);
            errors += s.failures + p.failures;
            sandboxed.push_back(static_cast<double>(programs.size()) / s.seconds);
            plain.push_back(static_cast<double>(programs.size()) / p.seconds);
        }
        double s = median(sandboxed), p = median(plain);
        std::printf("%-12u %16.1f %16.1f %9.2fx\n", c, s, p, p / s);
        if (s > best_sandbox) best_sandbox = s, best_sandbox_at = c;
        if (p > best_plain) best_plain = p, best_plain_at = c;
        if (c == 1) sandbox_at_1 = s, plain_at_1 = p;
    }
    std::printf("\n");
    if (sandbox_at_1 > 0)
        std::printf("concurrency 1:    sandboxd %.1f p/s, plain %.1f p/s: sandboxd at %.0f%% of plain\n", sandbox_at_1,
                    plain_at_1, 100 * sandbox_at_1 / plain_at_1);
    std::printf("best concurrency: sandboxd %.1f p/s (at %u), plain %.1f p/s (at %u): sandboxd at %.0f%% of plain\n",
                best_sandbox, best_sandbox_at, best_plain, best_plain_at, 100 * best_sandbox / best_plain);
    std::printf("failed runs: %zu (every canonical solution should pass)\n", errors);
    return errors == 0 ? 0 : 1;
}
