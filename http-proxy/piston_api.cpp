#include "http-proxy/piston_api.hpp"

#include <cstring>
#include <string.h>

#include "http-proxy/compat_support.hpp"
#include "http-proxy/daemon_call.hpp"
#include "http-proxy/json_body.hpp"
#include "http-proxy/openapi.hpp"

namespace sbx::http {

using nlohmann::json;
using nlohmann::ordered_json;
using beast_http::verb;

namespace {

Response piston_error(const HttpError& e) {
    Response response = json_response(e.status, {{"message", e.message}});
    add_error_headers(response, e);
    return response;
}

HttpError piston_bad_request(std::string message) { return HttpError::bad_request("invalid_request", std::move(message)); }

json signal_name(int signal) {
    if (signal <= 0) return nullptr;
    const char* abbrev = sigabbrev_np(signal);
    return abbrev != nullptr ? json(std::string("SIG") + abbrev) : json(signal);
}

std::optional<std::string> decode_base64(const std::string& in) {
    static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned value = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=' || c == '\n' || c == '\r') continue;
        auto pos = alphabet.find(c);
        if (c == '-') pos = 62;  // URL-safe alphabet too, as Node's Buffer accepts it
        if (c == '_') pos = 63;
        if (pos == std::string::npos) return std::nullopt;
        value = (value << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((value >> bits) & 0xff));
        }
    }
    return out;
}

std::optional<std::string> decode_hex(const std::string& in) {
    if (in.size() % 2 != 0) return std::nullopt;
    std::string out;
    for (size_t i = 0; i < in.size(); i += 2) {
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        int hi = nibble(in[i]), lo = nibble(in[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

struct PistonFile {
    std::string name;
    std::string content;
    bool utf8 = true;
};

// Piston's request, checked as Piston checks it (same order, same messages).
struct PistonRequest {
    std::string language, version, stdin_data;
    std::vector<std::string> args;
    std::vector<PistonFile> files;
    json body;
};

std::optional<HttpError> read_request(const std::string& text, PistonRequest& out) {
    auto parsed = parse_json_object(text);
    if (auto* error = std::get_if<HttpError>(&parsed)) return *error;
    out.body = std::get<json>(parsed);
    const json& b = out.body;
    auto str = [&](const char* key) -> const json* {
        auto it = b.find(key);
        return it != b.end() && it->is_string() && !it->get<std::string>().empty() ? &*it : nullptr;
    };
    if (const json* language = str("language"))
        out.language = language->get<std::string>();
    else
        return piston_bad_request("language is required as a string");
    if (const json* version = str("version"))
        out.version = version->get<std::string>();
    else
        return piston_bad_request("version is required as a string");
    auto files = b.find("files");
    if (files == b.end() || !files->is_array()) return piston_bad_request("files is required as an array");
    for (size_t i = 0; i < files->size(); ++i) {
        const json& f = (*files)[i];
        auto content = f.is_object() ? f.find("content") : f.end();
        if (!f.is_object() || content == f.end() || !content->is_string())
            return piston_bad_request("files[" + std::to_string(i) + "].content is required as a string");
        PistonFile file;
        auto name = f.find("name");
        file.name = name != f.end() && name->is_string() && !name->get<std::string>().empty()
                        ? name->get<std::string>()
                        : "file" + std::to_string(i) + ".code";
        std::string encoding = "utf8";
        if (auto e = f.find("encoding"); e != f.end() && e->is_string() &&
                                         (*e == "base64" || *e == "hex" || *e == "utf8"))
            encoding = e->get<std::string>();
        if (encoding == "utf8") {
            file.content = content->get<std::string>();
        } else {
            auto decoded = encoding == "base64" ? decode_base64(content->get<std::string>())
                                                : decode_hex(content->get<std::string>());
            if (!decoded) return piston_bad_request("files[" + std::to_string(i) + "].content is not valid " + encoding);
            file.content = std::move(*decoded);
            file.utf8 = false;
        }
        out.files.push_back(std::move(file));
    }
    if (auto s = b.find("stdin"); s != b.end() && !s->is_null()) {
        if (!s->is_string()) return piston_bad_request("stdin must be a string");
        out.stdin_data = s->get<std::string>();
    }
    if (auto a = b.find("args"); a != b.end() && !a->is_null()) {
        if (!a->is_array()) return piston_bad_request("args must be an array of strings");
        for (const auto& arg : *a) {
            if (!arg.is_string()) return piston_bad_request("args must be an array of strings");
            out.args.push_back(arg.get<std::string>());
        }
    }
    return std::nullopt;
}

const protocol::LanguageInfo* find_runtime(const protocol::LanguagesResult& languages, const std::string& language,
                                           const std::string& version) {
    for (const auto& l : languages.languages) {
        if (!l.available) continue;
        bool named = l.name == language;
        for (const auto& alias : l.aliases) named = named || alias == language;
        // Until sandboxd has probed the runtime's version (a moment after it starts) any selector matches.
        if (named && (l.version.empty() || piston_version_matches(version, version_number(l.version)))) return &l;
    }
    return nullptr;
}

// compile_/run_ memory_limit (bytes), timeout (ms), cpu_time (ms): present values must be
// numbers, not above the policy's maximum, not negative. Applied to `run`'s limits.
std::optional<HttpError> apply_constraints(const json& body, const protocol::PolicyInfo* policy,
                                           protocol::RunRequest& run) {
    for (const char* constraint : {"memory_limit", "timeout", "cpu_time"}) {
        for (const char* stage : {"compile", "run"}) {
            std::string name = std::string(stage) + "_" + constraint;
            auto it = body.find(name);
            // JavaScript's falsiness: absent, null, 0, false and "" are "not specified".
            if (it == body.end() || it->is_null() || (it->is_number() && it->get<double>() == 0) ||
                (it->is_boolean() && !it->get<bool>()) || (it->is_string() && it->get<std::string>().empty()))
                continue;
            if (!it->is_number()) return piston_bad_request("If specified, " + name + " must be a number");
            double value = it->get<double>();
            double configured = -1;
            if (policy != nullptr) {
                const auto& b = policy->limits;
                if (std::strcmp(constraint, "memory_limit") == 0) configured = static_cast<double>(b.memory_bytes.maximum);
                if (std::strcmp(constraint, "timeout") == 0) configured = static_cast<double>(b.wall_time.maximum.count()) / 1000;
                if (std::strcmp(constraint, "cpu_time") == 0) configured = static_cast<double>(b.cpu_time.maximum.count()) / 1000;
            }
            if (configured > 0 && value > configured) {
                json limit = configured == static_cast<double>(static_cast<long long>(configured))
                                 ? json(static_cast<long long>(configured))
                                 : json(configured);
                return piston_bad_request(name + " cannot exceed the configured limit of " + limit.dump());
            }
            if (value < 0) return piston_bad_request(name + " must be non-negative");
            policy::LimitRequest& limits = std::strcmp(stage, "run") == 0 ? run.limits : run.compile_limits;
            if (std::strcmp(constraint, "memory_limit") == 0)
                limits.memory_bytes = static_cast<std::uint64_t>(value);
            else if (std::strcmp(constraint, "timeout") == 0)
                limits.wall_time = seconds_to_duration(value / 1000);
            else
                limits.cpu_time = seconds_to_duration(value / 1000);
        }
    }
    return std::nullopt;
}

void execute(Services& services, const std::shared_ptr<Exchange>& exchange) {
    auto content_type = exchange->header("Content-Type").value_or("");
    if (content_type.rfind("application/json", 0) != 0) {
        exchange->respond(piston_error({HttpStatus::unsupported_media_type, "unsupported_media_type",
                                        "requests must be of type application/json", {}}));
        return;
    }
    auto request = std::make_shared<PistonRequest>();
    if (auto error = read_request(exchange->body(), *request)) {
        exchange->respond(piston_error(*error));
        return;
    }
    Services* svc = &services;
    query_daemon<protocol::LanguagesResult>(services, protocol::LanguagesRequest{}, [svc, exchange, request](
                                                                                        QueryOutcome<protocol::LanguagesResult> languages) {
        if (!languages.result) {
            exchange->respond(piston_error(languages.error));
            return;
        }
        const protocol::LanguageInfo* rt = find_runtime(*languages.result, request->language, request->version);
        if (rt == nullptr) {
            exchange->respond(piston_error(piston_bad_request(request->language + "-" + request->version + " runtime is unknown")));
            return;
        }
        auto main_file = std::find_if(request->files.begin(), request->files.end(), [](const PistonFile& f) { return f.utf8; });
        if (main_file == request->files.end()) {
            exchange->respond(piston_error(piston_bad_request("files must include at least one utf8 encoded file")));
            return;
        }
        protocol::RunRequest run;
        run.language = rt->name;
        run.source = main_file->content;
        for (auto it = request->files.begin(); it != request->files.end(); ++it)
            if (it != main_file) run.files.push_back({it->name, it->content, false});
        run.args = request->args;
        // Piston ends stdin with a newline when it has none.
        run.stdin_data = request->stdin_data;
        if (run.stdin_data.empty() || run.stdin_data.back() != '\n') run.stdin_data += '\n';
        if (auto error = apply_constraints(request->body, svc->daemon.policy(run.policy), run)) {
            exchange->respond(piston_error(*error));
            return;
        }
        std::string language = rt->name;
        std::string version = version_number(rt->version);
        run_job(*svc, exchange, std::move(run), [exchange, language, version](RunOutcome outcome) {
            if (!outcome.result) {
                exchange->respond(piston_error(outcome.error));
                return;
            }
            const protocol::RunResult& r = *outcome.result;
            ordered_json body;
            if (r.compile) body["compile"] = piston_stage(*r.compile);
            // When compiling failed there is no run stage: Piston repeats the compile stage as "run".
            body["run"] = r.run.status == "compile_error" && r.compile ? piston_stage(*r.compile) : piston_stage(r.run);
            body["language"] = language;
            body["version"] = version;
            exchange->respond(make_response(HttpStatus::ok, body.dump(-1, ' ', false, ordered_json::error_handler_t::replace),
                                            "application/json; charset=utf-8"));
        });
    });
}

void runtimes(Services& services, const std::shared_ptr<Exchange>& exchange) {
    query_daemon<protocol::LanguagesResult>(services, protocol::LanguagesRequest{},
                                            [exchange](QueryOutcome<protocol::LanguagesResult> outcome) {
                                                if (!outcome.result) {
                                                    exchange->respond(piston_error(outcome.error));
                                                    return;
                                                }
                                                ordered_json list = ordered_json::array();
                                                for (const auto& l : outcome.result->languages) {
                                                    if (!l.available) continue;
                                                    ordered_json one;
                                                    one["language"] = l.name;
                                                    one["version"] = version_number(l.version);
                                                    one["aliases"] = l.aliases;
                                                    list.push_back(std::move(one));
                                                }
                                                exchange->respond(make_response(HttpStatus::ok, list.dump(),
                                                                                "application/json; charset=utf-8"));
                                            });
}

json execute_schema() {
    json file = {{"type", "object"}, {"required", {"content"}}};
    file["properties"]["name"] = {{"type", "string"}};
    file["properties"]["content"] = {{"type", "string"}};
    file["properties"]["encoding"] = {{"type", "string"}, {"enum", {"utf8", "base64", "hex"}}};
    json schema = {{"type", "object"}, {"required", {"language", "version", "files"}}};
    json& p = schema["properties"];
    p["language"] = {{"type", "string"}};
    p["version"] = {{"type", "string"}, {"description", "\"*\", \"3\", \"3.11.2\", ..."}};
    p["files"] = {{"type", "array"}, {"items", file}};
    p["stdin"] = {{"type", "string"}};
    p["args"] = {{"type", "array"}, {"items", {{"type", "string"}}}};
    for (const char* key : {"compile_timeout", "run_timeout", "compile_cpu_time", "run_cpu_time",
                            "compile_memory_limit", "run_memory_limit"})
        p[key] = {{"type", "number"}};
    return schema;
}

}  // namespace

ordered_json piston_stage(const protocol::ExecutionReport& r) {
    json signal = nullptr;
    json code = nullptr;
    json message = nullptr;
    json status = nullptr;
    if (r.status == "ok") {
        code = r.exit_code;
    } else if (r.status == "runtime_error") {
        code = r.exit_code;
        status = "RE";
        message = "Exited with error status " + std::to_string(r.exit_code);
    } else if (r.status == "signaled" || r.status == "memory_limit") {
        signal = signal_name(r.signal != 0 ? r.signal : 9);
        status = "SG";
        message = "Caught fatal signal " + std::to_string(r.signal != 0 ? r.signal : 9);
    } else if (r.status == "time_limit") {
        signal = "SIGKILL";
        status = "TO";
        message = "Time limit exceeded";
    } else if (r.status == "output_limit") {
        signal = "SIGKILL";
        bool stderr_only = r.stderr_truncated && !r.stdout_truncated;
        status = stderr_only ? "EL" : "OL";
        message = stderr_only ? "stderr length exceeded" : "stdout length exceeded";
    } else {
        status = "XX";
        message = r.message.empty() ? r.status : r.message;
    }
    ordered_json stage;
    stage["signal"] = signal;
    stage["stdout"] = r.stdout_data;
    stage["stderr"] = r.stderr_data;
    stage["code"] = code;
    stage["output"] = r.stdout_data + r.stderr_data;
    stage["memory"] = r.memory_peak_bytes;
    stage["message"] = message;
    stage["status"] = status;
    stage["cpu_time"] = r.cpu_ms;
    stage["wall_time"] = r.wall_ms;
    return stage;
}

bool piston_version_matches(const std::string& selector, const std::string& version) {
    if (selector == "*" || selector == "x" || selector == "X" || selector == "latest") return true;
    // Compare dot-separated parts; the selector may stop early or end in x/*: "3", "3.11", "3.x".
    size_t s = 0, v = 0;
    for (;;) {
        size_t se = selector.find('.', s), ve = version.find('.', v);
        std::string sp = selector.substr(s, se == std::string::npos ? std::string::npos : se - s);
        std::string vp = version.substr(v, ve == std::string::npos ? std::string::npos : ve - v);
        if (sp == "x" || sp == "X" || sp == "*") return true;
        if (sp != vp) return false;
        if (se == std::string::npos) return true;  // the selector ends: a prefix of the version
        if (ve == std::string::npos) return false;  // the selector is more precise than the version
        s = se + 1;
        v = ve + 1;
    }
}

void add_piston_api(Router& router, Services& services) {
    Services* svc = &services;
    router.add(verb::post, "/api/v2/execute", Access::token, piston_error,
               [svc](const std::shared_ptr<Exchange>& ex) { execute(*svc, ex); },
               OpDoc("piston", "Piston v2: run files in a language runtime")
                   .describe("Piston's request and response. run_timeout/compile_timeout and *_cpu_time are "
                             "milliseconds, *_memory_limit bytes; each may not exceed the policy's maximum. "
                             "stdin gets a final newline when it has none, as in Piston. output is stdout "
                             "followed by stderr.")
                   .json_body(execute_schema())
                   .json_response(200, "compile (compiled languages), run, language, version",
                                  {{"type", "object"},
                                   {"properties",
                                    {{"compile", schema_ref("PistonStage")},
                                     {"run", schema_ref("PistonStage")},
                                     {"language", {{"type", "string"}}},
                                     {"version", {{"type", "string"}}}}}})
                   .json_response(400, "{message}: Piston's validation messages", {{"type", "object"}})
                   .json_response(415, "{message: \"requests must be of type application/json\"}", {{"type", "object"}})
                   .json_response(503, "{message}: sandboxd is busy or unreachable", {{"type", "object"}}));
    router.add(verb::get, "/api/v2/runtimes", Access::token, piston_error,
               [svc](const std::shared_ptr<Exchange>& ex) { runtimes(*svc, ex); },
               OpDoc("piston", "Piston v2: the runtimes")
                   .json_response(200, "[{language, version, aliases}] of the languages that can run",
                                  {{"type", "array"}}));
}

}  // namespace sbx::http
