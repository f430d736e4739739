// Session requests and results (docs/protocol.md, "Sessions").
#include "protocol/session_codec.hpp"

#include "protocol/limits_codec.hpp"
#include "protocol/utf8.hpp"

namespace sbx::protocol::detail {

namespace {

std::string required_id(const MapReader& m) {
    std::string id;
    if (!m.str("session_id", id)) fail(ErrorCode::invalid_request, m.field("session_id") + " is missing");
    if (id.empty()) fail_value(m.field("session_id"), "must not be empty");
    return id;
}

policy::LimitRequest read_limits(const MapReader& m) {
    if (const msgpack::object* limits = m.find("limits")) return read_limit_request(*limits, m.field("limits"));
    return {};
}

std::optional<policy::Duration> read_optional_duration(const MapReader& m, std::string_view key) {
    if (const msgpack::object* v = m.find(key)) return read_duration(*v, m.field(key));
    return std::nullopt;
}

SessionOpenRequest read_open(const MapReader& m) {
    SessionOpenRequest r;
    m.str("policy", r.policy);
    if (!m.str("language", r.language) || r.language.empty())
        fail(ErrorCode::invalid_request, m.field("language") + " is missing");
    m.str("owner", r.owner);
    r.idle_timeout = read_optional_duration(m, "idle_timeout");
    r.max_lifetime = read_optional_duration(m, "max_lifetime");
    r.limits = read_limits(m);
    m.string_map("env", r.env);
    return r;
}

SessionExecRequest read_exec(const MapReader& m) {
    SessionExecRequest r;
    r.session_id = required_id(m);
    m.str("owner", r.owner);
    m.bytes("code", r.code);
    r.limits = read_limits(m);
    return r;
}

void write_envelope(Writer& w, const Request& request, std::size_t fields) {
    w.map(2 + fields);
    w.key("type");
    w.str(type_name(request.body));
    w.key("id");
    w.uint(request.id);
}

void write_owner(Writer& w, const std::string& owner) {
    if (owner.empty()) return;
    w.key("owner");
    w.str(owner);
}

std::size_t present(bool b) { return b ? 1 : 0; }

void write_info_fields(Writer& w, const SessionInfo& r) {
    w.map(13);
    w.key("session_id");
    w.text(r.session_id);
    w.key("policy");
    w.text(r.policy);
    w.key("language");
    w.text(r.language);
    w.key("state");
    w.text(r.state);
    w.key("age_s");
    w.number(r.age_s);
    w.key("idle_s");
    w.number(r.idle_s);
    w.key("idle_timeout_s");
    w.number(r.idle_timeout_s);
    w.key("max_lifetime_s");
    w.number(r.max_lifetime_s);
    w.key("calls");
    w.uint(r.calls);
    w.key("restarts");
    w.uint(r.restarts);
    w.key("cpu_ms");
    w.number(r.cpu_ms);
    w.key("memory_peak_bytes");
    w.uint(r.memory_peak_bytes);
    w.key("memory_limit_bytes");
    w.uint(r.memory_limit_bytes);
}

}  // namespace

bool is_session_type(std::string_view type) { return type.starts_with("session."); }

RequestBody read_session_request(std::string_view type, const MapReader& m) {
    if (type == "session.open") return read_open(m);
    if (type == "session.exec") return read_exec(m);
    if (type == "session.close") {
        SessionCloseRequest r;
        r.session_id = required_id(m);
        m.str("owner", r.owner);
        return r;
    }
    if (type == "session.list") {
        SessionListRequest r;
        m.str("owner", r.owner);
        return r;
    }
    fail(ErrorCode::unknown_type, "unknown request type '" + quote_for_message(type) + "'");
}

bool write_session_request(Writer& w, const Request& request) {
    if (const auto* open = std::get_if<SessionOpenRequest>(&request.body)) {
        write_envelope(w, request,
                       present(!open->policy.empty()) + 1 + present(!open->owner.empty()) +
                           present(open->idle_timeout.has_value()) + present(open->max_lifetime.has_value()) +
                           present(has_any_limit(open->limits)) + present(!open->env.empty()));
        if (!open->policy.empty()) {
            w.key("policy");
            w.str(open->policy);
        }
        w.key("language");
        w.str(open->language);
        write_owner(w, open->owner);
        if (open->idle_timeout) {
            w.key("idle_timeout");
            w.number(to_seconds(*open->idle_timeout));
        }
        if (open->max_lifetime) {
            w.key("max_lifetime");
            w.number(to_seconds(*open->max_lifetime));
        }
        if (has_any_limit(open->limits)) {
            w.key("limits");
            write_limit_request(w, open->limits);
        }
        if (!open->env.empty()) {
            w.key("env");
            w.string_map(open->env);
        }
        return true;
    }
    if (const auto* exec = std::get_if<SessionExecRequest>(&request.body)) {
        write_envelope(w, request, 2 + present(!exec->owner.empty()) + present(has_any_limit(exec->limits)));
        w.key("session_id");
        w.str(exec->session_id);
        write_owner(w, exec->owner);
        w.key("code");
        w.bin(exec->code);
        if (has_any_limit(exec->limits)) {
            w.key("limits");
            write_limit_request(w, exec->limits);
        }
        return true;
    }
    if (const auto* close = std::get_if<SessionCloseRequest>(&request.body)) {
        write_envelope(w, request, 1 + present(!close->owner.empty()));
        w.key("session_id");
        w.str(close->session_id);
        write_owner(w, close->owner);
        return true;
    }
    if (const auto* list = std::get_if<SessionListRequest>(&request.body)) {
        write_envelope(w, request, present(!list->owner.empty()));
        write_owner(w, list->owner);
        return true;
    }
    return false;
}

void write_body(Writer& w, const SessionInfo& r) { write_info_fields(w, r); }

void write_body(Writer& w, const SessionExecResult& r) {
    w.map(1 + kReportFields + 6);
    w.key("session_id");
    w.text(r.session_id);
    write_report_fields(w, r.run);
    w.key("value");
    if (r.value)
        w.text(*r.value);
    else
        w.nil();
    w.key("error");
    if (r.error) {
        w.map(3);
        w.key("name");
        w.text(r.error->name);
        w.key("value");
        w.text(r.error->value);
        w.key("traceback");
        w.text(r.error->traceback);
    } else {
        w.nil();
    }
    w.key("images");
    w.array(r.images.size());
    for (const SessionImage& image : r.images) {
        w.map(2);
        w.key("mime");
        w.text(image.mime);
        w.key("data");
        w.bin(image.data);
    }
    w.key("state_lost");
    w.boolean(r.state_lost);
    w.key("restarts");
    w.uint(r.restarts);
    w.key("execution_count");
    w.uint(r.execution_count);
}

void write_body(Writer& w, const SessionCloseResult& r) {
    w.map(1);
    w.key("closed");
    w.boolean(r.closed);
}

void write_body(Writer& w, const SessionListResult& r) {
    w.map(6);
    w.key("sessions");
    w.array(r.sessions.size());
    for (const SessionInfo& s : r.sessions) write_info_fields(w, s);
    w.key("open");
    w.uint(r.open);
    w.key("max_sessions");
    w.uint(r.max_sessions);
    w.key("max_sessions_per_client");
    w.uint(r.max_sessions_per_client);
    w.key("memory_committed_bytes");
    w.uint(r.memory_committed_bytes);
    w.key("memory_budget_bytes");
    w.uint(r.memory_budget_bytes);
}

void read_body(const MapReader& m, SessionInfo& r) {
    m.str("session_id", r.session_id);
    m.str("policy", r.policy);
    m.str("language", r.language);
    m.str("state", r.state);
    m.number("age_s", r.age_s);
    m.number("idle_s", r.idle_s);
    m.number("idle_timeout_s", r.idle_timeout_s);
    m.number("max_lifetime_s", r.max_lifetime_s);
    m.uint64("calls", r.calls);
    m.uint32("restarts", r.restarts);
    m.number("cpu_ms", r.cpu_ms);
    m.uint64("memory_peak_bytes", r.memory_peak_bytes);
    m.uint64("memory_limit_bytes", r.memory_limit_bytes);
}

void read_body(const MapReader& m, SessionExecResult& r) {
    m.str("session_id", r.session_id);
    r.run = read_report_fields(m);
    std::string value;
    if (m.str("value", value)) r.value = std::move(value);
    if (const msgpack::object* error = m.find("error")) {
        const MapReader e(*error, m.field("error"));
        SessionErrorInfo info;
        e.str("name", info.name);
        e.str("value", info.value);
        e.str("traceback", info.traceback);
        r.error = std::move(info);
    }
    for_each_map(m, "images", [&r](const MapReader& i) {
        SessionImage image;
        i.str("mime", image.mime);
        i.bytes("data", image.data);
        r.images.push_back(std::move(image));
    });
    m.boolean("state_lost", r.state_lost);
    m.uint32("restarts", r.restarts);
    m.uint64("execution_count", r.execution_count);
}

void read_body(const MapReader& m, SessionCloseResult& r) { m.boolean("closed", r.closed); }

void read_body(const MapReader& m, SessionListResult& r) {
    for_each_map(m, "sessions", [&r](const MapReader& s) {
        SessionInfo info;
        read_body(s, info);
        r.sessions.push_back(std::move(info));
    });
    m.uint32("open", r.open);
    m.uint32("max_sessions", r.max_sessions);
    m.uint32("max_sessions_per_client", r.max_sessions_per_client);
    m.uint64("memory_committed_bytes", r.memory_committed_bytes);
    m.uint64("memory_budget_bytes", r.memory_budget_bytes);
}

}  // namespace sbx::protocol::detail
