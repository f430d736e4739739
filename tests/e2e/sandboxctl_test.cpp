// sandboxctl end to end: the built binary against a real daemon; its output and exit status.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/daemon_process.hpp"

namespace sbx::testing {
namespace {

namespace fs = std::filesystem;

struct Outcome {
    int status = -1;
    std::string out;
    std::string err;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs sandboxctl with `args`; `env` entries are added to its environment.
Outcome ctl(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
            const std::string& stdin_text = "") {
    std::string dir = "/tmp/sandboxctl-e2e-" + std::to_string(getpid());
    fs::create_directories(dir);
    std::string out_path = dir + "/out", err_path = dir + "/err", in_path = dir + "/in";
    std::ofstream(in_path) << stdin_text;
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(in_path.c_str(), O_RDONLY);
        int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
        std::vector<std::string> all = {sandboxctl_binary()};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    Outcome o{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out_path), slurp(err_path)};
    fs::remove_all(dir);
    return o;
}

class SandboxctlE2E : public ::testing::Test {
protected:
    static void SetUpTestSuite() { daemon_ = new DaemonProcess(); }
    static void TearDownTestSuite() {
        delete daemon_;
        daemon_ = nullptr;
    }
    Outcome run(std::vector<std::string> args, const std::string& stdin_text = "") {
        args.insert(args.begin(), {"--socket", daemon_->socket()});
        return ctl(args, {}, stdin_text);
    }
    std::string write(const std::string& name, const std::string& content) {
        std::string dir = "/tmp/sandboxctl-src-" + std::to_string(getpid());
        fs::create_directories(dir);
        std::ofstream(dir + "/" + name) << content;
        return dir + "/" + name;
    }
    void TearDown() override { fs::remove_all("/tmp/sandboxctl-src-" + std::to_string(getpid())); }
    static DaemonProcess* daemon_;
};
DaemonProcess* SandboxctlE2E::daemon_ = nullptr;

TEST_F(SandboxctlE2E, ExitStatusOfAnOkProgramIsZero) {
    auto o = run({"exec", "--", "/bin/echo", "hello", "world"});
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "hello world\n");
}

TEST_F(SandboxctlE2E, ExitStatusIsTheProgramsOwn) {
    auto o = run({"exec", "--", "/bin/sh", "-c", "echo oops >&2; exit 3"});
    EXPECT_EQ(o.status, 3);
    EXPECT_EQ(o.err, "oops\n");
}

TEST_F(SandboxctlE2E, SignalledProgramGives128PlusSignal) {
    auto o = run({"exec", "--", "/bin/sh", "-c", "kill -9 $$"});
    EXPECT_EQ(o.status, 128 + 9);
    EXPECT_NE(o.err.find("signaled"), std::string::npos) << o.err;
}

TEST_F(SandboxctlE2E, TimeLimitGives124) {
    auto o = run({"exec", "--time-limit", "0.5", "--", "/bin/sleep", "5"});
    EXPECT_EQ(o.status, 124);
    EXPECT_NE(o.err.find("time_limit: wall-clock limit of 500ms exceeded"), std::string::npos) << o.err;
}

TEST_F(SandboxctlE2E, MemoryLimitGives125) {
    auto o = run({"exec", "--memory-limit", "32MiB", "--", "/usr/bin/python3", "-c", "b = b'x' * (1 << 30)"});
    EXPECT_EQ(o.status, 125);
    EXPECT_NE(o.err.find("memory_limit"), std::string::npos) << o.err;
}

TEST_F(SandboxctlE2E, OutputLimitGives123) {
    auto o = run({"exec", "--output-limit", "100", "--", "/usr/bin/yes"});
    EXPECT_EQ(o.status, 123);
    EXPECT_EQ(o.out.size(), 100u);
}

TEST_F(SandboxctlE2E, RunDetectsTheLanguageFromTheExtension) {
    auto o = run({"run", write("hello.py", "import sys\nprint('hi', sys.argv[1:], input())\n"), "--arg", "x", "--stdin",
                  write("in.txt", "from stdin\n")});
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "hi ['x'] from stdin\n");
}

TEST_F(SandboxctlE2E, CompiledLanguageAndCompileError) {
    auto ok = run({"run", write("main.c", "#include <stdio.h>\nint main(void){puts(\"compiled\");return 4;}\n")});
    EXPECT_EQ(ok.status, 4) << ok.err;
    EXPECT_EQ(ok.out, "compiled\n");
    auto bad = run({"run", "--lang", "c", write("broken.c", "int main(void){ return undefined_thing; }\n")});
    EXPECT_EQ(bad.status, 122);
    EXPECT_NE(bad.err.find("undefined_thing"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("compile_error"), std::string::npos) << bad.err;
}

TEST_F(SandboxctlE2E, JsonPrintsTheWholeResultWithProtocolNames) {
    auto o = run({"exec", "--json", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 2"});
    EXPECT_EQ(o.status, 2);
    auto j = nlohmann::json::parse(o.out);
    EXPECT_EQ(j["status"], "runtime_error");
    EXPECT_EQ(j["exit_code"], 2);
    EXPECT_EQ(j["stdout"], "out\n");
    EXPECT_EQ(j["stderr"], "err\n");
    EXPECT_EQ(j["policy"], "default");
    for (const char* key : {"job_id", "signal", "wall_ms", "cpu_ms", "memory_peak_bytes", "stdout_truncated",
                            "stderr_truncated"})
        EXPECT_TRUE(j.contains(key)) << key;
}

TEST_F(SandboxctlE2E, TestsFileJudgesEveryCase) {
    std::string program = write("double.py", "print(int(input()) * 2)\n");
    std::string tests = write("tests.json", R"([{"stdin": "2\n", "expected_output": "4\n"},
                                                {"stdin": "5\n", "expected_output": "10  \n\n"},
                                                {"stdin": "1\n", "expected_output": "3\n"}])");
    auto o = run({"run", program, "--tests", tests});
    EXPECT_EQ(o.status, 1) << o.err;
    EXPECT_NE(o.out.find("test 1: accepted"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("test 2: accepted"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("test 3: wrong_answer"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("passed 2 of 3"), std::string::npos) << o.out;
}

TEST_F(SandboxctlE2E, ListingCommands) {
    auto langs = run({"languages"});
    EXPECT_EQ(langs.status, 0) << langs.err;
    EXPECT_NE(langs.out.find("python"), std::string::npos);
    auto langs_json = nlohmann::json::parse(run({"languages", "--json"}).out);
    EXPECT_FALSE(langs_json["languages"].empty());
    auto pols = run({"policies"});
    EXPECT_NE(pols.out.find("default"), std::string::npos) << pols.err;
    auto stats = nlohmann::json::parse(run({"stats", "--json"}).out);
    EXPECT_TRUE(stats.contains("jobs_total"));
    auto status = run({"status"});
    EXPECT_NE(status.out.find("sandboxd"), std::string::npos) << status.err;
    auto reload = run({"reload"});
    EXPECT_EQ(reload.status, 0) << reload.err;
    EXPECT_NE(reload.out.find("reloaded"), std::string::npos);
}

TEST_F(SandboxctlE2E, SocketFromTheEnvironment) {
    auto o = ctl({"exec", "--", "/bin/echo", "env"}, {"SANDBOXD_SOCKET=" + daemon_->socket()});
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "env\n");
}

TEST_F(SandboxctlE2E, UnreachableDaemonGives120) {
    auto o = ctl({"--socket", "/tmp/no-such-sandboxd.sock", "exec", "--", "/bin/true"});
    EXPECT_EQ(o.status, 120);
    EXPECT_NE(o.err.find("is sandboxd running?"), std::string::npos) << o.err;
}

TEST_F(SandboxctlE2E, RefusedRequestGives120AndNamesTheProblem) {
    auto o = run({"exec", "--memory-limit", "100GiB", "--", "/bin/true"});
    EXPECT_EQ(o.status, 120);
    EXPECT_NE(o.err.find("limit_exceeded"), std::string::npos) << o.err;
    auto bad = run({"exec", "--memory-limit", "lots", "--", "/bin/true"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--memory-limit"), std::string::npos) << bad.err;
}

TEST_F(SandboxctlE2E, BashCompletion) {
    auto o = ctl({"completion", "bash"});
    EXPECT_EQ(o.status, 0);
    EXPECT_NE(o.out.find("complete -F _sandboxctl sandboxctl"), std::string::npos);
}

TEST_F(SandboxctlE2E, SessionOpenExecListClose) {
    auto opened = run({"session", "open", "--lang", "python", "--idle-timeout", "5m"});
    ASSERT_EQ(opened.status, 0) << opened.err;
    std::string id = opened.out.substr(0, opened.out.find('\n'));
    ASSERT_EQ(id.size(), 32u) << opened.out;
    EXPECT_EQ(run({"session", "exec", id, "-c", "a = 100"}).status, 0);
    auto shown = run({"session", "exec", id, "-c", "print('a is', a)\na + 1"});
    EXPECT_EQ(shown.status, 0) << shown.err;
    EXPECT_EQ(shown.out, "a is 100\n101\n");
    auto from_stdin = run({"session", "exec", id}, "b = a * 2\nb");
    EXPECT_EQ(from_stdin.out, "200\n");
    auto failed = run({"session", "exec", id, "-c", "1/0"});
    EXPECT_EQ(failed.status, 1);
    EXPECT_NE(failed.err.find("ZeroDivisionError: division by zero"), std::string::npos) << failed.err;
    auto lost = run({"session", "exec", id, "--time-limit", "0.5", "-c", "while True: pass"});
    EXPECT_EQ(lost.status, 124);
    EXPECT_NE(lost.err.find("state lost"), std::string::npos) << lost.err;
    auto json = run({"session", "exec", id, "--json", "-c", "'a' in dir()"});
    auto j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j["value"], "False");
    EXPECT_EQ(j["restarts"], 1);
    auto listed = run({"session", "list"});
    EXPECT_NE(listed.out.find(id), std::string::npos) << listed.out;
    EXPECT_EQ(run({"session", "close", id}).status, 0);
    auto gone = run({"session", "exec", id, "-c", "1"});
    EXPECT_EQ(gone.status, 120);
    EXPECT_NE(gone.err.find("not_found"), std::string::npos) << gone.err;
}

TEST_F(SandboxctlE2E, ReplKeepsStateAndSavesFigures) {
    std::string dir = "/tmp/sandboxctl-src-" + std::to_string(getpid());
    fs::create_directories(dir);
    auto o = run({"repl", "--lang", "python", "--images-dir", dir},
                 "x = 6\ndef times(n):\n    return x * n\n\ntimes(7)\n"
                 "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()\n");
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_NE(o.out.find("42\n"), std::string::npos) << o.out;
    EXPECT_NE(o.err.find("figure saved to"), std::string::npos) << o.err;
    int pngs = 0;
    for (const auto& f : fs::directory_iterator(dir)) pngs += f.path().extension() == ".png" ? 1 : 0;
    EXPECT_EQ(pngs, 1);
    // The repl closed its session at the end of its input.
    auto listed = run({"session", "list", "--json"});
    EXPECT_TRUE(nlohmann::json::parse(listed.out)["sessions"].empty()) << listed.out;
}

}  // namespace
}  // namespace sbx::testing
