// Frames from the server: hello, error and event (results are in result_codec.cpp), and the
// client's decoding of any of them.
#include "protocol/msgpack_reader.hpp"
#include "protocol/msgpack_writer.hpp"
#include "protocol/raw_reply.hpp"
#include "protocol/utf8.hpp"

namespace sbx::protocol {

using detail::MapReader;

namespace {

ServerHello read_hello(const MapReader& m) {
    ServerHello h;
    m.uint32("protocol", h.protocol);
    m.str("server", h.server);
    m.strings("capabilities", h.capabilities);
    m.uint64("max_frame", h.max_frame);
    m.uint32("max_inflight", h.max_inflight);
    return h;
}

ProtocolError read_error(const MapReader& m) {
    ProtocolError e;
    const std::string code = detail::read_string(m.require("code", ErrorCode::malformed_frame), m.field("code"));
    m.str("message", e.message);
    if (auto known = error_code_from_string(code)) {
        e.code = *known;
    } else {
        // A code from a newer server: keep its name where a person will see it.
        e.code = ErrorCode::internal_error;
        e.message = "[" + code + "] " + e.message;
    }
    return e;
}

Event read_event(const MapReader& m) {
    Event e;
    e.event = detail::read_string(m.require("event", ErrorCode::malformed_frame), m.field("event"));
    m.str("job_id", e.job_id);
    m.str("stage", e.stage);
    m.int32("test", e.test);
    m.str("stream", e.stream);
    m.bytes("data", e.data);
    m.uint32("queue_position", e.queue_position);
    return e;
}

Reply read_reply(const std::shared_ptr<detail::RawResult>& raw) {
    const msgpack::object& root = raw->handle.get();
    if (root.type != msgpack::type::MAP)
        detail::fail(ErrorCode::malformed_frame, "a reply must be a msgpack map, got " + std::string(detail::kind_name(root)));
    const MapReader top(root, "");
    const std::string type = detail::read_string(top.require("type", ErrorCode::malformed_frame), "type");
    Reply reply;
    if (const msgpack::object* id = top.find("id")) reply.id = detail::read_uint(*id, "id");
    const MapReader m(root, type);
    if (type == "hello") {
        reply.kind = Reply::Kind::hello;
        reply.hello = read_hello(m);
        return reply;
    }
    if (type == "error") {
        reply.kind = Reply::Kind::error;
        reply.error = read_error(m);
        reply.error.id = reply.id;
        return reply;
    }
    if (type != "result" && type != "event")
        detail::fail(ErrorCode::unknown_type, "unknown reply type '" + detail::quote_for_message(type) + "'");
    if (!reply.id) detail::fail(ErrorCode::malformed_frame, "id is missing");
    if (type == "event") {
        reply.kind = Reply::Kind::event;
        reply.event = read_event(m);
        return reply;
    }
    reply.kind = Reply::Kind::result;
    const msgpack::object& body = m.require("result", ErrorCode::malformed_frame);
    if (body.type != msgpack::type::MAP) detail::fail_type(m.field("result"), "a map", body);
    raw->body = &body;
    reply.raw = raw;
    return reply;
}

}  // namespace

std::string encode_hello(const ServerHello& hello) {
    detail::Writer w;
    w.map(6);
    w.key("type");
    w.str("hello");
    w.key("protocol");
    w.uint(hello.protocol);
    w.key("server");
    w.text(hello.server);
    w.key("capabilities");
    w.texts(hello.capabilities);
    w.key("max_frame");
    w.uint(hello.max_frame);
    w.key("max_inflight");
    w.uint(hello.max_inflight);
    return w.take();
}

std::string encode_error(std::optional<RequestId> id, ErrorCode code, std::string_view message) {
    detail::Writer w;
    w.map(4);
    w.key("type");
    w.str("error");
    w.key("id");
    if (id)
        w.uint(*id);
    else
        w.nil();
    w.key("code");
    w.str(to_string(code));
    w.key("message");
    w.text(message);
    return w.take();
}

// accepted: job_id, queue_position; started: job_id, stage, test (test stage only);
// output: stage, test (test stage only), stream, data.
std::string encode_event(RequestId id, const Event& event) {
    const bool accepted = event.event == "accepted";
    const bool output = event.event == "output";
    const std::size_t n = 3 + (event.job_id.empty() ? 0 : 1) + (event.stage.empty() ? 0 : 1) +
                          (event.test >= 0 ? 1 : 0) + (event.stream.empty() ? 0 : 1) + (output ? 1 : 0) +
                          (accepted ? 1 : 0);
    detail::Writer w;
    w.map(n);
    w.key("type");
    w.str("event");
    w.key("id");
    w.uint(id);
    w.key("event");
    w.text(event.event);
    if (!event.job_id.empty()) {
        w.key("job_id");
        w.text(event.job_id);
    }
    if (!event.stage.empty()) {
        w.key("stage");
        w.text(event.stage);
    }
    if (event.test >= 0) {
        w.key("test");
        w.integer(event.test);
    }
    if (!event.stream.empty()) {
        w.key("stream");
        w.text(event.stream);
    }
    if (output) {
        w.key("data");
        w.bin(event.data);
    }
    if (accepted) {
        w.key("queue_position");
        w.uint(event.queue_position);
    }
    return w.take();
}

Decoded<Reply> decode_reply(std::string_view payload) {
    std::optional<RequestId> id;
    try {
        auto raw = std::make_shared<detail::RawResult>();
        raw->payload.assign(payload);
        raw->handle = detail::parse_payload(raw->payload);
        const msgpack::object& root = raw->handle.get();
        if (root.type == msgpack::type::MAP) {
            if (const msgpack::object* v = MapReader(root, "").find("id");
                v != nullptr && v->type == msgpack::type::POSITIVE_INTEGER) {
                id = v->via.u64;
            }
        }
        return read_reply(raw);
    } catch (detail::DecodeFailure& failure) {
        failure.error.id = id;
        return std::move(failure.error);
    } catch (const std::bad_alloc&) {
        return ProtocolError{ErrorCode::internal_error, "out of memory decoding a reply", id};
    } catch (const std::exception& e) {
        return ProtocolError{ErrorCode::malformed_frame, std::string("undecodable reply: ") + e.what(), id};
    } catch (...) {
        return ProtocolError{ErrorCode::malformed_frame, "undecodable reply", id};
    }
}

}  // namespace sbx::protocol
