#include "tests/e2e/daemon_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>

#include "daemon/jail/cgroup.hpp"
#include "policy/catalog.hpp"
#include "tests/support/host_inspection.hpp"

namespace sbx::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string sandboxd_binary() { return SANDBOXD_BINARY; }
std::string sandboxctl_binary() { return SANDBOXCTL_BINARY; }

DaemonProcess::DaemonProcess(DaemonOptions options) : options_(std::move(options)) {
    static int counter = 0;
    std::string name = "sandboxd-e2e-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    dir_ = "/tmp/" + name;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    socket_ = dir_ + "/sandboxd.sock";
    runtime_dir_ = "/run/" + name;
    cgroup_name_ = name;
    log_path_ = dir_ + "/sandboxd.log";
    if (options_.policies_dir.empty()) options_.policies_dir = (policy::source_tree_policy_dir() / "policies").string();
    if (options_.languages_dir.empty())
        options_.languages_dir = (policy::source_tree_policy_dir() / "languages").string();
    start();
}

DaemonProcess::~DaemonProcess() {
    if (pid_ > 0) stop();
    remove_everything();
}

void DaemonProcess::start() {
    std::vector<std::string> args = {sandboxd_binary(),   "--socket",      socket_,       "--runtime-dir",
                                     runtime_dir_,        "--cgroup-name", cgroup_name_,  "--group",
                                     options_.group,      "--policies",    options_.policies_dir,
                                     "--languages",       options_.languages_dir, "--log-level", "debug",
                                     "--cache-dir",       dir_ + "/cache", "--probe-versions", "on-demand"};
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    pid_ = fork();
    if (pid_ == 0) {
        if (!options_.netns.empty()) {
            int ns = open(("/run/netns/" + options_.netns).c_str(), O_RDONLY | O_CLOEXEC);
            if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
        }
        int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(log, 1);
        dup2(log, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    if (options_.expect_ready) wait_ready();
}

int DaemonProcess::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    return status;
}

void DaemonProcess::wait_ready() {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (protocol::Client::connect(socket_)) return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            ADD_FAILURE() << "sandboxd exited during start-up:\n" << log();
            return;
        }
        std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "sandboxd did not start listening within 20 s:\n" << log();
}

protocol::RunResult run_job(const DaemonProcess& daemon, const protocol::RunRequest& request) {
    auto client = protocol::Client::connect(daemon.socket());
    EXPECT_TRUE(client);
    if (!client) return {};
    auto reply = client->call(request);
    EXPECT_TRUE(reply);
    if (!reply) return {};
    EXPECT_EQ(reply->kind, protocol::Reply::Kind::result) << reply->error.message;
    auto r = protocol::decode_result<protocol::RunResult>(*reply);
    EXPECT_TRUE(r);
    return r ? *r : protocol::RunResult{};
}

std::string DaemonProcess::log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

protocol::Client DaemonProcess::client() const {
    auto c = protocol::Client::connect(socket_);
    if (!c) throw std::runtime_error("connect " + socket_ + ": " + c.error().message());
    return std::move(*c);
}

void DaemonProcess::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

int DaemonProcess::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ADD_FAILURE() << "sandboxd did not stop within 20 s of SIGTERM";
            ::kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    return status;
}

void DaemonProcess::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::vector<std::string> DaemonProcess::job_cgroups() const { return job_cgroup_dirs(cgroup_name_); }

// After a kill -9 nothing removed the daemon's cgroups: do it here, as its next start would.
void DaemonProcess::remove_everything() {
    jail::CgroupOptions cg;
    cg.subtree = cgroup_name_;
    if (auto backend = jail::open_cgroup_backend(cg)) {
        (void)(*backend)->remove_stale_jobs();
        (void)(*backend)->remove_subtree();
    }
    std::error_code ec;
    fs::remove_all(runtime_dir_, ec);
    fs::remove_all(dir_, ec);
}

}  // namespace sbx::testing

namespace sbx::testing {

int as_nobody(const std::function<int()>& body) {
    pid_t pid = fork();
    if (pid == 0) {
        gid_t groups[] = {0};
        if (setgroups(1, groups) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
        _exit(body());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

}  // namespace sbx::testing
