// Requests: {"type": <str>, "id": <uint>, ...fields} (docs/protocol.md, "Requests").
#include <algorithm>
#include <cmath>
#include <limits>

#include "protocol/limits_codec.hpp"
#include "protocol/msgpack_reader.hpp"
#include "protocol/msgpack_writer.hpp"
#include "protocol/session_codec.hpp"
#include "protocol/utf8.hpp"

namespace sbx::protocol {

using detail::MapReader;

namespace {

// The defaults of absent fields.
const RunRequest& run_defaults() {
    static const RunRequest defaults{};
    return defaults;
}

// ---- decoding ---------------------------------------------------------------------------------

CompareMode read_compare(const MapReader& m) {
    std::string name;
    if (!m.str("compare", name)) return run_defaults().compare;
    for (CompareMode mode : {CompareMode::exact, CompareMode::trailing_whitespace, CompareMode::tokens,
                             CompareMode::float_tolerance}) {
        if (to_string(mode) == name) return mode;
    }
    detail::fail_value(m.field("compare"), "unknown mode '" + detail::quote_for_message(name) +
                                               "' (use exact, trailing_whitespace, tokens or float)");
}

std::vector<FileEntry> read_files(const msgpack::object& o, const std::string& field) {
    const auto& array = detail::read_array(o, field);
    std::vector<FileEntry> files;
    files.reserve(array.size);
    for (std::uint32_t i = 0; i < array.size; ++i) {
        const MapReader f(array.ptr[i], detail::element_name(field, i));
        FileEntry entry;
        f.str("name", entry.name);
        f.bytes("content", entry.content);
        f.boolean("executable", entry.executable);
        if (entry.name.empty()) detail::fail_value(f.field("name"), "missing or empty");
        files.push_back(std::move(entry));
    }
    return files;
}

std::vector<TestCase> read_tests(const msgpack::object& o, const std::string& field) {
    const auto& array = detail::read_array(o, field);
    std::vector<TestCase> tests;
    tests.reserve(array.size);
    for (std::uint32_t i = 0; i < array.size; ++i) {
        const MapReader t(array.ptr[i], detail::element_name(field, i));
        TestCase test;
        t.bytes("stdin", test.stdin_data);
        t.bytes("expected_output", test.expected_output);
        if (const msgpack::object* limits = t.find("limits"))
            test.limits = detail::read_limit_request(*limits, t.field("limits"));
        tests.push_back(std::move(test));
    }
    return tests;
}

RunRequest read_run(const MapReader& m) {
    RunRequest r;
    m.str("policy", r.policy);
    m.str("language", r.language);
    m.strings("argv", r.argv);
    m.bytes("source", r.source);
    if (const msgpack::object* files = m.find("files")) r.files = read_files(*files, m.field("files"));
    m.strings("args", r.args);
    m.bytes("stdin", r.stdin_data);
    m.string_map("env", r.env);
    if (const msgpack::object* limits = m.find("limits"))
        r.limits = detail::read_limit_request(*limits, m.field("limits"));
    if (const msgpack::object* limits = m.find("compile_limits"))
        r.compile_limits = detail::read_limit_request(*limits, m.field("compile_limits"));
    m.boolean("stream", r.stream);
    if (const msgpack::object* tests = m.find("tests")) r.tests = read_tests(*tests, m.field("tests"));
    r.compare = read_compare(m);
    if (m.number("float_tolerance", r.float_tolerance) &&
        !(std::isfinite(r.float_tolerance) && r.float_tolerance >= 0)) {
        detail::fail_value(m.field("float_tolerance"), "must be a finite number, 0 or above");
    }
    m.boolean("stop_on_failure", r.stop_on_failure);
    return r;
}

HelloRequest read_hello(const MapReader& m) {
    HelloRequest h;
    std::uint64_t protocol = h.protocol;
    // A version beyond 32 bits is still just a version this server does not speak.
    if (m.uint64("protocol", protocol))
        h.protocol = static_cast<std::uint32_t>(std::min<std::uint64_t>(protocol, std::numeric_limits<std::uint32_t>::max()));
    m.str("client", h.client);
    return h;
}

CancelRequest read_cancel(const MapReader& m) {
    CancelRequest c;
    if (!m.str("job_id", c.job_id)) detail::fail(ErrorCode::invalid_request, m.field("job_id") + " is missing");
    if (c.job_id.empty()) detail::fail_value(m.field("job_id"), "must not be empty");
    return c;
}

StatusRequest read_status(const MapReader& m) {
    StatusRequest s;
    m.str("job_id", s.job_id);
    return s;
}

RequestBody read_body(std::string_view type, const msgpack::object& root) {
    const MapReader m(root, std::string(type));
    if (type == "hello") return read_hello(m);
    if (type == "run") return read_run(m);
    if (type == "cancel") return read_cancel(m);
    if (type == "status") return read_status(m);
    if (type == "policies") return PoliciesRequest{};
    if (type == "languages") return LanguagesRequest{};
    if (type == "stats") return StatsRequest{};
    if (type == "reload") return ReloadRequest{};
    if (detail::is_session_type(type)) return detail::read_session_request(type, m);
    detail::fail(ErrorCode::unknown_type, "unknown request type '" + detail::quote_for_message(type) + "'");
}

// ---- encoding ---------------------------------------------------------------------------------

void write_limits_field(detail::Writer& w, std::string_view key, const policy::LimitRequest& limits) {
    w.key(key);
    detail::write_limit_request(w, limits);
}

// How many entries write_run_fields writes: only fields that differ from their defaults.
std::size_t run_field_count(const RunRequest& r) {
    const auto count = [](bool present) -> std::size_t { return present ? 1 : 0; };
    return count(!r.policy.empty()) + count(!r.language.empty()) + count(!r.argv.empty()) +
           count(!r.source.empty()) + count(!r.files.empty()) + count(!r.args.empty()) +
           count(!r.stdin_data.empty()) + count(!r.env.empty()) + count(detail::has_any_limit(r.limits)) +
           count(detail::has_any_limit(r.compile_limits)) + count(r.stream) + count(!r.tests.empty()) +
           count(r.compare != run_defaults().compare) + count(r.float_tolerance != run_defaults().float_tolerance) +
           count(r.stop_on_failure);
}

void write_run_fields(detail::Writer& w, const RunRequest& r) {
    if (!r.policy.empty()) {
        w.key("policy");
        w.str(r.policy);
    }
    if (!r.language.empty()) {
        w.key("language");
        w.str(r.language);
    }
    if (!r.argv.empty()) {
        w.key("argv");
        w.strings(r.argv);
    }
    if (!r.source.empty()) {
        w.key("source");
        w.bin(r.source);
    }
    if (!r.files.empty()) {
        w.key("files");
        w.array(r.files.size());
        for (const FileEntry& f : r.files) {
            w.map(3);
            w.key("name");
            w.str(f.name);
            w.key("content");
            w.bin(f.content);
            w.key("executable");
            w.boolean(f.executable);
        }
    }
    if (!r.args.empty()) {
        w.key("args");
        w.strings(r.args);
    }
    if (!r.stdin_data.empty()) {
        w.key("stdin");
        w.bin(r.stdin_data);
    }
    if (!r.env.empty()) {
        w.key("env");
        w.string_map(r.env);
    }
    if (detail::has_any_limit(r.limits)) write_limits_field(w, "limits", r.limits);
    if (detail::has_any_limit(r.compile_limits)) write_limits_field(w, "compile_limits", r.compile_limits);
    if (r.stream) {
        w.key("stream");
        w.boolean(true);
    }
    if (!r.tests.empty()) {
        w.key("tests");
        w.array(r.tests.size());
        for (const TestCase& t : r.tests) {
            const bool limits = detail::has_any_limit(t.limits);
            w.map(2 + (limits ? 1 : 0));
            w.key("stdin");
            w.bin(t.stdin_data);
            w.key("expected_output");
            w.bin(t.expected_output);
            if (limits) write_limits_field(w, "limits", t.limits);
        }
    }
    if (r.compare != run_defaults().compare) {
        w.key("compare");
        w.str(to_string(r.compare));
    }
    if (r.float_tolerance != run_defaults().float_tolerance) {
        w.key("float_tolerance");
        w.number(r.float_tolerance);
    }
    if (r.stop_on_failure) {
        w.key("stop_on_failure");
        w.boolean(true);
    }
}

void write_envelope(detail::Writer& w, const Request& request) {
    w.key("type");
    w.str(type_name(request.body));
    w.key("id");
    w.uint(request.id);
}

}  // namespace

Decoded<Request> decode_request(std::string_view payload) {
    std::optional<RequestId> id;
    try {
        const msgpack::object_handle handle = detail::parse_payload(payload);
        const msgpack::object& root = handle.get();
        if (root.type != msgpack::type::MAP) {
            detail::fail(ErrorCode::malformed_frame,
                         "a request must be a msgpack map, got " + std::string(detail::kind_name(root)));
        }
        const MapReader top(root, "");
        // The id first, so that every later error can name the request it answers.
        const msgpack::object* id_value = top.find("id");
        if (id_value != nullptr && id_value->type == msgpack::type::POSITIVE_INTEGER) id = id_value->via.u64;
        const std::string type = detail::read_string(top.require("type", ErrorCode::malformed_frame), "type");
        const RequestId request_id = detail::read_uint(top.require("id", ErrorCode::malformed_frame), "id");
        return Request{request_id, read_body(type, root)};
    } catch (detail::DecodeFailure& failure) {
        failure.error.id = id;
        return std::move(failure.error);
    } catch (const std::bad_alloc&) {
        return ProtocolError{ErrorCode::internal_error, "out of memory decoding a request", id};
    } catch (const std::exception& e) {
        return ProtocolError{ErrorCode::malformed_frame, std::string("undecodable request: ") + e.what(), id};
    } catch (...) {
        return ProtocolError{ErrorCode::malformed_frame, "undecodable request", id};
    }
}

std::string encode_request(const Request& request) {
    detail::Writer w;
    if (detail::write_session_request(w, request)) return w.take();
    if (const auto* run = std::get_if<RunRequest>(&request.body)) {
        w.map(2 + run_field_count(*run));
        write_envelope(w, request);
        write_run_fields(w, *run);
        return w.take();
    }
    if (const auto* hello = std::get_if<HelloRequest>(&request.body)) {
        w.map(4);
        write_envelope(w, request);
        w.key("protocol");
        w.uint(hello->protocol);
        w.key("client");
        w.str(hello->client);
        return w.take();
    }
    if (const auto* cancel = std::get_if<CancelRequest>(&request.body)) {
        w.map(3);
        write_envelope(w, request);
        w.key("job_id");
        w.str(cancel->job_id);
        return w.take();
    }
    if (const auto* status = std::get_if<StatusRequest>(&request.body)) {
        w.map(status->job_id.empty() ? 2 : 3);
        write_envelope(w, request);
        if (!status->job_id.empty()) {
            w.key("job_id");
            w.str(status->job_id);
        }
        return w.take();
    }
    // policies, languages, stats, reload: no fields.
    w.map(2);
    write_envelope(w, request);
    return w.take();
}

}  // namespace sbx::protocol
