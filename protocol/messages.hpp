// The messages of sandboxd's Unix-socket protocol (docs/protocol.md is the contract) as C++
// values, with their msgpack encoding and decoding. The daemon decodes requests and encodes
// replies; clients do the reverse, with the same code.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/limits.hpp"

namespace sbx::protocol {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::size_t kDefaultMaxFrame = 16u << 20;

using RequestId = std::uint64_t;
using Bytes = std::string;  // binary-safe (msgpack bin or str on the wire)

// ---- errors ----------------------------------------------------------------------------------

enum class ErrorCode {
    malformed_frame,      // undecodable, not a map, truncated, or a field of the wrong type: closes
    frame_too_large,      // length prefix above the limit: closes
    unknown_type,         // a request type this server does not know: closes
    unsupported_version,  // hello with a protocol version the server does not speak
    invalid_request,      // well-formed but meaningless (empty argv, bad file name, ...)
    unknown_policy,
    unknown_language,
    language_unavailable,  // known, but its runtime is not installed
    forbidden,             // the caller may not use this policy / do this
    limit_exceeded,        // a requested limit above the policy's maximum
    busy,                  // queue full: retry later
    duplicate_id,          // the id is already in flight on this connection
    not_found,             // no such job (cancel, status)
    shutting_down,
    reload_failed,
    internal_error,
};

std::string_view to_string(ErrorCode code);
std::optional<ErrorCode> error_code_from_string(std::string_view name);
// malformed_frame, frame_too_large and unknown_type end the connection after the error frame.
bool closes_connection(ErrorCode code);

struct ProtocolError {
    ErrorCode code = ErrorCode::internal_error;
    std::string message;
    std::optional<RequestId> id;  // when the offending frame had a readable id
};

// A value or a ProtocolError.
template <class T>
class [[nodiscard]] Decoded {
public:
    Decoded(T value) : v_(std::move(value)) {}             // NOLINT(google-explicit-constructor)
    Decoded(ProtocolError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    const ProtocolError& error() const { return std::get<1>(v_); }

private:
    std::variant<T, ProtocolError> v_;
};

// ---- requests --------------------------------------------------------------------------------

struct FileEntry {
    std::string name;  // relative path in the work directory
    Bytes content;
    bool executable = false;
    bool operator==(const FileEntry&) const = default;
};

enum class CompareMode { exact, trailing_whitespace, tokens, float_tolerance };
std::string_view to_string(CompareMode mode);

struct TestCase {
    Bytes stdin_data;
    Bytes expected_output;
    policy::LimitRequest limits;
};

struct HelloRequest {
    std::uint32_t protocol = kProtocolVersion;
    std::string client;
};

struct RunRequest {
    std::string policy;                 // empty: "default"
    std::string language;               // name or alias; empty: run `argv` as given
    std::vector<std::string> argv;      // without language: the program and its arguments
    Bytes source;                       // with language: stored as the language's source file
    std::vector<FileEntry> files;       // more files in the work directory
    std::vector<std::string> args;      // with language: appended to its run command
    Bytes stdin_data;
    std::map<std::string, std::string> env;
    policy::LimitRequest limits;
    policy::LimitRequest compile_limits;
    bool stream = false;                // send output events as it runs
    std::vector<TestCase> tests;        // run once per case, judged against expected_output
    CompareMode compare = CompareMode::trailing_whitespace;
    double float_tolerance = 1e-6;
    bool stop_on_failure = false;
};

struct CancelRequest {
    std::string job_id;
};

struct StatusRequest {
    std::string job_id;  // empty: the daemon's status
};

struct PoliciesRequest {};
struct LanguagesRequest {};
struct StatsRequest {};
struct ReloadRequest {};

using RequestBody = std::variant<HelloRequest, RunRequest, CancelRequest, StatusRequest, PoliciesRequest,
                                 LanguagesRequest, StatsRequest, ReloadRequest>;

struct Request {
    RequestId id = 0;
    RequestBody body;
};

std::string_view type_name(const RequestBody& body);  // "run", "cancel", ...

// ---- replies ---------------------------------------------------------------------------------

// Sent by the server when a connection opens.
struct ServerHello {
    std::uint32_t protocol = kProtocolVersion;
    std::string server;                     // "sandboxd 0.1.0"
    std::vector<std::string> capabilities;  // "run", "stream", "tests", "cancel", ...
    std::uint64_t max_frame = kDefaultMaxFrame;
    std::uint32_t max_inflight = 0;         // requests one connection may have in flight
};

// One jail execution.
struct ExecutionReport {
    std::string status;  // ok, runtime_error, signaled, time_limit, memory_limit, output_limit,
                         // compile_error, rejected, cancelled, internal_error
    std::int32_t exit_code = 0;
    std::int32_t signal = 0;
    double wall_ms = 0;
    double cpu_ms = 0;
    std::uint64_t memory_peak_bytes = 0;
    Bytes stdout_data;
    Bytes stderr_data;
    bool stdout_truncated = false;
    bool stderr_truncated = false;
    std::string message;
    bool cached = false;  // compile report only: taken from the compile cache, nothing ran
};

struct TestCaseReport {
    std::string verdict;  // accepted, wrong_answer, time_limit, memory_limit, runtime_error, output_limit,
                          // skipped, internal_error
    ExecutionReport run;
};

struct RunResult {
    std::string job_id;
    std::string policy;
    std::string language;
    ExecutionReport run;                     // the run stage (encoded at the top level of the map)
    std::optional<ExecutionReport> compile;  // compiled languages
    std::vector<TestCaseReport> tests;
    std::uint32_t passed = 0;                // with tests
    std::uint32_t total = 0;
};

struct CancelResult {
    bool cancelled = false;  // false when the job had already finished
};

struct JobInfo {
    std::string job_id;
    std::uint32_t uid = 0;
    std::string policy;
    std::string language;
    std::string state;  // queued, running
    double elapsed_ms = 0;
};

struct StatusResult {
    std::string server;
    double uptime_s = 0;
    std::string cgroup_backend;
    std::uint32_t max_jobs = 0;
    std::uint32_t max_queue = 0;
    std::uint32_t running = 0;
    std::uint32_t queued = 0;
    std::vector<JobInfo> jobs;  // root sees all, others their own
};

struct PolicyInfo {
    std::string name;
    std::string description;
    std::string network;  // none, egress
    policy::LimitBounds limits;
};

struct LanguageInfo {
    std::string name;
    std::string display_name;
    std::vector<std::string> aliases;
    std::vector<std::string> extensions;
    bool compiled = false;
    std::string version;
    bool available = false;
    std::string reason;  // why not available
};

struct PoliciesResult {
    std::vector<PolicyInfo> policies;
};

struct LanguagesResult {
    std::vector<LanguageInfo> languages;
};

struct StatsResult {
    double uptime_s = 0;
    std::uint64_t jobs_total = 0;
    std::map<std::string, std::uint64_t> by_status;
    std::map<std::string, std::uint64_t> by_language;
    std::uint32_t running = 0;
    std::uint32_t queued = 0;
    std::uint64_t rejected_busy = 0;
    // Histogram of job wall-clock latency (request to result): cumulative counts per upper bound.
    std::vector<double> latency_bounds_ms;
    std::vector<std::uint64_t> latency_counts;
    double latency_sum_ms = 0;
};

struct ReloadResult {
    std::uint32_t policies = 0;
    std::uint32_t languages = 0;
};

struct HelloResult {
    std::uint32_t protocol = kProtocolVersion;
};

// Streaming and progress events of a run.
struct Event {
    std::string event;   // "accepted", "started", "output"
    std::string job_id;  // accepted, started
    std::string stage;   // started, output: "compile", "run", "test"
    std::int32_t test = -1;  // started, output: index of the test case
    std::string stream;  // output: "stdout" or "stderr"
    Bytes data;          // output
    std::uint32_t queue_position = 0;  // accepted: jobs ahead of this one (0 = runs now)
};

using ResultBody = std::variant<HelloResult, RunResult, CancelResult, StatusResult, PoliciesResult, LanguagesResult,
                                StatsResult, ReloadResult>;

// ---- codecs (one msgpack map each; frames add the length prefix, see frame_codec.hpp) ----------

// Server side.
Decoded<Request> decode_request(std::string_view payload);
std::string encode_hello(const ServerHello& hello);
std::string encode_result(RequestId id, const ResultBody& result);
std::string encode_error(std::optional<RequestId> id, ErrorCode code, std::string_view message);
std::string encode_event(RequestId id, const Event& event);

// Client side.
std::string encode_request(const Request& request);

struct Reply {
    enum class Kind { hello, result, error, event };
    Kind kind = Kind::error;
    std::optional<RequestId> id;
    ServerHello hello;                // kind == hello
    ProtocolError error;              // kind == error
    Event event;                      // kind == event
    std::shared_ptr<const void> raw;  // kind == result: the undecoded body, for decode_result<T>
};
Decoded<Reply> decode_reply(std::string_view payload);
// Decodes a result body as the type the request expects (RunResult for run, ...).
template <class T>
Decoded<T> decode_result(const Reply& reply);

}  // namespace sbx::protocol
