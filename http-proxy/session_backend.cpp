#include "http-proxy/session_backend.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "common/base64.hpp"
#include "http-proxy/json_body.hpp"
#include "protocol/json_codec.hpp"

namespace sbx::http {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kSweepInterval = 60s;
constexpr std::size_t kMaxUserUuid = 128;

// The interpreter API's error shape (as the rest of /execute, /submit): {"error", "code"}.
void interpreter_error(const std::shared_ptr<Exchange>& exchange, const HttpError& error) {
    Response response = json_response(error.status, {{"error", error.message}, {"code", error.code}});
    add_error_headers(response, error);
    exchange->respond(std::move(response));
}

void native_failure(const std::shared_ptr<Exchange>& exchange, const HttpError& error) {
    exchange->respond(native_error(error));
}

HttpError no_session(const std::string& id) {
    return {HttpStatus::not_found, "not_found", "no session '" + id + "' (closed, reaped, or another client's)", {}};
}

// user_uuid: 1 to 128 printable ASCII characters, no spaces; it becomes part of an owner name.
std::optional<std::string> user_uuid_of(const json& body, HttpError& error) {
    FieldReader fields(body);
    auto uuid = fields.string("user_uuid", true);
    if (!fields.ok()) {
        error = *fields.error();
        return std::nullopt;
    }
    bool printable = !uuid->empty() && uuid->size() <= kMaxUserUuid;
    for (char c : *uuid) printable = printable && c > ' ' && c < 0x7f;
    if (!printable) {
        error = HttpError::unprocessable("user_uuid must be 1 to " + std::to_string(kMaxUserUuid) +
                                         " printable ASCII characters without spaces");
        return std::nullopt;
    }
    return uuid;
}

// The body of a request whose body is optional: "" counts as {}.
std::variant<json, HttpError> optional_body(const std::string& body) {
    return parse_json_object(body.empty() ? std::string("{}") : body);
}

}  // namespace

// One POST /execute of the interpreter API, carried through lookup, open and a retry.
struct SessionBackend::Call {
    std::shared_ptr<Exchange> exchange;
    std::string client;
    std::uint32_t limit = 0;
    std::string owner;
    std::string language;
    std::string code;
    policy::LimitRequest limits;
    bool replaced = false;  // the user's session was gone and a new one was opened for this call
};

SessionBackend::SessionBackend(asio::io_context& io, const ProxyConfig& config, DaemonPool& daemon, Metrics& metrics)
    : io_(io), config_(config), daemon_(daemon), metrics_(metrics), sweep_timer_(io) {}

SessionBackend::~SessionBackend() {
    *alive_ = false;
    stop();
}

std::string SessionBackend::client_owner(const Principal& principal) {
    return principal.anonymous ? principal.name : "token:" + principal.name;
}

std::string SessionBackend::user_owner(const Principal& principal, const std::string& user_uuid) {
    return client_owner(principal) + "/user:" + user_uuid;
}

std::string SessionBackend::result_text(const protocol::SessionExecResult& r, bool replaced) {
    std::string text = r.run.stdout_data;
    text += r.run.stderr_data;
    if (r.error) text += r.error->traceback;
    if (r.value) text += *r.value + "\n";
    const bool failed = r.run.status != "ok" && r.run.status != "runtime_error";
    if (!r.run.message.empty() && (failed || r.state_lost))
        text += "[" + r.run.status + ": " + r.run.message + "]\n";
    else if (failed)
        text += "[" + r.run.status + "]\n";
    else if (r.state_lost)
        text += "[the interpreter had ended since the last call and was restarted: earlier state is lost]\n";
    if (replaced)
        text += "[this user_uuid's session had been closed (idle timeout, maximum lifetime or a restart of "
                "sandboxd) and a new one was started: earlier state is lost]\n";
    return text;
}

void SessionBackend::start() {
    stopped_ = false;
    sweep_timer_.expires_after(kSweepInterval);
    sweep_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (ec || !*alive || stopped_) return;
        sweep();
        start();
    });
}

void SessionBackend::stop() {
    stopped_ = true;
    sweep_timer_.cancel();
}

void SessionBackend::sweep() {
    const std::uint64_t asked = book_.now();
    for (const auto& [client, owner] : book_.all_owners()) {
        query_daemon<protocol::SessionListResult>(
            daemon_, protocol::SessionListRequest{owner},
            [this, alive = alive_, client = client, owner = owner, asked](QueryOutcome<protocol::SessionListResult> listed) {
                if (*alive && listed.result) book_.sync(client, owner, listed.result->sessions, asked);
            });
    }
}

void SessionBackend::arm_deadline(const std::shared_ptr<Exchange>& exchange, bool interpreter) {
    auto timeout = deadline_of(config_, *exchange);
    auto timer = std::make_shared<asio::steady_timer>(io_, timeout);
    exchange->on_answered([timer](const Response&) { timer->cancel(); });
    exchange->on_abort([timer] { timer->cancel(); });
    std::weak_ptr<Exchange> weak = exchange;
    timer->async_wait([timer, weak, timeout, interpreter](const boost::system::error_code& ec) {
        auto ex = weak.lock();
        if (ec || !ex || ex->answered() || ex->aborted()) return;
        HttpError e{HttpStatus::gateway_timeout, "timeout",
                    fmt::format("no answer from the session within {:g} s; the call goes on in its session until its "
                                "own time limit ends it, and its result is dropped",
                                timeout.count() / 1000.0),
                    {}};
        if (interpreter)
            interpreter_error(ex, e);
        else
            native_failure(ex, e);
    });
}

bool SessionBackend::fits_in_frame(const std::string& code) const {
    return daemon_.max_frame() == 0 || code.size() + 4096 <= daemon_.max_frame();
}

void SessionBackend::list_client(const std::string& client, Listed done) {
    std::vector<std::string> owners = book_.owners_of(client);
    if (std::find(owners.begin(), owners.end(), client) == owners.end()) owners.insert(owners.begin(), client);
    struct Gather {
        std::vector<OwnerSessions> owners;
        std::optional<protocol::SessionListResult> totals;
        HttpError error;
        std::size_t waiting = 0;
        Listed done;
    };
    auto gather = std::make_shared<Gather>();
    const std::uint64_t asked = book_.now();
    gather->waiting = owners.size();
    gather->done = std::move(done);
    for (const auto& owner : owners) {
        query_daemon<protocol::SessionListResult>(
            daemon_, protocol::SessionListRequest{owner},
            [this, alive = alive_, gather, client, owner, asked](QueryOutcome<protocol::SessionListResult> listed) {
                if (!*alive) return;
                if (listed.result) {
                    book_.sync(client, owner, listed.result->sessions, asked);
                    gather->owners.push_back({owner, listed.result->sessions});
                    gather->totals = std::move(*listed.result);
                    gather->totals->sessions.clear();
                } else {
                    gather->error = listed.error;
                }
                if (--gather->waiting == 0)
                    gather->done(std::move(gather->owners), std::move(gather->totals), std::move(gather->error));
            });
    }
}

void SessionBackend::open_within_cap(const std::string& client, std::uint32_t limit,
                                     protocol::SessionOpenRequest request, Opened done) {
    auto open = [this, alive = alive_, client, request, done]() {
        book_.reserve(client);
        query_daemon<protocol::SessionInfo>(
            daemon_, request, [this, alive, client, request, done](QueryOutcome<protocol::SessionInfo> opened) {
                if (!*alive) return;
                book_.unreserve(client);
                if (opened.result) {
                    book_.add(client, request.owner, *opened.result, request.language);
                    metrics_.session_opened(opened.result->language);
                } else if (opened.error.code == "too_many_sessions") {
                    metrics_.refused("too_many_sessions");
                }
                done(std::move(opened));
            });
    };
    if (limit == 0 || book_.held(client) < limit) return open();
    // At the cap as far as the book knows; some of those sessions may have been reaped since.
    list_client(client, [this, client, limit, open, done](std::vector<OwnerSessions>,
                                                          std::optional<protocol::SessionListResult>, HttpError) {
        std::size_t held = book_.held(client);
        if (held < limit) return open();
        metrics_.refused("too_many_sessions");
        done({std::nullopt,
              {HttpStatus::too_many_requests, "too_many_sessions",
               client + " has " + std::to_string(held) + " open sessions, the most one client may have (" +
                   std::to_string(limit) +
                   "); close one (DELETE /v1/sessions/{id}, POST /release) or wait until an idle one is reaped",
               {}}});
    });
}

// ---- native API -------------------------------------------------------------------------------

void SessionBackend::open(const std::shared_ptr<Exchange>& exchange) {
    auto body = optional_body(exchange->body());
    if (auto* e = std::get_if<HttpError>(&body)) return native_failure(exchange, *e);
    auto request = protocol::session_open_from_json(std::get<json>(body));
    if (!request) return native_failure(exchange, HttpError::unprocessable(request.error().message));
    const std::string client = client_owner(exchange->principal);
    request->owner = client;
    open_within_cap(client, exchange->limits.sessions, std::move(*request),
                    [exchange](QueryOutcome<protocol::SessionInfo> opened) {
                        if (!opened.result) return native_failure(exchange, opened.error);
                        Response response = json_response(HttpStatus::created, protocol::to_json(*opened.result));
                        response.set(beast_http::field::location, "/v1/sessions/" + opened.result->session_id);
                        exchange->respond(std::move(response));
                    });
}

void SessionBackend::exec(const std::shared_ptr<Exchange>& exchange) {
    auto body = parse_json_object(exchange->body());
    if (auto* e = std::get_if<HttpError>(&body)) return native_failure(exchange, *e);
    auto request = protocol::session_exec_from_json(std::get<json>(body));
    if (!request) return native_failure(exchange, HttpError::unprocessable(request.error().message));
    if (!fits_in_frame(request->code))
        return native_failure(exchange, {HttpStatus::payload_too_large, "too_large",
                                         "the code is more than sandboxd accepts in one request (" +
                                             std::to_string(daemon_.max_frame()) + " bytes)",
                                         {}});
    request->session_id = exchange->params.at("id");
    request->owner = client_owner(exchange->principal);
    const std::string id = request->session_id;
    arm_deadline(exchange, false);
    query_daemon<protocol::SessionExecResult>(
        daemon_, std::move(*request),
        [this, alive = alive_, exchange, id](QueryOutcome<protocol::SessionExecResult> outcome) {
            if (!*alive) return;
            if (!outcome.result) {
                if (outcome.error.status == HttpStatus::not_found) {
                    book_.forget(id);
                    return native_failure(exchange, no_session(id));
                }
                return native_failure(exchange, outcome.error);
            }
            const SessionBook::Entry* entry = book_.entry(id);
            metrics_.session_call_finished(outcome.result->run.status, entry ? entry->language : std::string());
            exchange->respond(json_response(HttpStatus::ok, protocol::to_json(*outcome.result)));
        });
}

void SessionBackend::close(const std::shared_ptr<Exchange>& exchange) {
    const std::string id = exchange->params.at("id");
    query_daemon<protocol::SessionCloseResult>(
        daemon_, protocol::SessionCloseRequest{id, client_owner(exchange->principal)},
        [this, alive = alive_, exchange, id](QueryOutcome<protocol::SessionCloseResult> outcome) {
            if (!*alive) return;
            if (!outcome.result) {
                if (outcome.error.status != HttpStatus::not_found) return native_failure(exchange, outcome.error);
                book_.forget(id);
                return native_failure(exchange, no_session(id));
            }
            book_.forget(id);
            exchange->respond(json_response(HttpStatus::ok, protocol::to_json(*outcome.result)));
        });
}

void SessionBackend::list(const std::shared_ptr<Exchange>& exchange) {
    const std::string client = client_owner(exchange->principal);
    const std::uint64_t asked = book_.now();
    query_daemon<protocol::SessionListResult>(
        daemon_, protocol::SessionListRequest{client},
        [this, alive = alive_, exchange, client, asked](QueryOutcome<protocol::SessionListResult> outcome) {
            if (!*alive) return;
            if (!outcome.result) return native_failure(exchange, outcome.error);
            book_.sync(client, client, outcome.result->sessions, asked);
            exchange->respond(json_response(HttpStatus::ok, protocol::to_json(*outcome.result)));
        });
}

void SessionBackend::get(const std::shared_ptr<Exchange>& exchange) {
    const std::string client = client_owner(exchange->principal);
    const std::string id = exchange->params.at("id");
    const std::uint64_t asked = book_.now();
    query_daemon<protocol::SessionListResult>(
        daemon_, protocol::SessionListRequest{client},
        [this, alive = alive_, exchange, client, id, asked](QueryOutcome<protocol::SessionListResult> outcome) {
            if (!*alive) return;
            if (!outcome.result) return native_failure(exchange, outcome.error);
            book_.sync(client, client, outcome.result->sessions, asked);
            for (const auto& s : outcome.result->sessions)
                if (s.session_id == id) return exchange->respond(json_response(HttpStatus::ok, protocol::to_json(s)));
            native_failure(exchange, no_session(id));
        });
}

// ---- interpreter API --------------------------------------------------------------------------

void SessionBackend::session_of(const std::string& client, std::uint32_t limit, const std::string& owner,
                                const std::string& language, Found found) {
    if (auto id = book_.find(owner, language)) return found(*id, {});
    const std::string key = owner + '\n' + language;
    auto& waiting = lookups_[key];
    waiting.push_back(std::move(found));
    if (waiting.size() > 1) return;  // the first lookup answers everyone
    auto answer = [this, key](std::optional<std::string> id, HttpError error) {
        auto waiters = std::move(lookups_[key]);
        lookups_.erase(key);
        for (auto& f : waiters) f(id, error);
    };
    const std::uint64_t asked = book_.now();
    query_daemon<protocol::SessionListResult>(
        daemon_, protocol::SessionListRequest{owner},
        [this, alive = alive_, client, limit, owner, language, answer,
         asked](QueryOutcome<protocol::SessionListResult> listed) {
            if (!*alive) return;
            if (!listed.result) return answer(std::nullopt, listed.error);
            book_.sync(client, owner, listed.result->sessions, asked);
            for (const auto& s : listed.result->sessions)
                if (s.language == language) return answer(s.session_id, {});
            if (auto id = book_.find(owner, language)) return answer(*id, {});
            protocol::SessionOpenRequest open;
            open.language = language;
            open.owner = owner;
            if (config_.session_idle_timeout.count() > 0)
                open.idle_timeout = std::chrono::duration_cast<policy::Duration>(config_.session_idle_timeout);
            open_within_cap(client, limit, std::move(open), [answer](QueryOutcome<protocol::SessionInfo> opened) {
                if (!opened.result) return answer(std::nullopt, opened.error);
                answer(opened.result->session_id, {});
            });
        });
}

void SessionBackend::execute(const std::shared_ptr<Exchange>& exchange, const json& body) {
    HttpError error;
    auto uuid = user_uuid_of(body, error);
    if (!uuid) return interpreter_error(exchange, error);
    FieldReader fields(body);
    auto code = fields.string("code", true);
    auto language = fields.string("language");
    auto timeout = fields.number("timeout");
    if (!fields.ok()) return interpreter_error(exchange, *fields.error());
    if (language && language->empty()) return interpreter_error(exchange, HttpError::unprocessable("language is empty"));
    auto call = std::make_shared<Call>();
    if (timeout) {
        if (!(*timeout > 0) || !std::isfinite(*timeout))
            return interpreter_error(exchange, HttpError::unprocessable("timeout must be a positive number of seconds"));
        call->limits.wall_time = policy::Duration(static_cast<std::int64_t>(std::llround(*timeout * 1e6)));
    }
    if (!fits_in_frame(*code))
        return interpreter_error(exchange, {HttpStatus::payload_too_large, "too_large",
                                            "the code is more than sandboxd accepts in one request (" +
                                                std::to_string(daemon_.max_frame()) + " bytes)",
                                            {}});
    call->exchange = exchange;
    call->client = client_owner(exchange->principal);
    call->limit = exchange->limits.sessions;
    call->owner = user_owner(exchange->principal, *uuid);
    call->language = language.value_or("python");
    call->code = std::move(*code);
    arm_deadline(exchange, true);
    run_call(call);
}

void SessionBackend::run_call(const std::shared_ptr<Call>& call) {
    session_of(call->client, call->limit, call->owner, call->language,
               [this, alive = alive_, call](std::optional<std::string> id, HttpError error) {
                   if (!*alive) return;
                   if (!id) return interpreter_error(call->exchange, error);
                   if (call->exchange->aborted()) return;  // the client left: do not run its code
                   protocol::SessionExecRequest exec{*id, call->owner, call->code, call->limits};
                   query_daemon<protocol::SessionExecResult>(
                       daemon_, std::move(exec),
                       [this, alive, call, id = *id](QueryOutcome<protocol::SessionExecResult> outcome) {
                           if (!*alive) return;
                           if (!outcome.result && outcome.error.status == HttpStatus::not_found && !call->replaced) {
                               // Reaped or closed since it was looked up: once, a new session.
                               book_.forget(id);
                               call->replaced = true;
                               return run_call(call);
                           }
                           if (!outcome.result) return interpreter_error(call->exchange, outcome.error);
                           const auto& r = *outcome.result;
                           metrics_.session_call_finished(r.run.status, call->language);
                           json images = json::array();
                           for (const auto& image : r.images) images.push_back(base64_encode(image.data));
                           json answer = {{"result_text", result_text(r, call->replaced)},
                                          {"result_base64", images.empty() ? json("") : images.front()},
                                          {"images_base64", std::move(images)},
                                          {"status", r.run.status},
                                          {"state_lost", r.state_lost || call->replaced}};
                           call->exchange->respond(json_response(HttpStatus::ok, answer));
                       });
               });
}

void SessionBackend::release(const std::shared_ptr<Exchange>& exchange) {
    auto body = parse_json_object(exchange->body());
    if (auto* e = std::get_if<HttpError>(&body)) return interpreter_error(exchange, *e);
    HttpError error;
    auto uuid = user_uuid_of(std::get<json>(body), error);
    if (!uuid) return interpreter_error(exchange, error);
    const std::string client = client_owner(exchange->principal);
    const std::string owner = user_owner(exchange->principal, *uuid);
    const std::uint64_t asked = book_.now();
    query_daemon<protocol::SessionListResult>(
        daemon_, protocol::SessionListRequest{owner},
        [this, alive = alive_, exchange, client, owner, uuid = *uuid,
         asked](QueryOutcome<protocol::SessionListResult> listed) {
            if (!*alive) return;
            if (!listed.result) return interpreter_error(exchange, listed.error);
            book_.sync(client, owner, listed.result->sessions, asked);
            const auto& sessions = listed.result->sessions;
            if (sessions.empty())
                return interpreter_error(exchange,
                                         {HttpStatus::not_found, "not_found", "user_uuid '" + uuid + "' has no session", {}});
            auto remaining = std::make_shared<std::size_t>(sessions.size());
            auto closed = std::make_shared<std::size_t>(0);
            for (const auto& s : sessions) {
                query_daemon<protocol::SessionCloseResult>(
                    daemon_, protocol::SessionCloseRequest{s.session_id, owner},
                    [this, alive, exchange, remaining, closed, id = s.session_id](
                        QueryOutcome<protocol::SessionCloseResult> outcome) {
                        if (!*alive) return;
                        // not_found: it ended meanwhile, which is what was asked.
                        if (outcome.result || outcome.error.status == HttpStatus::not_found) {
                            book_.forget(id);
                            ++*closed;
                        }
                        if (--*remaining > 0) return;
                        if (*closed == 0) return interpreter_error(exchange, outcome.error);
                        exchange->respond(
                            json_response(HttpStatus::ok, {{"status", "released"}, {"sessions_closed", *closed}}));
                    });
            }
        });
}

void SessionBackend::status(const std::shared_ptr<Exchange>& exchange) {
    const std::string client = client_owner(exchange->principal);
    const std::uint32_t limit = exchange->limits.sessions;
    list_client(client, [exchange, client, limit](std::vector<OwnerSessions> owners,
                                                  std::optional<protocol::SessionListResult> totals, HttpError error) {
        if (!totals) return interpreter_error(exchange, error);
        const std::string user_prefix = client + "/user:";
        json users = json::array();
        std::size_t held = 0;
        for (const auto& o : owners) {
            held += o.sessions.size();
            if (o.owner.rfind(user_prefix, 0) != 0) continue;
            for (const auto& s : o.sessions)
                users.push_back({{"user_uuid", o.owner.substr(user_prefix.size())},
                                 {"language", s.language},
                                 {"state", s.state},
                                 {"age_s", s.age_s},
                                 {"idle_s", s.idle_s},
                                 {"idle_timeout_s", s.idle_timeout_s},
                                 {"calls", s.calls},
                                 {"restarts", s.restarts},
                                 {"memory_peak_bytes", s.memory_peak_bytes},
                                 {"memory_limit_bytes", s.memory_limit_bytes}});
        }
        exchange->respond(json_response(
            HttpStatus::ok,
            {{"status", "ok"},
             {"users", std::move(users)},
             {"sessions", held},
             {"max_sessions", limit},
             {"sandboxd",
              {{"sessions_open", totals->open},
               {"max_sessions", totals->max_sessions},
               {"max_sessions_per_owner", totals->max_sessions_per_client},
               {"memory_committed_bytes", totals->memory_committed_bytes},
               {"memory_budget_bytes", totals->memory_budget_bytes}}}}));
    });
}

}  // namespace sbx::http
