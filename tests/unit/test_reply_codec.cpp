// Server frames: hello, results of every type, errors, events; the client's decoding of them.
#include <gtest/gtest.h>

#include "msgpack_value.hpp"
#include "protocol/messages.hpp"
#include "protocol_samples.hpp"

namespace sbx::protocol {
namespace {

using mp::Array;
using mp::Bin;
using mp::Map;

Reply decode_ok(const std::string& payload) {
    auto decoded = decode_reply(payload);
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? *decoded : Reply{};
}

ProtocolError decode_error(const std::string& payload) {
    auto decoded = decode_reply(payload);
    EXPECT_FALSE(decoded.ok());
    return decoded.ok() ? ProtocolError{} : decoded.error();
}

template <class T>
T result_round_trip(const T& body, RequestId id = 12) {
    const Reply reply = decode_ok(encode_result(id, body));
    EXPECT_EQ(reply.kind, Reply::Kind::result);
    EXPECT_EQ(reply.id, id);
    auto decoded = decode_result<T>(reply);
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? *decoded : T{};
}

// The reply's msgpack as a tree, to look at the exact keys on the wire.
msgpack::object_handle parse(const std::string& payload) { return msgpack::unpack(payload.data(), payload.size()); }

const msgpack::object* key(const msgpack::object& map, std::string_view name) {
    for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
        const auto& kv = map.via.map.ptr[i];
        if (kv.key.type == msgpack::type::STR && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == name)
            return &kv.val;
    }
    return nullptr;
}

std::vector<std::string> keys(const msgpack::object& map) {
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < map.via.map.size; ++i)
        out.emplace_back(map.via.map.ptr[i].key.via.str.ptr, map.via.map.ptr[i].key.via.str.size);
    return out;
}

// ---- hello -----------------------------------------------------------------------------------

TEST(ReplyCodec, HelloRoundTrips) {
    ServerHello hello;
    hello.server = "sandboxd 0.1.0";
    hello.capabilities = {"run", "stream", "tests", "cancel"};
    hello.max_frame = 1u << 20;
    hello.max_inflight = 32;
    const std::string payload = encode_hello(hello);
    const Reply reply = decode_ok(payload);
    EXPECT_EQ(reply.kind, Reply::Kind::hello);
    EXPECT_FALSE(reply.id.has_value());
    EXPECT_EQ(samples::tie(reply.hello), samples::tie(hello));
    const auto tree = parse(payload);
    EXPECT_EQ(keys(tree.get()), (std::vector<std::string>{"type", "protocol", "server", "capabilities", "max_frame",
                                                            "max_inflight"}));
}

// ---- results ---------------------------------------------------------------------------------

TEST(ResultCodec, EveryResultTypeRoundTrips) {
    EXPECT_EQ(result_round_trip(HelloResult{1}).protocol, 1u);
    EXPECT_EQ(result_round_trip(HelloResult{3}).protocol, 3u);
    samples::expect_same(result_round_trip(samples::full_run_result()), samples::full_run_result());
    EXPECT_TRUE(result_round_trip(CancelResult{true}).cancelled);
    EXPECT_FALSE(result_round_trip(CancelResult{false}).cancelled);
    samples::expect_same(result_round_trip(samples::full_status()), samples::full_status());
    samples::expect_same(result_round_trip(samples::full_policies()), samples::full_policies());
    samples::expect_same(result_round_trip(samples::full_languages()), samples::full_languages());
    EXPECT_EQ(samples::tie(result_round_trip(samples::full_stats())), samples::tie(samples::full_stats()));
    const ReloadResult reload = result_round_trip(ReloadResult{3, 7});
    EXPECT_EQ(reload.policies, 3u);
    EXPECT_EQ(reload.languages, 7u);
    samples::expect_same(result_round_trip(StatusResult{}), StatusResult{});
    EXPECT_EQ(samples::tie(result_round_trip(StatsResult{})), samples::tie(StatsResult{}));
}

TEST(ResultCodec, RunResultPutsTheRunStageAtTheTopLevel) {
    RunResult r = samples::full_run_result();
    const auto tree = parse(encode_result(5, r));
    const msgpack::object& body = *key(tree.get(), "result");
    EXPECT_EQ(keys(body), (std::vector<std::string>{"job_id", "policy", "language", "status", "exit_code", "signal",
                                                     "wall_ms", "cpu_ms", "memory_peak_bytes", "stdout", "stderr",
                                                     "stdout_truncated", "stderr_truncated", "message", "compile",
                                                     "tests", "passed", "total"}));
    EXPECT_EQ(key(body, "stdout")->type, msgpack::type::BIN);
    EXPECT_EQ(key(body, "stderr")->type, msgpack::type::BIN);
    EXPECT_EQ(key(body, "wall_ms")->type, msgpack::type::FLOAT64);
    EXPECT_EQ(key(body, "exit_code")->type, msgpack::type::NEGATIVE_INTEGER);
    const msgpack::object& test0 = key(body, "tests")->via.array.ptr[0];
    EXPECT_EQ(keys(test0).front(), "verdict");
    EXPECT_EQ(keys(test0).size(), 12u);
}

TEST(ResultCodec, RunResultWithoutCompileOrTestsLeavesThemOut) {
    RunResult r;
    r.job_id = "j-1";
    r.run = samples::report("ok", 0);
    const std::string payload = encode_result(5, r);
    const auto tree = parse(payload);
    const msgpack::object& body = *key(tree.get(), "result");
    EXPECT_EQ(key(body, "compile"), nullptr);
    EXPECT_EQ(key(body, "tests"), nullptr);
    EXPECT_EQ(key(body, "passed"), nullptr);
    EXPECT_EQ(key(body, "total"), nullptr);
    samples::expect_same(result_round_trip(r), r);
    // Tests asked for but none ran (total > 0): the fields are there.
    r.total = 2;
    samples::expect_same(result_round_trip(r), r);
}

TEST(ResultCodec, PolicyLimitsUseSecondsAndBytes) {
    const auto tree = parse(encode_result(1, samples::full_policies()));
    const msgpack::object& policy = key(*key(tree.get(), "result"), "policies")->via.array.ptr[0];
    const msgpack::object& limits = *key(policy, "limits");
    EXPECT_EQ(keys(limits), (std::vector<std::string>{"memory_limit", "pids_limit", "wall_time_limit",
                                                       "cpu_time_limit", "cpu_cores", "output_limit", "tmpfs_limit",
                                                       "open_files_limit", "file_size_limit", "stack_limit"}));
    const msgpack::object& wall = *key(limits, "wall_time_limit");
    EXPECT_EQ(key(wall, "default")->via.f64, 10.0);
    EXPECT_EQ(key(wall, "max")->via.f64, 60.000001);
    EXPECT_EQ(key(*key(limits, "memory_limit"), "max")->via.u64, 1ull << 30);
    EXPECT_EQ(key(*key(limits, "cpu_cores"), "max")->via.f64, 2.5);
}

TEST(ResultCodec, ResultSurvivesTheFrameItCameFrom) {
    Reply reply;
    {
        std::string payload = encode_result(3, samples::full_run_result());
        reply = decode_ok(payload);
        payload.assign(payload.size(), '\0');
    }
    auto run = decode_result<RunResult>(reply);
    ASSERT_TRUE(run.ok()) << run.error().message;
    samples::expect_same(*run, samples::full_run_result());
}

TEST(ResultCodec, DecodingAResultAsTheWrongTypeNamesTheField) {
    const Reply reply = decode_ok(encode_result(8, samples::full_status()));
    auto as_run = decode_result<RunResult>(reply);  // StatusResult has no run fields: defaults
    ASSERT_TRUE(as_run.ok());
    EXPECT_EQ(as_run->job_id, "");
    auto as_stats = decode_result<StatsResult>(reply);  // "running" fits, "uptime_s" fits
    ASSERT_TRUE(as_stats.ok());
    EXPECT_EQ(as_stats->running, 2u);

    const std::string bad = mp::encode(
        Map{{"type", "result"}, {"id", 4}, {"result", Map{{"job_id", "j"}, {"wall_ms", "fast"}}}});
    const Reply bad_reply = decode_ok(bad);
    auto run = decode_result<RunResult>(bad_reply);
    ASSERT_FALSE(run.ok());
    EXPECT_EQ(run.error().code, ErrorCode::malformed_frame);
    EXPECT_EQ(run.error().message, "result.wall_ms must be a number, got string");
    EXPECT_EQ(run.error().id, 4u);

    const std::string bad_test = mp::encode(
        Map{{"type", "result"}, {"id", 4}, {"result", Map{{"tests", Array{Map{{"verdict", 1}}}}}}});
    auto run2 = decode_result<RunResult>(decode_ok(bad_test));
    ASSERT_FALSE(run2.ok());
    EXPECT_EQ(run2.error().message, "result.tests[0].verdict must be a string, got integer");
}

TEST(ResultCodec, DecodeResultOfANonResultIsAnError) {
    const Reply error = decode_ok(encode_error(1, ErrorCode::busy, "full"));
    auto r = decode_result<CancelResult>(error);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::internal_error);
    auto r2 = decode_result<CancelResult>(Reply{});
    EXPECT_FALSE(r2.ok());
}

// ---- errors ----------------------------------------------------------------------------------

TEST(ReplyCodec, ErrorsRoundTripWithAndWithoutId) {
    const Reply with_id = decode_ok(encode_error(99, ErrorCode::limit_exceeded, "run.limits: 1GiB exceeds 256MiB"));
    EXPECT_EQ(with_id.kind, Reply::Kind::error);
    EXPECT_EQ(with_id.id, 99u);
    EXPECT_EQ(with_id.error.code, ErrorCode::limit_exceeded);
    EXPECT_EQ(with_id.error.message, "run.limits: 1GiB exceeds 256MiB");
    EXPECT_EQ(with_id.error.id, 99u);

    const std::string payload = encode_error(std::nullopt, ErrorCode::frame_too_large, "frame of 99 bytes");
    const Reply without = decode_ok(payload);
    EXPECT_EQ(without.kind, Reply::Kind::error);
    EXPECT_FALSE(without.id.has_value());
    EXPECT_EQ(without.error.code, ErrorCode::frame_too_large);
    const auto tree = parse(payload);
    EXPECT_EQ(keys(tree.get()), (std::vector<std::string>{"type", "id", "code", "message"}));
    EXPECT_EQ(key(tree.get(), "id")->type, msgpack::type::NIL);
}

TEST(ReplyCodec, ErrorMessagesAreAlwaysValidUtf8) {
    const std::string payload = encode_error(1, ErrorCode::not_found, std::string("no job '\xff\xfe' \xc3\xa9", 14));
    const Reply reply = decode_ok(payload);
    EXPECT_EQ(reply.error.message, "no job '\xef\xbf\xbd\xef\xbf\xbd' \xc3\xa9");
}

TEST(ReplyCodec, UnknownErrorCodesKeepTheirName) {
    const Reply reply = decode_ok(mp::encode(Map{{"type", "error"}, {"id", 2}, {"code", "rate_limited"}, {"message", "slow down"}}));
    EXPECT_EQ(reply.error.code, ErrorCode::internal_error);
    EXPECT_EQ(reply.error.message, "[rate_limited] slow down");
}

// ---- events ----------------------------------------------------------------------------------

TEST(ReplyCodec, EventsRoundTripWithTheirFields) {
    Event accepted;
    accepted.event = "accepted";
    accepted.job_id = "j-9";
    accepted.queue_position = 3;
    Event started_run;
    started_run.event = "started";
    started_run.job_id = "j-9";
    started_run.stage = "run";
    Event started_test = started_run;
    started_test.stage = "test";
    started_test.test = 4;
    Event output;
    output.event = "output";
    output.stage = "test";
    output.test = 0;
    output.stream = "stderr";
    output.data = std::string("a\0\xff", 3);
    Event empty_output;
    empty_output.event = "output";
    empty_output.stage = "run";
    empty_output.stream = "stdout";

    const std::vector<std::pair<Event, std::vector<std::string>>> cases = {
        {accepted, {"type", "id", "event", "job_id", "queue_position"}},
        {started_run, {"type", "id", "event", "job_id", "stage"}},
        {started_test, {"type", "id", "event", "job_id", "stage", "test"}},
        {output, {"type", "id", "event", "stage", "test", "stream", "data"}},
        {empty_output, {"type", "id", "event", "stage", "stream", "data"}},
    };
    for (const auto& [event, expected_keys] : cases) {
        const std::string payload = encode_event(21, event);
        const auto tree = parse(payload);
        EXPECT_EQ(keys(tree.get()), expected_keys) << event.event;
        const Reply reply = decode_ok(payload);
        EXPECT_EQ(reply.kind, Reply::Kind::event);
        EXPECT_EQ(reply.id, 21u);
        EXPECT_EQ(samples::tie(reply.event), samples::tie(event));
    }
    const auto tree = parse(encode_event(1, output));
    EXPECT_EQ(key(tree.get(), "data")->type, msgpack::type::BIN);
}

// ---- malformed replies -----------------------------------------------------------------------

TEST(ReplyErrors, Classification) {
    EXPECT_EQ(decode_error(std::string("\x93", 1)).code, ErrorCode::malformed_frame);
    EXPECT_EQ(decode_error(mp::encode(Array{1})).message, "a reply must be a msgpack map, got array");
    EXPECT_EQ(decode_error(mp::encode(Map{{"id", 1}})).message, "type is missing");
    const ProtocolError unknown = decode_error(mp::encode(Map{{"type", "telemetry"}, {"id", 6}}));
    EXPECT_EQ(unknown.code, ErrorCode::unknown_type);
    EXPECT_EQ(unknown.id, 6u);
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "result"}, {"result", Map{}}})).message, "id is missing");
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "result"}, {"id", 1}})).message, "result.result is missing");
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "result"}, {"id", 1}, {"result", 5}})).message,
              "result.result must be a map, got integer");
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "event"}, {"id", 1}})).message, "event.event is missing");
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "event"}, {"id", 1}, {"event", "output"}, {"data", 5}})).message,
              "event.data must be binary or string, got integer");
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "error"}, {"id", 1}})).message, "error.code is missing");
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "hello"}, {"max_frame", -1}})).message,
              "hello.max_frame must be an unsigned integer, got integer");
    EXPECT_EQ(decode_error(mp::encode(Map{{"type", "event"}, {"id", "x"}, {"event", "output"}})).message,
              "id must be an unsigned integer, got string");
}

}  // namespace
}  // namespace sbx::protocol
