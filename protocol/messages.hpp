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
    too_many_sessions,         // the caller's or the daemon's cap on open sessions is reached
    session_memory_exhausted,  // the session's memory would take the sessions' total above its budget
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

// Sessions: a long-lived jail holding an interpreter that keeps its state between calls. A
// session belongs to the uid that opened it and, within that uid, to `owner` (a name a trusted
// front end such as sandbox-http gives each of its own clients; empty for local callers).
struct SessionOpenRequest {
    std::string policy;                           // empty: "default"
    std::string language;                         // required; must have a session driver
    std::string owner;
    std::optional<policy::Duration> idle_timeout; // closed after this long without a call
    std::optional<policy::Duration> max_lifetime; // closed this long after opening
    policy::LimitRequest limits;                  // the session's jail; time and output: per call
    std::map<std::string, std::string> env;
};

struct SessionExecRequest {
    std::string session_id;
    std::string owner;
    Bytes code;
    policy::LimitRequest limits;  // wall_time_limit, cpu_time_limit, output_limit of this call
};

struct SessionCloseRequest {
    std::string session_id;
    std::string owner;
};

struct SessionListRequest {
    std::string owner;
};

using RequestBody = std::variant<HelloRequest, RunRequest, CancelRequest, StatusRequest, PoliciesRequest,
                                 LanguagesRequest, StatsRequest, ReloadRequest, SessionOpenRequest,
                                 SessionExecRequest, SessionCloseRequest, SessionListRequest>;

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

// One open session (session.open's result, and each entry of session.list).
struct SessionInfo {
    std::string session_id;
    std::string policy;
    std::string language;
    std::string state;                  // starting, idle, busy
    double age_s = 0;                   // since it was opened
    double idle_s = 0;                  // since its last call ended (0 while busy)
    double idle_timeout_s = 0;
    double max_lifetime_s = 0;
    std::uint64_t calls = 0;            // session.exec calls answered
    std::uint32_t restarts = 0;         // times its interpreter was replaced (state lost)
    double cpu_ms = 0;                  // CPU time of the current interpreter's jail
    std::uint64_t memory_peak_bytes = 0;  // peak memory of its current jail
    std::uint64_t memory_limit_bytes = 0;
};

struct SessionImage {
    std::string mime;  // "image/png"
    Bytes data;
    bool operator==(const SessionImage&) const = default;
};

// An exception raised by the code (Python), or an error the interpreter reported.
struct SessionErrorInfo {
    std::string name;       // "ZeroDivisionError"
    std::string value;      // "division by zero"
    std::string traceback;  // formatted as the interpreter prints it
    bool operator==(const SessionErrorInfo&) const = default;
};

struct SessionExecResult {
    std::string session_id;
    ExecutionReport run;                   // status ... message, at the top level of the map
    std::optional<std::string> value;      // text of the final expression's value, as Jupyter shows it
    std::optional<SessionErrorInfo> error;
    std::vector<SessionImage> images;      // figures shown or left open, in order
    bool state_lost = false;               // the interpreter was replaced: earlier state is gone
    std::uint32_t restarts = 0;
    std::uint64_t execution_count = 0;     // calls answered by this session, this one included
};

struct SessionCloseResult {
    bool closed = true;
};

struct SessionListResult {
    std::vector<SessionInfo> sessions;          // the caller's own
    std::uint32_t open = 0;                     // sessions open in the daemon, everyone's
    std::uint32_t max_sessions = 0;
    std::uint32_t max_sessions_per_client = 0;
    std::uint64_t memory_committed_bytes = 0;   // memory limits of all open sessions, added up
    std::uint64_t memory_budget_bytes = 0;
};

using ResultBody = std::variant<HelloResult, RunResult, CancelResult, StatusResult, PoliciesResult, LanguagesResult,
                                StatsResult, ReloadResult, SessionInfo, SessionExecResult, SessionCloseResult,
                                SessionListResult>;

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
