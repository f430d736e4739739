#include "protocol/json_codec.hpp"

#include <cmath>

#include "common/base64.hpp"
#include "policy/units.hpp"

namespace sbx::protocol {

using nlohmann::json;

namespace {

double seconds(policy::Duration d) { return static_cast<double>(d.count()) / 1e6; }

ProtocolError wrong_type(const std::string& field, const char* expected, const json& value) {
    return ProtocolError{ErrorCode::malformed_frame,
                         field + " must be " + expected + ", got " + std::string(value.type_name()), {}};
}
ProtocolError bad_value(const std::string& field, const std::string& what) {
    return ProtocolError{ErrorCode::invalid_request, field + ": " + what, {}};
}

// Typed access to one JSON object, remembering the first error.
class Fields {
public:
    Fields(const json& object, std::string where) : object_(object), where_(std::move(where)) {}

    const json* find(const char* key) const {
        auto it = object_.find(key);
        return it == object_.end() || it->is_null() ? nullptr : &*it;
    }
    std::string name(const char* key) const { return where_ + "." + key; }

    bool str(const char* key, std::string& out) {
        const json* v = find(key);
        if (v == nullptr) return true;
        if (!v->is_string()) return fail(wrong_type(name(key), "a string", *v));
        out = v->get<std::string>();
        return true;
    }
    bool boolean(const char* key, bool& out) {
        const json* v = find(key);
        if (v == nullptr) return true;
        if (!v->is_boolean()) return fail(wrong_type(name(key), "a boolean", *v));
        out = v->get<bool>();
        return true;
    }
    bool number(const char* key, double& out) {
        const json* v = find(key);
        if (v == nullptr) return true;
        if (!v->is_number()) return fail(wrong_type(name(key), "a number", *v));
        out = v->get<double>();
        return true;
    }
    bool strings(const char* key, std::vector<std::string>& out) {
        const json* v = find(key);
        if (v == nullptr) return true;
        if (!v->is_array()) return fail(wrong_type(name(key), "an array of strings", *v));
        for (size_t i = 0; i < v->size(); ++i) {
            if (!(*v)[i].is_string())
                return fail(wrong_type(name(key) + "[" + std::to_string(i) + "]", "a string", (*v)[i]));
            out.push_back((*v)[i].get<std::string>());
        }
        return true;
    }
    bool fail(ProtocolError e) {
        if (!error) error = std::move(e);
        return false;
    }

    std::optional<ProtocolError> error;

private:
    const json& object_;
    std::string where_;
};

// An optional duration at `key` of `object`: a number of seconds or a string with a unit.
std::optional<ProtocolError> duration_from_json(const json& object, const char* key, const std::string& where,
                                                std::optional<policy::Duration>& field) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return std::nullopt;
    std::string name = where + "." + key;
    if (it->is_number()) {
        double s = it->get<double>();
        if (!(s > 0) || !std::isfinite(s)) return bad_value(name, "must be a positive number of seconds");
        field = policy::Duration(static_cast<std::int64_t>(std::llround(s * 1e6)));
    } else if (it->is_string()) {
        auto v = policy::parse_duration(it->get<std::string>());
        if (!v) return bad_value(name, v.error().message());
        field = *v;
    } else {
        return wrong_type(name, "a number of seconds or a string like \"2.5s\"", *it);
    }
    return std::nullopt;
}

std::optional<ProtocolError> env_from_json(const json& j, const std::string& where,
                                           std::map<std::string, std::string>& env) {
    auto it = j.find("env");
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_object()) return wrong_type(where + ".env", "an object of strings", *it);
    for (const auto& [key, value] : it->items()) {
        if (!value.is_string()) return wrong_type(where + ".env." + key, "a string", value);
        env[key] = value.get<std::string>();
    }
    return std::nullopt;
}

}  // namespace

json limits_to_json(const policy::LimitBounds& b) {
    auto pair = [](auto def, auto max) { return json{{"default", def}, {"max", max}}; };
    return {
        {"memory_limit", pair(b.memory_bytes.default_value, b.memory_bytes.maximum)},
        {"pids_limit", pair(b.pids.default_value, b.pids.maximum)},
        {"wall_time_limit", pair(seconds(b.wall_time.default_value), seconds(b.wall_time.maximum))},
        {"cpu_time_limit", pair(seconds(b.cpu_time.default_value), seconds(b.cpu_time.maximum))},
        {"cpu_cores", pair(b.cpu_cores.default_value, b.cpu_cores.maximum)},
        {"output_limit", pair(b.output_bytes.default_value, b.output_bytes.maximum)},
        {"tmpfs_limit", pair(b.tmpfs_bytes.default_value, b.tmpfs_bytes.maximum)},
        {"open_files_limit", pair(b.open_files.default_value, b.open_files.maximum)},
        {"file_size_limit", pair(b.file_size_bytes.default_value, b.file_size_bytes.maximum)},
        {"stack_limit", pair(b.stack_bytes.default_value, b.stack_bytes.maximum)},
    };
}

json to_json(const ExecutionReport& r) {
    json j = {{"status", r.status},
              {"exit_code", r.exit_code},
              {"signal", r.signal},
              {"wall_ms", r.wall_ms},
              {"cpu_ms", r.cpu_ms},
              {"memory_peak_bytes", r.memory_peak_bytes},
              {"stdout", r.stdout_data},
              {"stderr", r.stderr_data},
              {"stdout_truncated", r.stdout_truncated},
              {"stderr_truncated", r.stderr_truncated}};
    if (!r.message.empty()) j["message"] = r.message;
    return j;
}

json to_json(const RunResult& r) {
    json j = {{"job_id", r.job_id}, {"policy", r.policy}, {"language", r.language}};
    j.update(to_json(r.run));
    if (r.compile) {
        j["compile"] = to_json(*r.compile);
        j["compile"]["cached"] = r.compile->cached;
    }
    if (r.total > 0 || !r.tests.empty()) {
        json tests = json::array();
        for (const auto& t : r.tests) {
            json case_json = {{"verdict", t.verdict}};
            case_json.update(to_json(t.run));
            tests.push_back(std::move(case_json));
        }
        j["tests"] = std::move(tests);
        j["passed"] = r.passed;
        j["total"] = r.total;
    }
    return j;
}

json to_json(const StatusResult& s) {
    json jobs = json::array();
    for (const auto& job : s.jobs)
        jobs.push_back({{"job_id", job.job_id},
                        {"uid", job.uid},
                        {"policy", job.policy},
                        {"language", job.language},
                        {"state", job.state},
                        {"elapsed_ms", job.elapsed_ms}});
    return {{"server", s.server},     {"uptime_s", s.uptime_s}, {"cgroup_backend", s.cgroup_backend},
            {"max_jobs", s.max_jobs}, {"max_queue", s.max_queue}, {"running", s.running},
            {"queued", s.queued},     {"jobs", std::move(jobs)}};
}

json to_json(const PoliciesResult& r) {
    json list = json::array();
    for (const auto& p : r.policies)
        list.push_back({{"name", p.name},
                        {"description", p.description},
                        {"network", p.network},
                        {"limits", limits_to_json(p.limits)}});
    return {{"policies", std::move(list)}};
}

json to_json(const LanguagesResult& r) {
    json list = json::array();
    for (const auto& l : r.languages)
        list.push_back({{"name", l.name},
                        {"display_name", l.display_name},
                        {"aliases", l.aliases},
                        {"extensions", l.extensions},
                        {"compiled", l.compiled},
                        {"version", l.version},
                        {"available", l.available},
                        {"reason", l.reason}});
    return {{"languages", std::move(list)}};
}

json to_json(const StatsResult& s) {
    return {{"uptime_s", s.uptime_s},
            {"jobs_total", s.jobs_total},
            {"by_status", s.by_status},
            {"by_language", s.by_language},
            {"running", s.running},
            {"queued", s.queued},
            {"rejected_busy", s.rejected_busy},
            {"latency_bounds_ms", s.latency_bounds_ms},
            {"latency_counts", s.latency_counts},
            {"latency_sum_ms", s.latency_sum_ms}};
}

json to_json(const ReloadResult& r) { return {{"policies", r.policies}, {"languages", r.languages}}; }

json to_json(const CancelResult& r) { return {{"cancelled", r.cancelled}}; }

json to_json(const Event& e) {
    json j = {{"event", e.event}};
    if (!e.job_id.empty()) j["job_id"] = e.job_id;
    if (!e.stage.empty()) j["stage"] = e.stage;
    if (e.test >= 0) j["test"] = e.test;
    if (!e.stream.empty()) j["stream"] = e.stream;
    if (e.event == "output") j["data"] = e.data;
    if (e.event == "accepted") j["queue_position"] = e.queue_position;
    return j;
}

Decoded<policy::LimitRequest> limits_from_json(const json& j, const std::string& where) {
    policy::LimitRequest out;
    if (j.is_null()) return out;
    if (!j.is_object()) return wrong_type(where, "an object", j);
    auto size = [&](const char* key, std::optional<std::uint64_t>& field) -> std::optional<ProtocolError> {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return std::nullopt;
        std::string name = where + "." + key;
        if (it->is_number_unsigned()) {
            field = it->get<std::uint64_t>();
        } else if (it->is_string()) {
            auto v = policy::parse_size(it->get<std::string>());
            if (!v) return bad_value(name, v.error().message());
            field = *v;
        } else if (it->is_number()) {
            return bad_value(name, "must be a positive number of bytes");
        } else {
            return wrong_type(name, "an integer (bytes) or a string like \"256MiB\"", *it);
        }
        return std::nullopt;
    };
    auto duration = [&](const char* key, std::optional<policy::Duration>& field) {
        return duration_from_json(j, key, where, field);
    };
    auto count = [&](const char* key, std::optional<std::uint32_t>& field) -> std::optional<ProtocolError> {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return std::nullopt;
        std::string name = where + "." + key;
        if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 0xffffffffu)
            return it->is_number() ? bad_value(name, "must be a positive integer")
                                   : wrong_type(name, "an integer", *it);
        field = static_cast<std::uint32_t>(it->get<std::uint64_t>());
        return std::nullopt;
    };
    for (auto e : {size("memory_limit", out.memory_bytes), count("pids_limit", out.pids),
                   duration("wall_time_limit", out.wall_time), duration("cpu_time_limit", out.cpu_time),
                   size("output_limit", out.output_bytes), size("tmpfs_limit", out.tmpfs_bytes),
                   count("open_files_limit", out.open_files), size("file_size_limit", out.file_size_bytes),
                   size("stack_limit", out.stack_bytes)})
        if (e) return *e;
    if (auto it = j.find("cpu_cores"); it != j.end() && !it->is_null()) {
        if (!it->is_number()) return wrong_type(where + ".cpu_cores", "a number", *it);
        double cores = it->get<double>();
        if (!(cores > 0)) return bad_value(where + ".cpu_cores", "must be above 0");
        out.cpu_cores = cores;
    }
    return out;
}

Decoded<RunRequest> run_request_from_json(const json& j) {
    if (!j.is_object()) return wrong_type("run", "an object", j);
    RunRequest r;
    Fields f(j, "run");
    std::string compare = "trailing_whitespace";
    bool ok = f.str("policy", r.policy) && f.str("language", r.language) && f.strings("argv", r.argv) &&
              f.str("source", r.source) && f.strings("args", r.args) && f.str("stdin", r.stdin_data) &&
              f.boolean("stream", r.stream) && f.str("compare", compare) &&
              f.number("float_tolerance", r.float_tolerance) && f.boolean("stop_on_failure", r.stop_on_failure);
    if (!ok) return *f.error;
    if (compare == "exact")
        r.compare = CompareMode::exact;
    else if (compare == "trailing_whitespace")
        r.compare = CompareMode::trailing_whitespace;
    else if (compare == "tokens")
        r.compare = CompareMode::tokens;
    else if (compare == "float")
        r.compare = CompareMode::float_tolerance;
    else
        return bad_value("run.compare", "'" + compare + "' is not one of exact, trailing_whitespace, tokens, float");
    if (auto e = env_from_json(j, "run", r.env)) return *e;
    if (const json* files = f.find("files")) {
        if (!files->is_array()) return wrong_type("run.files", "an array", *files);
        for (size_t i = 0; i < files->size(); ++i) {
            const json& file = (*files)[i];
            std::string where = "run.files[" + std::to_string(i) + "]";
            if (!file.is_object()) return wrong_type(where, "an object", file);
            Fields ff(file, where);
            FileEntry entry;
            if (!(ff.str("name", entry.name) && ff.str("content", entry.content) &&
                  ff.boolean("executable", entry.executable)))
                return *ff.error;
            if (entry.name.empty()) return bad_value(where + ".name", "missing or empty");
            r.files.push_back(std::move(entry));
        }
    }
    auto limits = limits_from_json(j.contains("limits") ? j["limits"] : json(), "run.limits");
    if (!limits) return limits.error();
    r.limits = *limits;
    auto compile_limits = limits_from_json(j.contains("compile_limits") ? j["compile_limits"] : json(),
                                           "run.compile_limits");
    if (!compile_limits) return compile_limits.error();
    r.compile_limits = *compile_limits;
    if (const json* tests = f.find("tests")) {
        if (!tests->is_array()) return wrong_type("run.tests", "an array", *tests);
        for (size_t i = 0; i < tests->size(); ++i) {
            const json& t = (*tests)[i];
            std::string where = "run.tests[" + std::to_string(i) + "]";
            if (!t.is_object()) return wrong_type(where, "an object", t);
            Fields tf(t, where);
            TestCase tc;
            if (!(tf.str("stdin", tc.stdin_data) && tf.str("expected_output", tc.expected_output))) return *tf.error;
            auto tl = limits_from_json(t.contains("limits") ? t["limits"] : json(), where + ".limits");
            if (!tl) return tl.error();
            tc.limits = *tl;
            r.tests.push_back(std::move(tc));
        }
    }
    if (!(r.float_tolerance >= 0)) return bad_value("run.float_tolerance", "must not be negative");
    return r;
}

json to_json(const SessionInfo& s) {
    return {{"session_id", s.session_id},
            {"policy", s.policy},
            {"language", s.language},
            {"state", s.state},
            {"age_s", s.age_s},
            {"idle_s", s.idle_s},
            {"idle_timeout_s", s.idle_timeout_s},
            {"max_lifetime_s", s.max_lifetime_s},
            {"calls", s.calls},
            {"restarts", s.restarts},
            {"cpu_ms", s.cpu_ms},
            {"memory_peak_bytes", s.memory_peak_bytes},
            {"memory_limit_bytes", s.memory_limit_bytes}};
}

json to_json(const SessionExecResult& r) {
    json j = {{"session_id", r.session_id}};
    j.update(to_json(r.run));
    j["value"] = r.value ? json(*r.value) : json();
    j["error"] = r.error ? json{{"name", r.error->name}, {"value", r.error->value}, {"traceback", r.error->traceback}}
                         : json();
    json images = json::array();
    for (const auto& image : r.images) images.push_back({{"mime", image.mime}, {"data_base64", base64_encode(image.data)}});
    j["images"] = std::move(images);
    j["state_lost"] = r.state_lost;
    j["restarts"] = r.restarts;
    j["execution_count"] = r.execution_count;
    return j;
}

json to_json(const SessionCloseResult& r) { return {{"closed", r.closed}}; }

json to_json(const SessionListResult& r) {
    json sessions = json::array();
    for (const auto& s : r.sessions) sessions.push_back(to_json(s));
    return {{"sessions", std::move(sessions)},
            {"open", r.open},
            {"max_sessions", r.max_sessions},
            {"max_sessions_per_client", r.max_sessions_per_client},
            {"memory_committed_bytes", r.memory_committed_bytes},
            {"memory_budget_bytes", r.memory_budget_bytes}};
}

Decoded<SessionOpenRequest> session_open_from_json(const json& j) {
    if (!j.is_object()) return wrong_type("session", "an object", j);
    SessionOpenRequest r;
    Fields f(j, "session");
    if (!(f.str("policy", r.policy) && f.str("language", r.language))) return *f.error;
    if (r.language.empty()) return bad_value("session.language", "missing or empty");
    for (auto e : {duration_from_json(j, "idle_timeout", "session", r.idle_timeout),
                   duration_from_json(j, "max_lifetime", "session", r.max_lifetime), env_from_json(j, "session", r.env)})
        if (e) return *e;
    auto limits = limits_from_json(j.contains("limits") ? j["limits"] : json(), "session.limits");
    if (!limits) return limits.error();
    r.limits = *limits;
    return r;
}

Decoded<SessionExecRequest> session_exec_from_json(const json& j) {
    if (!j.is_object()) return wrong_type("exec", "an object", j);
    SessionExecRequest r;
    Fields f(j, "exec");
    if (!f.str("code", r.code)) return *f.error;
    // An empty cell is fine; a request without one is a mistake.
    if (f.find("code") == nullptr) return bad_value("exec.code", "missing");
    auto limits = limits_from_json(j.contains("limits") ? j["limits"] : json(), "exec.limits");
    if (!limits) return limits.error();
    r.limits = *limits;
    return r;
}

std::string dump(const json& j, int indent) {
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace sbx::protocol
