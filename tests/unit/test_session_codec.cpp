// Session requests and results on the wire, and their JSON form.
#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "msgpack_value.hpp"
#include "protocol/json_codec.hpp"
#include "protocol/messages.hpp"

namespace sbx::protocol {
namespace {

using namespace std::chrono_literals;

template <class T>
T round_trip_request(const T& body) {
    auto decoded = decode_request(encode_request(Request{9, body}));
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_TRUE(decoded.ok() && std::holds_alternative<T>(decoded->body));
    return decoded.ok() && std::holds_alternative<T>(decoded->body) ? std::get<T>(decoded->body) : T{};
}

template <class T>
T round_trip_result(const T& body) {
    auto reply = decode_reply(encode_result(4, body));
    EXPECT_TRUE(reply.ok());
    if (!reply.ok()) return T{};
    auto decoded = decode_result<T>(*reply);
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? *decoded : T{};
}

ProtocolError decode_error(const mp::Value& value) {
    auto decoded = decode_request(mp::encode(value));
    EXPECT_FALSE(decoded.ok());
    return decoded.ok() ? ProtocolError{} : decoded.error();
}

TEST(SessionCodec, RequestsRoundTrip) {
    SessionOpenRequest open;
    open.policy = "strict";
    open.language = "python";
    open.owner = "token-7";
    open.idle_timeout = 90s;
    open.max_lifetime = 2h;
    open.limits.memory_bytes = 512ull << 20;
    open.limits.wall_time = 2500ms;
    open.env = {{"A", "1"}};
    auto o = round_trip_request(open);
    EXPECT_EQ(o.policy, "strict");
    EXPECT_EQ(o.language, "python");
    EXPECT_EQ(o.owner, "token-7");
    EXPECT_EQ(o.idle_timeout, policy::Duration(90s));
    EXPECT_EQ(o.max_lifetime, policy::Duration(2h));
    EXPECT_EQ(o.limits, open.limits);
    EXPECT_EQ(o.env, open.env);

    auto minimal = round_trip_request(SessionOpenRequest{.language = "bash"});
    EXPECT_EQ(minimal.language, "bash");
    EXPECT_FALSE(minimal.idle_timeout);
    EXPECT_TRUE(minimal.owner.empty());

    SessionExecRequest exec{"abc", "o", std::string("print(1)\n\xff", 10), {}};
    exec.limits.output_bytes = 4096;
    auto e = round_trip_request(exec);
    EXPECT_EQ(e.session_id, "abc");
    EXPECT_EQ(e.owner, "o");
    EXPECT_EQ(e.code, exec.code) << "code is bytes: passed through as is";
    EXPECT_EQ(e.limits.output_bytes, 4096u);
    EXPECT_EQ(round_trip_request(SessionCloseRequest{"abc", "o"}).session_id, "abc");
    EXPECT_EQ(round_trip_request(SessionListRequest{"o"}).owner, "o");
    EXPECT_EQ(type_name(RequestBody{SessionExecRequest{}}), "session.exec");
}

TEST(SessionCodec, BadRequestsNameTheField) {
    auto no_language = decode_error(mp::Map{{"type", "session.open"}, {"id", 1}});
    EXPECT_EQ(no_language.code, ErrorCode::invalid_request);
    EXPECT_EQ(no_language.message, "session.open.language is missing");
    EXPECT_EQ(no_language.id, 1u);
    auto no_id = decode_error(mp::Map{{"type", "session.exec"}, {"id", 2}, {"code", "1"}});
    EXPECT_EQ(no_id.code, ErrorCode::invalid_request);
    EXPECT_EQ(no_id.message, "session.exec.session_id is missing");
    auto idle = decode_error(mp::Map{{"type", "session.open"}, {"id", 3}, {"language", "python"}, {"idle_timeout", -1}});
    EXPECT_EQ(idle.code, ErrorCode::invalid_request);
    EXPECT_NE(idle.message.find("session.open.idle_timeout"), std::string::npos) << idle.message;
    auto code_type = decode_error(mp::Map{{"type", "session.exec"}, {"id", 4}, {"session_id", "x"}, {"code", 5}});
    EXPECT_EQ(code_type.code, ErrorCode::malformed_frame);
    EXPECT_EQ(decode_error(mp::Map{{"type", "session.fork"}, {"id", 5}}).code, ErrorCode::unknown_type);
}

TEST(SessionCodec, ResultsRoundTrip) {
    SessionExecResult r;
    r.session_id = "s1";
    r.run.status = "runtime_error";
    r.run.exit_code = 1;
    r.run.stdout_data = "out";
    r.run.stderr_truncated = true;
    r.value = "101";
    r.error = SessionErrorInfo{"ValueError", "bad", "Traceback ..."};
    r.images = {{"image/png", std::string("\x89PNG\0\x01", 6)}};
    r.state_lost = true;
    r.restarts = 2;
    r.execution_count = 7;
    auto d = round_trip_result(r);
    EXPECT_EQ(d.session_id, "s1");
    EXPECT_EQ(d.run.status, "runtime_error");
    EXPECT_EQ(d.run.stdout_data, "out");
    EXPECT_TRUE(d.run.stderr_truncated);
    EXPECT_EQ(d.value, "101");
    EXPECT_EQ(d.error, r.error);
    EXPECT_EQ(d.images, r.images);
    EXPECT_TRUE(d.state_lost);
    EXPECT_EQ(d.restarts, 2u);
    EXPECT_EQ(d.execution_count, 7u);
    // No value and no error: nil on the wire, nullopt again.
    auto plain = round_trip_result(SessionExecResult{});
    EXPECT_FALSE(plain.value);
    EXPECT_FALSE(plain.error);

    SessionInfo info{"s1", "default", "python", "idle", 3.5, 1.0, 600, 3600, 4, 1, 12.5, 1 << 20, 256 << 20};
    SessionListResult list{{info}, 5, 64, 8, 768ull << 20, 8ull << 30};
    auto l = round_trip_result(list);
    ASSERT_EQ(l.sessions.size(), 1u);
    EXPECT_EQ(l.sessions[0].session_id, "s1");
    EXPECT_EQ(l.sessions[0].state, "idle");
    EXPECT_EQ(l.sessions[0].calls, 4u);
    EXPECT_EQ(l.sessions[0].memory_limit_bytes, 256u << 20);
    EXPECT_EQ(l.open, 5u);
    EXPECT_EQ(l.memory_budget_bytes, 8ull << 30);
    EXPECT_TRUE(round_trip_result(SessionCloseResult{true}).closed);
}

TEST(SessionCodec, JsonCarriesImagesAsBase64AndReadsRequests) {
    SessionExecResult r;
    r.images = {{"image/png", std::string("\x89PNG\r\n\x1a\n", 8)}};
    auto j = to_json(r);
    EXPECT_TRUE(j["value"].is_null());
    EXPECT_EQ(j["images"][0]["data_base64"], "iVBORw0KGgo=");
    EXPECT_EQ(base64_decode(j["images"][0]["data_base64"].get<std::string>()), r.images[0].data);

    auto open = session_open_from_json(nlohmann::json::parse(
        R"({"language": "python", "idle_timeout": "5m", "limits": {"memory_limit": "128MiB"}, "env": {"A": "b"}})"));
    ASSERT_TRUE(open.ok()) << open.error().message;
    EXPECT_EQ(open->idle_timeout, policy::Duration(std::chrono::minutes(5)));
    EXPECT_EQ(open->limits.memory_bytes, 128ull << 20);
    auto bad = session_open_from_json(nlohmann::json::parse(R"({"language": "python", "max_lifetime": "soon"})"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::invalid_request);
    EXPECT_NE(bad.error().message.find("session.max_lifetime"), std::string::npos);
    auto exec = session_exec_from_json(nlohmann::json::parse(R"({"code": "1+1", "limits": {"wall_time_limit": 2}})"));
    ASSERT_TRUE(exec.ok());
    EXPECT_EQ(exec->code, "1+1");
    EXPECT_EQ(session_exec_from_json(nlohmann::json::parse(R"({"code": 5})")).error().code, ErrorCode::malformed_frame);
}

TEST(Base64, RoundTripsAndRefusesWhatIsNotBase64) {
    for (std::string s : {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("\0\xff\x10", 3)})
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_FALSE(base64_decode("Zm9v!g=="));
    EXPECT_FALSE(base64_decode("Zm9"));
    EXPECT_FALSE(base64_decode("Zm9vYg==Zm9v"));
}

}  // namespace
}  // namespace sbx::protocol
