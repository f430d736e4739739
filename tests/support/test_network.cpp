#include "tests/support/test_network.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>

namespace sbx::testing {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kPrefix = "sbxt-";

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "test network: %s\n", message.c_str());
    std::exit(2);
}

// One program for every service: TCP banner/hold ports, a TCP stream port, UDP echo ports.
// Each accepted peer is appended to the log file; "ready" goes to stdout once all are bound.
constexpr const char* kServices = R"(
import socket, socketserver, sys, threading
log_path = sys.argv[1]
lock = threading.Lock()
def record(sock, peer):
    me = sock.getsockname()
    with lock, open(log_path, "a") as f:
        f.write("%s:%d from %s\n" % (me[0], me[1], peer[0]))
class Banner(socketserver.BaseRequestHandler):
    def handle(self):
        record(self.request, self.client_address)
        self.request.sendall(b"hello %d\n" % self.server.server_address[1])
        try:
            while self.request.recv(4096):
                pass
        except OSError:
            pass
class Stream(socketserver.BaseRequestHandler):
    def handle(self):
        record(self.request, self.client_address)
        chunk = b"x" * 65536
        try:
            for _ in range(128):
                self.request.sendall(chunk)
        except OSError:
            pass
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        record(sock, self.client_address)
        sock.sendto(data, self.client_address)
class TCP(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
servers = []
for spec in sys.argv[2:]:
    kind, port = spec.split(":")
    if kind == "udp":
        servers.append(socketserver.UDPServer(("0.0.0.0", int(port)), Echo))
    else:
        servers.append(TCP(("0.0.0.0", int(port)), Stream if kind == "stream" else Banner))
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
)";

struct Command {
    int status = -1;
    std::string out;
};

Command run_command(const std::vector<std::string>& argv) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) die("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipefd[1], 1);
        int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    Command c;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) c.out.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
    ::waitpid(pid, &c.status, 0);
    return c;
}

void must(const std::vector<std::string>& argv) {
    auto c = run_command(argv);
    if (c.status != 0) {
        std::string line;
        for (const auto& a : argv) line += a + " ";
        die("failed: " + line);
    }
}

bool pid_alive(const std::string& pid) {
    return !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos &&
           ::access(("/proc/" + pid).c_str(), F_OK) == 0;
}

// Namespaces "sbxt-<pid>-<n>-host|world" (and /tmp/sbxt-<pid>-...) of test processes that no
// longer exist. Their services died with the test (parent-death signal).
void remove_dead_test_namespaces() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind(kPrefix, 0) != 0) continue;
        std::string rest = name.substr(std::string(kPrefix).size());
        std::string pid = rest.substr(0, rest.find('-'));
        if (!pid_alive(pid)) (void)run_command({"ip", "netns", "del", name});
    }
    // Their files too: service logs, policy directories.
    for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind(kPrefix, 0) != 0) continue;
        std::string rest = name.substr(std::string(kPrefix).size());
        if (!pid_alive(rest.substr(0, rest.find('-')))) fs::remove_all(entry.path(), ec);
    }
}

std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

}  // namespace

std::string netns_of_file(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return "unknown " + path;
    return "net:[" + std::to_string(st.st_ino) + "]";
}

std::string netns_of_thread() { return netns_of_file("/proc/thread-self/ns/net"); }
std::string netns_of_process(pid_t pid) { return netns_of_file("/proc/" + std::to_string(pid) + "/ns/net"); }

std::string ip_forward() {
    std::ifstream in("/proc/sys/net/ipv4/ip_forward");
    std::string v;
    in >> v;
    return v;
}

NetnsGuard::NetnsGuard(const std::string& path) {
    previous_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!previous_ || !target || ::setns(target.get(), CLONE_NEWNET) != 0) die("cannot enter " + path);
}

NetnsGuard::~NetnsGuard() {
    if (::setns(previous_.get(), CLONE_NEWNET) != 0) die("cannot return to the previous network namespace");
}

TestNetwork::TestNetwork() {
    if (::geteuid() != 0) die("network tests need root");
    remove_dead_test_namespaces();
    static int counter = 0;
    prefix_ = std::string(kPrefix) + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    host_ = prefix_ + "-host";
    world_ = prefix_ + "-world";
    dir_ = "/tmp/" + prefix_;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    must({"ip", "netns", "add", host_});
    must({"ip", "netns", "add", world_});
    // Only ever inside the two test namespaces: `-n` names them on every command.
    must({"ip", "link", "add", "wan0", "netns", host_, "type", "veth", "peer", "name", "wan0", "netns", world_});
    for (const auto& [ns, address] : {std::pair{host_, "192.0.2.1/24"}, std::pair{world_, "192.0.2.2/24"}}) {
        must({"ip", "-n", ns, "link", "set", "lo", "up"});
        must({"ip", "-n", ns, "addr", "add", address, "dev", "wan0"});
        must({"ip", "-n", ns, "link", "set", "wan0", "up"});
    }
    must({"ip", "-n", host_, "route", "add", "default", "via", "192.0.2.2"});
    for (const char* a : {"203.0.113.10/32", "10.99.0.10/32", "100.1.2.3/32"})
        must({"ip", "-n", world_, "addr", "add", a, "dev", "lo"});
    start_service(world_, dir_ + "/world.log", world_pid_,
                  {"tcp:8080", "tcp:9090", "stream:8082", "udp:53", "udp:5353"});
    start_service(host_, dir_ + "/host.log", host_pid_, {"tcp:7070", "udp:7070"});
}

void TestNetwork::start_service(const std::string& ns, const std::string& log, pid_t& pid,
                                const std::vector<std::string>& args) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) die("pipe");
    std::vector<std::string> argv = {"ip", "netns", "exec", ns, "/usr/bin/python3", "-c", kServices, log};
    argv.insert(argv.end(), args.begin(), args.end());
    pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // survives exec: the service dies with the test
        ::dup2(pipefd[1], 1);
        std::vector<char*> a;
        for (auto& s : argv) a.push_back(s.data());
        a.push_back(nullptr);
        ::execvp(a[0], a.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    std::string got;
    char c;
    while (got.find('\n') == std::string::npos && ::read(pipefd[0], &c, 1) == 1) got += c;
    ::close(pipefd[0]);
    if (got != "ready\n") die("service in " + ns + " did not start");
}

TestNetwork::~TestNetwork() {
    for (pid_t pid : {world_pid_, host_pid_}) {
        if (pid <= 0) continue;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    (void)run_command({"ip", "netns", "del", host_});
    (void)run_command({"ip", "netns", "del", world_});
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

std::string TestNetwork::run_in(const std::string& ns, const std::vector<std::string>& argv, bool allow_failure) const {
    std::vector<std::string> full = {"ip", "netns", "exec", ns};
    full.insert(full.end(), argv.begin(), argv.end());
    auto c = run_command(full);
    if (!allow_failure) {
        EXPECT_EQ(c.status, 0) << argv[0] << " in " << ns << " failed";
    }
    return c.out;
}

std::vector<std::string> TestNetwork::host_links() const {
    std::vector<std::string> names;
    std::istringstream in(run_command({"ip", "-n", host_, "-br", "link"}).out);
    std::string line;
    while (std::getline(in, line)) {
        std::string name = line.substr(0, line.find_first_of(" @"));
        if (!name.empty()) names.push_back(name);
    }
    return names;
}

std::string TestNetwork::host_ruleset() const { return run_in(host_, {"nft", "list", "ruleset"}); }

std::string TestNetwork::host_addresses() const { return run_command({"ip", "-n", host_, "-4", "-o", "addr"}).out; }

std::vector<std::string> TestNetwork::world_accepted() const { return read_lines(dir_ + "/world.log"); }
std::vector<std::string> TestNetwork::host_accepted() const { return read_lines(dir_ + "/host.log"); }

}  // namespace sbx::testing
