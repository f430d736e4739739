// Requests: encoding, decoding, and the classification of bad frames into error codes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "msgpack_value.hpp"
#include "protocol/messages.hpp"
#include "protocol_samples.hpp"

namespace sbx::protocol {
namespace {

using namespace std::chrono_literals;
using mp::Array;
using mp::Bin;
using mp::Map;

Request round_trip(const Request& request) {
    auto decoded = decode_request(encode_request(request));
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? *decoded : Request{};
}

Request decode_ok(const mp::Value& value) {
    auto decoded = decode_request(mp::encode(value));
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? *decoded : Request{};
}

RunRequest decode_run(const Map& fields) {
    Map m = fields;
    m = mp::with(m, "type", "run");
    m = mp::with(m, "id", 5);
    Request r = decode_ok(m);
    EXPECT_TRUE(std::holds_alternative<RunRequest>(r.body));
    return std::holds_alternative<RunRequest>(r.body) ? std::get<RunRequest>(r.body) : RunRequest{};
}

ProtocolError decode_error(const std::string& payload) {
    auto decoded = decode_request(payload);
    EXPECT_FALSE(decoded.ok()) << "decoded without error";
    return decoded.ok() ? ProtocolError{} : decoded.error();
}

ProtocolError decode_error(const mp::Value& value) { return decode_error(mp::encode(value)); }

// A run request with one field set to `value`.
ProtocolError run_error(const std::string& key, mp::Value value) {
    return decode_error(mp::with(Map{{"type", "run"}, {"id", 9}, {"language", "python"}}, key, std::move(value)));
}

ProtocolError limit_error(const std::string& key, mp::Value value) {
    return run_error("limits", Map{{key, std::move(value)}});
}

#define EXPECT_ERROR(expr, expected_code, text)                                               \
    do {                                                                                      \
        const ProtocolError e_ = (expr);                                                      \
        EXPECT_EQ(to_string(e_.code), to_string(expected_code)) << e_.message;                \
        EXPECT_NE(e_.message.find(text), std::string::npos) << "message: " << e_.message;     \
    } while (0)

// ---- round trips ------------------------------------------------------------------------------

TEST(RequestCodec, RunRoundTripsEveryField) {
    const Request request{0xfedcba9876543210ull, samples::full_run()};
    const Request back = round_trip(request);
    EXPECT_EQ(back.id, request.id);
    ASSERT_TRUE(std::holds_alternative<RunRequest>(back.body));
    samples::expect_same(std::get<RunRequest>(back.body), samples::full_run());
}

TEST(RequestCodec, RunWithDefaultsRoundTrips) {
    const Request back = round_trip(Request{1, RunRequest{}});
    ASSERT_TRUE(std::holds_alternative<RunRequest>(back.body));
    samples::expect_same(std::get<RunRequest>(back.body), RunRequest{});
}

TEST(RequestCodec, EveryCompareModeRoundTrips) {
    for (CompareMode mode :
         {CompareMode::exact, CompareMode::trailing_whitespace, CompareMode::tokens, CompareMode::float_tolerance}) {
        RunRequest run;
        run.compare = mode;
        const Request back = round_trip(Request{1, run});
        EXPECT_EQ(std::get<RunRequest>(back.body).compare, mode) << to_string(mode);
    }
}

TEST(RequestCodec, OtherRequestsRoundTrip) {
    {
        const Request back = round_trip(Request{1, HelloRequest{1, "sandboxctl 0.1.0"}});
        const auto& hello = std::get<HelloRequest>(back.body);
        EXPECT_EQ(hello.protocol, 1u);
        EXPECT_EQ(hello.client, "sandboxctl 0.1.0");
    }
    {
        const Request back = round_trip(Request{2, HelloRequest{7, ""}});
        EXPECT_EQ(std::get<HelloRequest>(back.body).protocol, 7u);
    }
    {
        const Request back = round_trip(Request{3, CancelRequest{"j-17"}});
        EXPECT_EQ(back.id, 3u);
        EXPECT_EQ(std::get<CancelRequest>(back.body).job_id, "j-17");
    }
    EXPECT_EQ(std::get<StatusRequest>(round_trip(Request{4, StatusRequest{"j-3"}}).body).job_id, "j-3");
    EXPECT_EQ(std::get<StatusRequest>(round_trip(Request{5, StatusRequest{}}).body).job_id, "");
    EXPECT_TRUE(std::holds_alternative<PoliciesRequest>(round_trip(Request{6, PoliciesRequest{}}).body));
    EXPECT_TRUE(std::holds_alternative<LanguagesRequest>(round_trip(Request{7, LanguagesRequest{}}).body));
    EXPECT_TRUE(std::holds_alternative<StatsRequest>(round_trip(Request{8, StatsRequest{}}).body));
    const Request reload = round_trip(Request{0, ReloadRequest{}});
    EXPECT_TRUE(std::holds_alternative<ReloadRequest>(reload.body));
    EXPECT_EQ(reload.id, 0u);
}

TEST(RequestCodec, TypeNames) {
    EXPECT_EQ(type_name(HelloRequest{}), "hello");
    EXPECT_EQ(type_name(RunRequest{}), "run");
    EXPECT_EQ(type_name(CancelRequest{}), "cancel");
    EXPECT_EQ(type_name(StatusRequest{}), "status");
    EXPECT_EQ(type_name(PoliciesRequest{}), "policies");
    EXPECT_EQ(type_name(LanguagesRequest{}), "languages");
    EXPECT_EQ(type_name(StatsRequest{}), "stats");
    EXPECT_EQ(type_name(ReloadRequest{}), "reload");
    EXPECT_EQ(to_string(CompareMode::float_tolerance), "float");
    EXPECT_EQ(to_string(CompareMode::trailing_whitespace), "trailing_whitespace");
}

// ---- what other clients send ------------------------------------------------------------------

TEST(RequestCodec, AbsentFieldsTakeDefaults) {
    const RunRequest run = decode_run({});
    samples::expect_same(run, RunRequest{});
    EXPECT_EQ(run.compare, CompareMode::trailing_whitespace);
    EXPECT_EQ(run.float_tolerance, 1e-6);
    const Request hello = decode_ok(Map{{"type", "hello"}, {"id", 1}});
    EXPECT_EQ(std::get<HelloRequest>(hello.body).protocol, kProtocolVersion);
}

TEST(RequestCodec, NilFieldsCountAsAbsentAndUnknownFieldsAreIgnored) {
    const RunRequest run = decode_run({{"policy", nullptr},
                                       {"stdin", nullptr},
                                       {"limits", nullptr},
                                       {"future_field", Map{{"anything", Array{1, "x"}}}},
                                       {"language", "python"},
                                       {mp::Value(7), "a non-string key"}});
    EXPECT_EQ(run.language, "python");
    EXPECT_EQ(run.policy, "");
    EXPECT_FALSE(run.limits.memory_bytes.has_value());
}

TEST(RequestCodec, BytesFieldsAcceptBinaryOrString) {
    const RunRequest as_str = decode_run({{"source", "print(1)"},
                                          {"stdin", "in"},
                                          {"files", Array{Map{{"name", "a"}, {"content", "text"}}}},
                                          {"tests", Array{Map{{"stdin", "1"}, {"expected_output", "2"}}}}});
    const RunRequest as_bin = decode_run({{"source", Bin{"print(1)"}},
                                          {"stdin", Bin{"in"}},
                                          {"files", Array{Map{{"name", "a"}, {"content", Bin{"text"}}}}},
                                          {"tests", Array{Map{{"stdin", Bin{"1"}}, {"expected_output", Bin{"2"}}}}}});
    samples::expect_same(as_str, as_bin);
    EXPECT_EQ(as_str.source, "print(1)");
    EXPECT_EQ(as_str.files.at(0).content, "text");
    EXPECT_FALSE(as_str.files.at(0).executable);
    EXPECT_EQ(as_str.tests.at(0).expected_output, "2");
}

TEST(RequestCodec, LimitsAcceptNumbersAndStringsWithUnits) {
    const RunRequest run = decode_run({{"limits", Map{{"memory_limit", "256MiB"},
                                                      {"pids_limit", 32},
                                                      {"wall_time_limit", "2.5s"},
                                                      {"cpu_time_limit", 1.5},
                                                      {"cpu_cores", 2},
                                                      {"output_limit", 4096},
                                                      {"tmpfs_limit", "1GiB"},
                                                      {"open_files_limit", 64},
                                                      {"file_size_limit", "10MB"},
                                                      {"stack_limit", "8MiB"}}},
                                       {"compile_limits", Map{{"wall_time_limit", 3},
                                                              {"cpu_time_limit", "250ms"},
                                                              {"cpu_cores", 0.5},
                                                              {"memory_limit", 1000}}}});
    EXPECT_EQ(run.limits.memory_bytes, 256ull << 20);
    EXPECT_EQ(run.limits.pids, 32u);
    EXPECT_EQ(run.limits.wall_time, policy::Duration(2'500'000));
    EXPECT_EQ(run.limits.cpu_time, policy::Duration(1'500'000));
    EXPECT_EQ(run.limits.cpu_cores, 2.0);
    EXPECT_EQ(run.limits.output_bytes, 4096u);
    EXPECT_EQ(run.limits.tmpfs_bytes, 1ull << 30);
    EXPECT_EQ(run.limits.open_files, 64u);
    EXPECT_EQ(run.limits.file_size_bytes, 10'000'000u);
    EXPECT_EQ(run.limits.stack_bytes, 8ull << 20);
    EXPECT_EQ(run.compile_limits.wall_time, 3s);
    EXPECT_EQ(run.compile_limits.cpu_time, 250ms);
    EXPECT_EQ(run.compile_limits.cpu_cores, 0.5);
    EXPECT_EQ(run.compile_limits.memory_bytes, 1000u);
    EXPECT_FALSE(run.compile_limits.pids.has_value());
}

TEST(RequestCodec, FloatDurationsRoundToTheMicrosecond) {
    const RunRequest run = decode_run(
        {{"limits", Map{{"wall_time_limit", 0.1}, {"cpu_time_limit", mp::F32{0.5f}}}},
         {"tests", Array{Map{{"limits", Map{{"wall_time_limit", 1e-6}}}}}}});
    EXPECT_EQ(run.limits.wall_time, 100ms);
    EXPECT_EQ(run.limits.cpu_time, 500ms);
    EXPECT_EQ(run.tests.at(0).limits.wall_time, 1us);
}

TEST(RequestCodec, HelloProtocolBeyond32BitsIsStillAVersion) {
    const Request r = decode_ok(Map{{"type", "hello"}, {"id", 1}, {"protocol", 1ull << 40}});
    EXPECT_EQ(std::get<HelloRequest>(r.body).protocol, std::numeric_limits<std::uint32_t>::max());
}

// ---- classification: malformed_frame ---------------------------------------------------------

TEST(RequestErrors, NotOneCompleteMsgpackValue) {
    EXPECT_ERROR(decode_error(std::string("\xc1", 1)), ErrorCode::malformed_frame, "not valid msgpack");
    EXPECT_ERROR(decode_error(std::string()), ErrorCode::malformed_frame, "truncated");
    std::string frame = mp::encode(Map{{"type", "stats"}, {"id", 1}});
    frame.pop_back();
    EXPECT_ERROR(decode_error(frame), ErrorCode::malformed_frame, "truncated");
}

TEST(RequestErrors, TrailingBytes) {
    const std::string frame = mp::encode(Map{{"type", "stats"}, {"id", 1}}) + std::string("\x00", 1);
    EXPECT_ERROR(decode_error(frame), ErrorCode::malformed_frame, "1 bytes after");
    EXPECT_ERROR(decode_error(mp::encode(Map{{"type", "stats"}, {"id", 1}}) + mp::encode(Map{})),
                 ErrorCode::malformed_frame, "after its msgpack value");
}

TEST(RequestErrors, NotAMap) {
    EXPECT_ERROR(decode_error(Array{"run", 1}), ErrorCode::malformed_frame, "must be a msgpack map, got array");
    EXPECT_ERROR(decode_error(mp::Value(42)), ErrorCode::malformed_frame, "got integer");
    EXPECT_ERROR(decode_error(mp::Value("run")), ErrorCode::malformed_frame, "got string");
}

TEST(RequestErrors, TypeMissingOrNotAString) {
    ProtocolError e = decode_error(Map{{"id", 3}});
    EXPECT_ERROR(e, ErrorCode::malformed_frame, "type is missing");
    EXPECT_EQ(e.id, 3u);  // the id is readable, so the error can carry it
    EXPECT_ERROR(decode_error(Map{{"type", 1}, {"id", 3}}), ErrorCode::malformed_frame,
                 "type must be a string, got integer");
    EXPECT_ERROR(decode_error(Map{{"type", Bin{"run"}}, {"id", 3}}), ErrorCode::malformed_frame,
                 "type must be a string, got binary");
    EXPECT_ERROR(decode_error(Map{{"type", nullptr}, {"id", 3}}), ErrorCode::malformed_frame, "type is missing");
}

TEST(RequestErrors, IdMissingOrNotAnUnsignedInteger) {
    ProtocolError e = decode_error(Map{{"type", "stats"}});
    EXPECT_ERROR(e, ErrorCode::malformed_frame, "id is missing");
    EXPECT_FALSE(e.id.has_value());
    EXPECT_ERROR(decode_error(Map{{"type", "stats"}, {"id", "7"}}), ErrorCode::malformed_frame,
                 "id must be an unsigned integer, got string");
    EXPECT_ERROR(decode_error(Map{{"type", "stats"}, {"id", -7}}), ErrorCode::malformed_frame,
                 "id must be an unsigned integer, got integer");
    EXPECT_ERROR(decode_error(Map{{"type", "stats"}, {"id", 7.0}}), ErrorCode::malformed_frame,
                 "id must be an unsigned integer, got float");
    // Without an id, even an unknown type is a malformed frame.
    EXPECT_ERROR(decode_error(Map{{"type", "frobnicate"}}), ErrorCode::malformed_frame, "id is missing");
}

TEST(RequestErrors, FieldsOfTheWrongTypeNameTheFieldAndTheExpectedType) {
    struct Case {
        std::string key;
        mp::Value value;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"stdin", Array{}, "run.stdin must be binary or string, got array"},
        {"source", 12, "run.source must be binary or string, got integer"},
        {"policy", Bin{"default"}, "run.policy must be a string, got binary"},
        {"language", true, "run.language must be a string, got boolean"},
        {"argv", "ls -l", "run.argv must be an array of strings, got string"},
        {"argv", Array{"ls", 1}, "run.argv[1] must be a string, got integer"},
        {"args", Map{}, "run.args must be an array of strings, got map"},
        {"env", Array{}, "run.env must be a map of strings, got array"},
        {"env", Map{{"PATH", 1}}, "run.env.PATH must be a string, got integer"},
        {"env", Map{{1, "x"}}, "run.env key must be a string, got integer"},
        {"files", Map{}, "run.files must be an array, got map"},
        {"files", Array{"a.txt"}, "run.files[0] must be a map, got string"},
        {"files", Array{Map{{"name", "a"}}, Map{{"name", "b"}, {"executable", "yes"}}},
         "run.files[1].executable must be a boolean, got string"},
        {"files", Array{Map{{"name", 3}}}, "run.files[0].name must be a string, got integer"},
        {"files", Array{Map{{"name", "a"}, {"content", 1.5}}}, "run.files[0].content must be binary or string, got float"},
        {"limits", Array{}, "run.limits must be a map, got array"},
        {"compile_limits", "1s", "run.compile_limits must be a map, got string"},
        {"stream", 1, "run.stream must be a boolean, got integer"},
        {"stop_on_failure", "true", "run.stop_on_failure must be a boolean, got string"},
        {"tests", Map{}, "run.tests must be an array, got map"},
        {"tests", Array{Array{}}, "run.tests[0] must be a map, got array"},
        {"tests", Array{Map{}, Map{{"stdin", Array{}}}}, "run.tests[1].stdin must be binary or string, got array"},
        {"tests", Array{Map{{"expected_output", false}}}, "run.tests[0].expected_output must be binary or string, got boolean"},
        {"tests", Array{Map{{"limits", 5}}}, "run.tests[0].limits must be a map, got integer"},
        {"compare", 1, "run.compare must be a string, got integer"},
        {"float_tolerance", "0.1", "run.float_tolerance must be a number, got string"},
        {"stdin", mp::Ext{3, "xy"}, "run.stdin must be binary or string, got ext"},
    };
    for (const Case& c : cases) {
        const ProtocolError e = run_error(c.key, c.value);
        EXPECT_EQ(e.code, ErrorCode::malformed_frame) << c.message << " / " << e.message;
        EXPECT_EQ(e.message, c.message);
        EXPECT_EQ(e.id, 9u) << c.message;
    }
}

TEST(RequestErrors, LimitsOfTheWrongTypeAreMalformed) {
    EXPECT_ERROR(limit_error("memory_limit", 1.5), ErrorCode::malformed_frame,
                 "run.limits.memory_limit must be an unsigned integer (bytes) or a string like \"256MiB\", got float");
    EXPECT_ERROR(limit_error("pids_limit", "10"), ErrorCode::malformed_frame,
                 "run.limits.pids_limit must be an unsigned integer, got string");
    EXPECT_ERROR(limit_error("open_files_limit", 2.0), ErrorCode::malformed_frame,
                 "run.limits.open_files_limit must be an unsigned integer, got float");
    EXPECT_ERROR(limit_error("wall_time_limit", Array{}), ErrorCode::malformed_frame,
                 "run.limits.wall_time_limit must be a number of seconds or a string like \"2.5s\", got array");
    EXPECT_ERROR(limit_error("cpu_cores", "2"), ErrorCode::malformed_frame,
                 "run.limits.cpu_cores must be a number, got string");
}

TEST(RequestErrors, OtherRequestTypesNameTheirFields) {
    EXPECT_ERROR(decode_error(Map{{"type", "hello"}, {"id", 1}, {"protocol", "1"}}), ErrorCode::malformed_frame,
                 "hello.protocol must be an unsigned integer, got string");
    EXPECT_ERROR(decode_error(Map{{"type", "hello"}, {"id", 1}, {"client", 5}}), ErrorCode::malformed_frame,
                 "hello.client must be a string, got integer");
    EXPECT_ERROR(decode_error(Map{{"type", "cancel"}, {"id", 1}, {"job_id", 5}}), ErrorCode::malformed_frame,
                 "cancel.job_id must be a string, got integer");
    EXPECT_ERROR(decode_error(Map{{"type", "status"}, {"id", 1}, {"job_id", Array{}}}), ErrorCode::malformed_frame,
                 "status.job_id must be a string, got array");
}

// ---- unpack limits: small frames cannot claim huge containers or deep nesting ------------------

TEST(RequestErrors, HugeContainerHeadersAreRefusedBeforeAllocating) {
    // map32 claiming 2^32-1 entries, array32 likewise, str32/bin32 claiming 4 GiB: a few bytes each.
    for (const std::string& frame : {std::string("\xdf\xff\xff\xff\xff", 5), std::string("\xdd\xff\xff\xff\xff", 5),
                                    std::string("\xdb\xff\xff\xff\xff", 5), std::string("\xc6\xff\xff\xff\xff", 5),
                                    std::string("\x81\xa4type\xdd\x00\x10\x00\x00", 11)}) {
        const ProtocolError e = decode_error(frame);
        EXPECT_EQ(e.code, ErrorCode::malformed_frame) << e.message;
    }
    // Inside a valid-looking request: run.argv claiming a million elements.
    const std::string head = mp::encode(Map{{"type", "run"}, {"id", 1}});
    std::string frame = head;
    frame[0] = static_cast<char>(0x83);  // three entries
    frame += mp::encode(mp::Value("argv")) + std::string("\xdd\x00\x10\x00\x00", 5);
    EXPECT_ERROR(decode_error(frame), ErrorCode::malformed_frame,
                 "an array or map in the frame announces more than " + std::to_string(frame.size()) + " entries");
    // 70000 entries in a frame big enough to hold them: still above the cap of 65536.
    std::string big = std::string("\xdd\x00\x01\x11\x70", 5) + std::string(70000, '\xc0');
    EXPECT_ERROR(decode_error(big), ErrorCode::malformed_frame, "announces more than 65536 entries");
    // A str32 or bin32 claiming 4 GiB: strings are taken only once all their bytes are there.
    EXPECT_ERROR(decode_error(std::string("\xdb\xff\xff\xff\xff", 5)), ErrorCode::malformed_frame, "truncated");
    EXPECT_ERROR(decode_error(std::string("\xc6\xff\xff\xff\xff", 5)), ErrorCode::malformed_frame, "truncated");
}

TEST(RequestErrors, FramesAnnouncingTooManyValuesInAllAreRefused) {
    // Nine nested maps each announcing 65535 entries: 1.2 million values announced by a frame of
    // 70 KB, which msgpack-c would allocate up front (32 bytes per entry).
    std::string frame = mp::encode(Map{{"type", "run"}, {"id", 1}});
    frame[0] = static_cast<char>(0x83);
    frame += mp::encode(mp::Value("future"));
    for (int i = 0; i < 9; ++i) frame += std::string("\xde\xff\xff\xa1k", 5);
    frame += std::string(70000, '\xc0');
    EXPECT_ERROR(decode_error(frame), ErrorCode::malformed_frame, "more than 1048576 values");
}

TEST(RequestCodec, LargeButReasonableFramesDecode) {
    RunRequest run;
    run.argv.assign(60000, "x");
    run.tests.resize(20000);
    run.source.assign(8u << 20, 's');
    const Request back = round_trip(Request{1, run});
    const auto& decoded = std::get<RunRequest>(back.body);
    EXPECT_EQ(decoded.argv.size(), 60000u);
    EXPECT_EQ(decoded.tests.size(), 20000u);
    EXPECT_EQ(decoded.source.size(), 8u << 20);
}

TEST(RequestErrors, DeepNestingIsRefused) {
    std::string frame(100, '\x91');  // 100 nested one-element arrays
    frame += '\x01';
    EXPECT_ERROR(decode_error(frame), ErrorCode::malformed_frame, "nests deeper");
    mp::Value nested = 1;
    for (int i = 0; i < 40; ++i) nested = Map{{"x", nested}};
    EXPECT_ERROR(decode_error(Map{{"type", "run"}, {"id", 1}, {"future", nested}}), ErrorCode::malformed_frame,
                 "nests deeper");
}

// ---- classification: unknown_type ------------------------------------------------------------

TEST(RequestErrors, UnknownTypeCarriesTheId) {
    const ProtocolError e = decode_error(Map{{"type", "snapshot"}, {"id", 77}});
    EXPECT_EQ(e.code, ErrorCode::unknown_type);
    EXPECT_EQ(e.id, 77u);
    EXPECT_EQ(e.message, "unknown request type 'snapshot'");
    // Bytes that are not text are escaped in the message.
    EXPECT_ERROR(decode_error(Map{{"type", std::string("x\xff\n", 3)}, {"id", 1}}), ErrorCode::unknown_type,
                 "'x\\xff\\x0a'");
    EXPECT_TRUE(closes_connection(ErrorCode::unknown_type));
}

// ---- classification: invalid_request ---------------------------------------------------------

TEST(RequestErrors, BadValuesAreInvalidRequestsNamingTheField) {
    EXPECT_ERROR(limit_error("memory_limit", "12XB"), ErrorCode::invalid_request,
                 "run.limits.memory_limit: invalid size '12XB': unknown unit 'XB'");
    EXPECT_ERROR(limit_error("memory_limit", 0), ErrorCode::invalid_request, "run.limits.memory_limit: must be above 0");
    EXPECT_ERROR(limit_error("memory_limit", -5), ErrorCode::invalid_request,
                 "run.limits.memory_limit: must be above 0, got -5");
    EXPECT_ERROR(limit_error("memory_limit", "0MiB"), ErrorCode::invalid_request,
                 "run.limits.memory_limit: must be above 0");
    EXPECT_ERROR(limit_error("tmpfs_limit", "-1G"), ErrorCode::invalid_request,
                 "run.limits.tmpfs_limit: invalid size '-1G'");
    EXPECT_ERROR(limit_error("stack_limit", std::string(1000, '9')), ErrorCode::invalid_request,
                 "run.limits.stack_limit: invalid size '99999999999999999999999999999999...': too long");
    EXPECT_ERROR(limit_error("pids_limit", 0), ErrorCode::invalid_request, "run.limits.pids_limit: must be above 0");
    EXPECT_ERROR(limit_error("pids_limit", -1), ErrorCode::invalid_request, "run.limits.pids_limit: must be above 0");
    EXPECT_ERROR(limit_error("open_files_limit", 1ull << 33), ErrorCode::invalid_request,
                 "run.limits.open_files_limit: too large");
    EXPECT_ERROR(limit_error("wall_time_limit", "soon"), ErrorCode::invalid_request,
                 "run.limits.wall_time_limit: invalid duration 'soon'");
    EXPECT_ERROR(limit_error("wall_time_limit", "0s"), ErrorCode::invalid_request,
                 "run.limits.wall_time_limit: must be above 0");
    EXPECT_ERROR(limit_error("wall_time_limit", -1.0), ErrorCode::invalid_request,
                 "run.limits.wall_time_limit: must be above 0");
    EXPECT_ERROR(limit_error("wall_time_limit", 0), ErrorCode::invalid_request,
                 "run.limits.wall_time_limit: must be above 0");
    EXPECT_ERROR(limit_error("cpu_time_limit", std::nan("")), ErrorCode::invalid_request,
                 "run.limits.cpu_time_limit: must be a finite number");
    EXPECT_ERROR(limit_error("cpu_time_limit", std::numeric_limits<double>::infinity()), ErrorCode::invalid_request,
                 "run.limits.cpu_time_limit: must be a finite number");
    EXPECT_ERROR(limit_error("cpu_time_limit", 1e-9), ErrorCode::invalid_request,
                 "run.limits.cpu_time_limit: must be at least 1us");
    EXPECT_ERROR(limit_error("cpu_time_limit", 1e300), ErrorCode::invalid_request,
                 "run.limits.cpu_time_limit: too large");
    EXPECT_ERROR(limit_error("cpu_time_limit", "1000000h"), ErrorCode::invalid_request,
                 "run.limits.cpu_time_limit: too large");
    EXPECT_ERROR(limit_error("cpu_cores", 0), ErrorCode::invalid_request, "run.limits.cpu_cores: must be a number above 0");
    EXPECT_ERROR(limit_error("cpu_cores", -0.5), ErrorCode::invalid_request,
                 "run.limits.cpu_cores: must be a number above 0");
    EXPECT_ERROR(run_error("compile_limits", Map{{"memory_limit", "lots"}}), ErrorCode::invalid_request,
                 "run.compile_limits.memory_limit: invalid size 'lots'");
    EXPECT_ERROR(run_error("tests", Array{Map{}, Map{{"limits", Map{{"wall_time_limit", "0ms"}}}}}),
                 ErrorCode::invalid_request, "run.tests[1].limits.wall_time_limit: must be above 0");
    EXPECT_ERROR(run_error("compare", "fuzzy"), ErrorCode::invalid_request,
                 "run.compare: unknown mode 'fuzzy' (use exact, trailing_whitespace, tokens or float)");
    EXPECT_ERROR(run_error("float_tolerance", -0.1), ErrorCode::invalid_request,
                 "run.float_tolerance: must be a finite number, 0 or above");
    EXPECT_ERROR(run_error("float_tolerance", std::nan("")), ErrorCode::invalid_request, "run.float_tolerance");
    EXPECT_ERROR(run_error("files", Array{Map{{"name", ""}}}), ErrorCode::invalid_request,
                 "run.files[0].name: missing or empty");
    EXPECT_ERROR(run_error("files", Array{Map{{"name", "a"}}, Map{{"content", "x"}}}), ErrorCode::invalid_request,
                 "run.files[1].name: missing or empty");
    EXPECT_ERROR(decode_error(Map{{"type", "cancel"}, {"id", 1}}), ErrorCode::invalid_request,
                 "cancel.job_id is missing");
    EXPECT_ERROR(decode_error(Map{{"type", "cancel"}, {"id", 1}, {"job_id", ""}}), ErrorCode::invalid_request,
                 "cancel.job_id: must not be empty");
}

TEST(RequestErrors, InvalidRequestsCarryTheIdAndKeepTheConnection) {
    const ProtocolError e = run_error("compare", "fuzzy");
    EXPECT_EQ(e.id, 9u);
    EXPECT_FALSE(closes_connection(e.code));
}

TEST(RequestErrors, ZeroFloatToleranceIsFine) {
    EXPECT_EQ(decode_run({{"float_tolerance", 0}}).float_tolerance, 0.0);
    EXPECT_EQ(decode_run({{"float_tolerance", 2}}).float_tolerance, 2.0);
}

// ---- error code names ------------------------------------------------------------------------

TEST(ErrorCodes, NamesRoundTripAndExactlyThreeCloseTheConnection) {
    const std::vector<std::pair<ErrorCode, std::string>> all = {
        {ErrorCode::malformed_frame, "malformed_frame"},
        {ErrorCode::frame_too_large, "frame_too_large"},
        {ErrorCode::unknown_type, "unknown_type"},
        {ErrorCode::unsupported_version, "unsupported_version"},
        {ErrorCode::invalid_request, "invalid_request"},
        {ErrorCode::unknown_policy, "unknown_policy"},
        {ErrorCode::unknown_language, "unknown_language"},
        {ErrorCode::language_unavailable, "language_unavailable"},
        {ErrorCode::forbidden, "forbidden"},
        {ErrorCode::limit_exceeded, "limit_exceeded"},
        {ErrorCode::busy, "busy"},
        {ErrorCode::duplicate_id, "duplicate_id"},
        {ErrorCode::not_found, "not_found"},
        {ErrorCode::shutting_down, "shutting_down"},
        {ErrorCode::reload_failed, "reload_failed"},
        {ErrorCode::internal_error, "internal_error"},
    };
    int closing = 0;
    for (const auto& [code, name] : all) {
        EXPECT_EQ(to_string(code), name);
        EXPECT_EQ(error_code_from_string(name), code) << name;
        if (closes_connection(code)) ++closing;
    }
    EXPECT_EQ(closing, 3);
    EXPECT_TRUE(closes_connection(ErrorCode::malformed_frame));
    EXPECT_TRUE(closes_connection(ErrorCode::frame_too_large));
    EXPECT_FALSE(error_code_from_string("Busy").has_value());
    EXPECT_FALSE(error_code_from_string("").has_value());
}

}  // namespace
}  // namespace sbx::protocol
