// Result frames: {"type": "result", "id": N, "result": {...body...}}, one body per request type.
#include "protocol/limits_codec.hpp"
#include "protocol/msgpack_reader.hpp"
#include "protocol/msgpack_writer.hpp"
#include "protocol/raw_reply.hpp"
#include "protocol/session_codec.hpp"

namespace sbx::protocol {

using detail::MapReader;
using detail::Writer;

namespace detail {

void write_report_fields(Writer& w, const ExecutionReport& r) {
    w.key("status");
    w.text(r.status);
    w.key("exit_code");
    w.integer(r.exit_code);
    w.key("signal");
    w.integer(r.signal);
    w.key("wall_ms");
    w.number(r.wall_ms);
    w.key("cpu_ms");
    w.number(r.cpu_ms);
    w.key("memory_peak_bytes");
    w.uint(r.memory_peak_bytes);
    w.key("stdout");
    w.bin(r.stdout_data);
    w.key("stderr");
    w.bin(r.stderr_data);
    w.key("stdout_truncated");
    w.boolean(r.stdout_truncated);
    w.key("stderr_truncated");
    w.boolean(r.stderr_truncated);
    w.key("message");
    w.text(r.message);
}

ExecutionReport read_report_fields(const MapReader& m) {
    ExecutionReport r;
    m.str("status", r.status);
    m.int32("exit_code", r.exit_code);
    m.int32("signal", r.signal);
    m.number("wall_ms", r.wall_ms);
    m.number("cpu_ms", r.cpu_ms);
    m.uint64("memory_peak_bytes", r.memory_peak_bytes);
    m.bytes("stdout", r.stdout_data);
    m.bytes("stderr", r.stderr_data);
    m.boolean("stdout_truncated", r.stdout_truncated);
    m.boolean("stderr_truncated", r.stderr_truncated);
    m.str("message", r.message);
    return r;
}

}  // namespace detail

namespace {

using detail::kReportFields;
using detail::read_report_fields;
using detail::write_report_fields;

// ---- encoding ---------------------------------------------------------------------------------

// tests, passed and total appear only when the request had tests.
bool has_tests(const RunResult& r) { return !r.tests.empty() || r.total > 0; }

void write_body(Writer& w, const HelloResult& r) {
    w.map(1);
    w.key("protocol");
    w.uint(r.protocol);
}

void write_body(Writer& w, const RunResult& r) {
    const bool tests = has_tests(r);
    w.map(3 + kReportFields + (r.compile ? 1 : 0) + (tests ? 3 : 0));
    w.key("job_id");
    w.text(r.job_id);
    w.key("policy");
    w.text(r.policy);
    w.key("language");
    w.text(r.language);
    write_report_fields(w, r.run);
    if (r.compile) {
        w.key("compile");
        w.map(kReportFields + 1);
        write_report_fields(w, *r.compile);
        w.key("cached");
        w.boolean(r.compile->cached);
    }
    if (tests) {
        w.key("tests");
        w.array(r.tests.size());
        for (const TestCaseReport& t : r.tests) {
            w.map(1 + kReportFields);
            w.key("verdict");
            w.text(t.verdict);
            write_report_fields(w, t.run);
        }
        w.key("passed");
        w.uint(r.passed);
        w.key("total");
        w.uint(r.total);
    }
}

void write_body(Writer& w, const CancelResult& r) {
    w.map(1);
    w.key("cancelled");
    w.boolean(r.cancelled);
}

void write_body(Writer& w, const StatusResult& r) {
    w.map(8);
    w.key("server");
    w.text(r.server);
    w.key("uptime_s");
    w.number(r.uptime_s);
    w.key("cgroup_backend");
    w.text(r.cgroup_backend);
    w.key("max_jobs");
    w.uint(r.max_jobs);
    w.key("max_queue");
    w.uint(r.max_queue);
    w.key("running");
    w.uint(r.running);
    w.key("queued");
    w.uint(r.queued);
    w.key("jobs");
    w.array(r.jobs.size());
    for (const JobInfo& j : r.jobs) {
        w.map(6);
        w.key("job_id");
        w.text(j.job_id);
        w.key("uid");
        w.uint(j.uid);
        w.key("policy");
        w.text(j.policy);
        w.key("language");
        w.text(j.language);
        w.key("state");
        w.text(j.state);
        w.key("elapsed_ms");
        w.number(j.elapsed_ms);
    }
}

void write_body(Writer& w, const PoliciesResult& r) {
    w.map(1);
    w.key("policies");
    w.array(r.policies.size());
    for (const PolicyInfo& p : r.policies) {
        w.map(4);
        w.key("name");
        w.text(p.name);
        w.key("description");
        w.text(p.description);
        w.key("network");
        w.text(p.network);
        w.key("limits");
        detail::write_limit_bounds(w, p.limits);
    }
}

void write_body(Writer& w, const LanguagesResult& r) {
    w.map(1);
    w.key("languages");
    w.array(r.languages.size());
    for (const LanguageInfo& l : r.languages) {
        w.map(8);
        w.key("name");
        w.text(l.name);
        w.key("display_name");
        w.text(l.display_name);
        w.key("aliases");
        w.texts(l.aliases);
        w.key("extensions");
        w.texts(l.extensions);
        w.key("compiled");
        w.boolean(l.compiled);
        w.key("version");
        w.text(l.version);
        w.key("available");
        w.boolean(l.available);
        w.key("reason");
        w.text(l.reason);
    }
}

void write_body(Writer& w, const StatsResult& r) {
    w.map(10);
    w.key("uptime_s");
    w.number(r.uptime_s);
    w.key("jobs_total");
    w.uint(r.jobs_total);
    w.key("by_status");
    w.uint_map(r.by_status);
    w.key("by_language");
    w.uint_map(r.by_language);
    w.key("running");
    w.uint(r.running);
    w.key("queued");
    w.uint(r.queued);
    w.key("rejected_busy");
    w.uint(r.rejected_busy);
    w.key("latency_bounds_ms");
    w.numbers(r.latency_bounds_ms);
    w.key("latency_counts");
    w.uints(r.latency_counts);
    w.key("latency_sum_ms");
    w.number(r.latency_sum_ms);
}

void write_body(Writer& w, const ReloadResult& r) {
    w.map(2);
    w.key("policies");
    w.uint(r.policies);
    w.key("languages");
    w.uint(r.languages);
}

// ---- decoding (missing fields keep their defaults; unknown fields are ignored) ----------------

using detail::for_each_map;

void read_body(const MapReader& m, HelloResult& r) { m.uint32("protocol", r.protocol); }

void read_body(const MapReader& m, RunResult& r) {
    m.str("job_id", r.job_id);
    m.str("policy", r.policy);
    m.str("language", r.language);
    r.run = read_report_fields(m);
    if (const msgpack::object* compile = m.find("compile"))
    {
        MapReader c(*compile, m.field("compile"));
        r.compile = read_report_fields(c);
        c.boolean("cached", r.compile->cached);
    }
    for_each_map(m, "tests", [&r](const MapReader& t) {
        TestCaseReport report;
        t.str("verdict", report.verdict);
        report.run = read_report_fields(t);
        r.tests.push_back(std::move(report));
    });
    m.uint32("passed", r.passed);
    m.uint32("total", r.total);
}

void read_body(const MapReader& m, CancelResult& r) { m.boolean("cancelled", r.cancelled); }

void read_body(const MapReader& m, StatusResult& r) {
    m.str("server", r.server);
    m.number("uptime_s", r.uptime_s);
    m.str("cgroup_backend", r.cgroup_backend);
    m.uint32("max_jobs", r.max_jobs);
    m.uint32("max_queue", r.max_queue);
    m.uint32("running", r.running);
    m.uint32("queued", r.queued);
    for_each_map(m, "jobs", [&r](const MapReader& j) {
        JobInfo job;
        j.str("job_id", job.job_id);
        j.uint32("uid", job.uid);
        j.str("policy", job.policy);
        j.str("language", job.language);
        j.str("state", job.state);
        j.number("elapsed_ms", job.elapsed_ms);
        r.jobs.push_back(std::move(job));
    });
}

void read_body(const MapReader& m, PoliciesResult& r) {
    for_each_map(m, "policies", [&r](const MapReader& p) {
        PolicyInfo policy;
        p.str("name", policy.name);
        p.str("description", policy.description);
        p.str("network", policy.network);
        if (const msgpack::object* limits = p.find("limits"))
            policy.limits = detail::read_limit_bounds(*limits, p.field("limits"));
        r.policies.push_back(std::move(policy));
    });
}

void read_body(const MapReader& m, LanguagesResult& r) {
    for_each_map(m, "languages", [&r](const MapReader& l) {
        LanguageInfo language;
        l.str("name", language.name);
        l.str("display_name", language.display_name);
        l.strings("aliases", language.aliases);
        l.strings("extensions", language.extensions);
        l.boolean("compiled", language.compiled);
        l.str("version", language.version);
        l.boolean("available", language.available);
        l.str("reason", language.reason);
        r.languages.push_back(std::move(language));
    });
}

void read_body(const MapReader& m, StatsResult& r) {
    m.number("uptime_s", r.uptime_s);
    m.uint64("jobs_total", r.jobs_total);
    m.uint_map("by_status", r.by_status);
    m.uint_map("by_language", r.by_language);
    m.uint32("running", r.running);
    m.uint32("queued", r.queued);
    m.uint64("rejected_busy", r.rejected_busy);
    m.numbers("latency_bounds_ms", r.latency_bounds_ms);
    m.uints("latency_counts", r.latency_counts);
    m.number("latency_sum_ms", r.latency_sum_ms);
}

void read_body(const MapReader& m, ReloadResult& r) {
    m.uint32("policies", r.policies);
    m.uint32("languages", r.languages);
}

}  // namespace

std::string encode_result(RequestId id, const ResultBody& result) {
    Writer w;
    w.map(3);
    w.key("type");
    w.str("result");
    w.key("id");
    w.uint(id);
    w.key("result");
    std::visit([&w](const auto& body) { write_body(w, body); }, result);
    return w.take();
}

template <class T>
Decoded<T> decode_result(const Reply& reply) {
    if (reply.kind != Reply::Kind::result || !reply.raw)
        return ProtocolError{ErrorCode::internal_error, "the reply is not a result", reply.id};
    const auto& raw = *static_cast<const detail::RawResult*>(reply.raw.get());
    if (raw.body == nullptr) return ProtocolError{ErrorCode::internal_error, "the reply has no result body", reply.id};
    try {
        T value;
        read_body(MapReader(*raw.body, "result"), value);
        return value;
    } catch (detail::DecodeFailure& failure) {
        failure.error.id = reply.id;
        return std::move(failure.error);
    } catch (const std::bad_alloc&) {
        return ProtocolError{ErrorCode::internal_error, "out of memory decoding a result", reply.id};
    } catch (...) {
        return ProtocolError{ErrorCode::malformed_frame, "undecodable result", reply.id};
    }
}

template Decoded<HelloResult> decode_result<HelloResult>(const Reply&);
template Decoded<RunResult> decode_result<RunResult>(const Reply&);
template Decoded<CancelResult> decode_result<CancelResult>(const Reply&);
template Decoded<StatusResult> decode_result<StatusResult>(const Reply&);
template Decoded<PoliciesResult> decode_result<PoliciesResult>(const Reply&);
template Decoded<LanguagesResult> decode_result<LanguagesResult>(const Reply&);
template Decoded<StatsResult> decode_result<StatsResult>(const Reply&);
template Decoded<ReloadResult> decode_result<ReloadResult>(const Reply&);
template Decoded<SessionInfo> decode_result<SessionInfo>(const Reply&);
template Decoded<SessionExecResult> decode_result<SessionExecResult>(const Reply&);
template Decoded<SessionCloseResult> decode_result<SessionCloseResult>(const Reply&);
template Decoded<SessionListResult> decode_result<SessionListResult>(const Reply&);

}  // namespace sbx::protocol
