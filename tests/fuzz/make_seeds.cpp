// Writes valid protocol payloads (a request of every type, every kind of server frame) into a
// directory, as a starting corpus for protocol_fuzz:  protocol_fuzz_seeds CORPUS_DIR
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

using namespace sbx::protocol;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    RunRequest run;
    run.policy = "default";
    run.language = "python";
    run.source = "print(input())";
    run.files = {{"data.txt", "1 2 3", false}};
    run.args = {"-x"};
    run.stdin_data = "5\n";
    run.env = {{"LANG", "C.UTF-8"}};
    run.limits.memory_bytes = 64u << 20;
    run.limits.wall_time = 2500ms;
    run.limits.cpu_cores = 0.5;
    run.limits.pids = 8;
    run.compile_limits.cpu_time = 10s;
    run.stream = true;
    run.tests = {{"1\n", "1\n", {}}};
    run.compare = CompareMode::tokens;
    run.stop_on_failure = true;
    RunRequest exec;
    exec.argv = {"/bin/echo", "hi"};

    RunResult result;
    result.job_id = "j-1";
    result.policy = "default";
    result.language = "python";
    result.run.status = "ok";
    result.run.stdout_data = "5\n";
    result.compile = result.run;
    result.tests = {{"accepted", result.run}};
    result.passed = result.total = 1;
    StatusResult status;
    status.jobs = {{"j-1", 1000, "default", "python", "running", 1.5}};
    PoliciesResult policies;
    policies.policies = {{"default", "d", "none", sbx::policy::LimitBounds::exactly(sbx::policy::Limits{})}};
    LanguagesResult languages;
    languages.languages = {{"python", "Python", {"py"}, {".py"}, false, "3.11", true, ""}};
    StatsResult stats;
    stats.by_status = {{"ok", 1}};
    stats.latency_bounds_ms = {1, 10};
    stats.latency_counts = {0, 1};
    Event output;
    output.event = "output";
    output.stage = "run";
    output.stream = "stdout";
    output.data = "5\n";

    const std::vector<std::string> payloads = {
        encode_request({1, run}),
        encode_request({2, exec}),
        encode_request({3, HelloRequest{1, "seed"}}),
        encode_request({4, CancelRequest{"j-1"}}),
        encode_request({5, StatusRequest{"j-1"}}),
        encode_request({6, PoliciesRequest{}}),
        encode_request({7, LanguagesRequest{}}),
        encode_request({8, StatsRequest{}}),
        encode_request({9, ReloadRequest{}}),
        encode_hello(ServerHello{1, "sandboxd 0.1.0", {"run", "stream"}, 1u << 24, 32}),
        encode_result(1, result),
        encode_result(2, HelloResult{}),
        encode_result(3, CancelResult{true}),
        encode_result(4, status),
        encode_result(5, policies),
        encode_result(6, languages),
        encode_result(7, stats),
        encode_result(8, ReloadResult{1, 5}),
        encode_error(9, ErrorCode::busy, "queue full"),
        encode_error(std::nullopt, ErrorCode::malformed_frame, "bad"),
        encode_event(1, output),
    };
    int n = 0;
    for (const auto& payload : payloads) {
        std::ofstream(std::string(argv[1]) + "/seed-" + std::to_string(n++), std::ios::binary) << payload;
        // The same as a framed stream, for the FrameDecoder half of the target.
        std::ofstream(std::string(argv[1]) + "/seed-" + std::to_string(n++), std::ios::binary) << encode_frame(payload);
    }
    std::printf("%d seeds written to %s\n", n, argv[1]);
    return 0;
}
