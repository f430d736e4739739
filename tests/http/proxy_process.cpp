#include "tests/http/proxy_process.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <sstream>
#include <thread>

namespace sbx::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string sandbox_http_binary() { return SANDBOX_HTTP_BINARY; }

ProxyProcess::ProxyProcess(ProxyOptions options) : ProxyProcess(std::move(options), true) {}

ProxyProcess ProxyProcess::start_only(ProxyOptions options) { return ProxyProcess(std::move(options), false); }

ProxyProcess::ProxyProcess(ProxyOptions options, bool wait) : options_(std::move(options)) {
    static int counter = 0;
    dir_ = "/tmp/sandbox-http-e2e-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The proxy opens its database after switching users: the directory must be its own.
    if (!options_.user.empty()) {
        passwd* pw = getpwnam(options_.user.c_str());
        if (pw == nullptr) {
            ADD_FAILURE() << "no user " << options_.user << ": run scripts/install-deps.sh";
        } else if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            ADD_FAILURE() << "chown " << dir_;
        }
    }
    log_path_ = dir_ + "/sandbox-http.log";
    launch();
    if (wait) wait_listening();
}

ProxyProcess::~ProxyProcess() {
    if (pid_ > 0) stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void ProxyProcess::launch() {
    std::vector<std::string> args = {sandbox_http_binary(), "--listen", "127.0.0.1:0", "--socket", options_.socket,
                                     "--db", dir_ + "/submissions.db", "--log-level", "debug"};
    if (!options_.user.empty()) {
        args.push_back("--user");
        args.push_back(options_.user);
    }
    if (!options_.tokens.empty()) {
        std::string path = dir_ + "/tokens";
        std::ofstream(path) << options_.tokens;
        args.push_back("--tokens");
        args.push_back(path);
    }
    args.insert(args.end(), options_.args.begin(), options_.args.end());
    pid_ = fork();
    if (pid_ == 0) {
        int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(log, 1);
        dup2(log, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
}

void ProxyProcess::wait_listening() {
    static const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch m;
        std::string text = log();
        // Listening, and connected to sandboxd (so that the first request does not race the pool).
        if (std::regex_search(text, m, listening) && text.find("connected to") != std::string::npos) {
            port_ = static_cast<unsigned short>(std::stoi(m[1].str()));
            return;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            ADD_FAILURE() << "sandbox-http exited during start-up:\n" << log();
            return;
        }
        std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "sandbox-http did not start listening within 20 s:\n" << log();
}

std::string ProxyProcess::log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

namespace {
long status_field(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    return -1;
}
}  // namespace

long ProxyProcess::rss_kib() const { return status_field(pid_, "VmRSS"); }
long ProxyProcess::uid() const { return status_field(pid_, "Uid"); }

void ProxyProcess::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

int ProxyProcess::stop(int timeout_s) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ADD_FAILURE() << "sandbox-http did not stop within " << timeout_s << " s of SIGTERM";
            ::kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            pid_ = -1;
            return -1;
        }
        std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    return status;
}

int ProxyProcess::wait_exit(int timeout_s) {
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace sbx::testing
