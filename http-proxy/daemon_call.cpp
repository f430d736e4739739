#include "http-proxy/daemon_call.hpp"

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <charconv>
#include <cmath>

namespace sbx::http {

namespace asio = boost::asio;
using protocol::ErrorCode;

HttpError unavailable(const std::string& why) {
    return {HttpStatus::service_unavailable, "unavailable", why, 1};
}

HttpError http_error_from(const protocol::ProtocolError& e) {
    std::string code(protocol::to_string(e.code));
    switch (e.code) {
        case ErrorCode::invalid_request:
        case ErrorCode::limit_exceeded:
            return {HttpStatus::unprocessable_entity, code, e.message, {}};
        case ErrorCode::unknown_policy:
        case ErrorCode::unknown_language:
        case ErrorCode::language_unavailable:
            return {HttpStatus::bad_request, code, e.message, {}};
        case ErrorCode::forbidden: return {HttpStatus::forbidden, code, e.message, {}};
        case ErrorCode::not_found: return {HttpStatus::not_found, code, e.message, {}};
        case ErrorCode::busy: return {HttpStatus::service_unavailable, code, e.message, 1};
        case ErrorCode::shutting_down: return {HttpStatus::service_unavailable, code, e.message, 5};
        // A client's or sandboxd's cap on open sessions: close one first (the message says which).
        case ErrorCode::too_many_sessions: return {HttpStatus::too_many_requests, code, e.message, {}};
        // The sessions' memory budget is spent until other sessions close or are reaped.
        case ErrorCode::session_memory_exhausted: return {HttpStatus::service_unavailable, code, e.message, 10};
        case ErrorCode::frame_too_large: return {HttpStatus::payload_too_large, code, e.message, {}};
        default: return {HttpStatus::internal_server_error, code, e.message, {}};
    }
}

namespace {

// Rough size of a run's frame: the bytes it carries plus room for keys and lengths.
std::size_t estimated_frame_size(const protocol::RunRequest& r) {
    std::size_t n = 4096 + r.source.size() + r.stdin_data.size() + r.policy.size() + r.language.size();
    for (const auto& a : r.argv) n += a.size() + 9;
    for (const auto& a : r.args) n += a.size() + 9;
    for (const auto& [k, v] : r.env) n += k.size() + v.size() + 18;
    for (const auto& f : r.files) n += f.name.size() + f.content.size() + 64;
    for (const auto& t : r.tests) n += t.stdin_data.size() + t.expected_output.size() + 256;
    return n;
}

}  // namespace

std::chrono::milliseconds deadline_of(const ProxyConfig& config, const Exchange& exchange) {
    auto limit = config.request_timeout;
    if (auto header = exchange.header("X-Request-Timeout")) {
        double s = 0;
        auto [ptr, ec] = std::from_chars(header->data(), header->data() + header->size(), s);
        if (ec == std::errc() && ptr == header->data() + header->size() && s > 0 && std::isfinite(s))
            limit = std::min(limit, std::chrono::milliseconds(static_cast<long>(s * 1000)));
    }
    return limit;
}

namespace {

struct RunState {
    std::string job_id;
    bool finished = false;   // answered, timed out or abandoned
    bool abandoned = false;  // the client left or the deadline passed: cancel the job
    std::unique_ptr<asio::steady_timer> deadline;
};

}  // namespace

void run_job(Services& services, const std::shared_ptr<Exchange>& exchange, protocol::RunRequest request,
             std::function<void(RunOutcome)> done) {
    if (services.daemon.max_frame() > 0 && estimated_frame_size(request) > services.daemon.max_frame()) {
        done({std::nullopt,
              {HttpStatus::payload_too_large, "too_large",
               "the program, files, stdin and test cases come to more than sandboxd accepts in one request (" +
                   std::to_string(services.daemon.max_frame()) + " bytes)",
               {}}});
        return;
    }
    request.stream = false;
    auto state = std::make_shared<RunState>();
    DaemonPool* daemon = &services.daemon;
    Metrics* metrics = &services.metrics;
    auto abandon = [state, daemon] {
        if (state->abandoned) return;
        state->abandoned = true;
        state->finished = true;
        if (state->deadline) state->deadline->cancel();
        if (!state->job_id.empty()) daemon->cancel_job(state->job_id);
    };
    exchange->on_abort(abandon);

    auto timeout = deadline_of(services.config, *exchange);
    state->deadline = std::make_unique<asio::steady_timer>(services.io, timeout);
    state->deadline->async_wait([state, abandon, done, timeout](const boost::system::error_code& ec) {
        if (ec || state->finished) return;
        abandon();
        done({std::nullopt,
              {HttpStatus::gateway_timeout, "timeout",
               fmt::format("no result from sandboxd within {:g} s; the job was cancelled", timeout.count() / 1000.0),
               {}}});
    });

    std::weak_ptr<Exchange> weak_exchange = exchange;
    daemon->call(
        std::move(request),
        [state, done, metrics, weak_exchange](Result<protocol::Reply> reply) {
            if (state->deadline) state->deadline->cancel();
            if (state->finished) return;
            state->finished = true;
            auto ex = weak_exchange.lock();
            if (!ex || ex->aborted()) return;
            if (!reply) {
                done({std::nullopt, unavailable(reply.error().message())});
                return;
            }
            if (reply->kind == protocol::Reply::Kind::error) {
                if (reply->error.code == ErrorCode::busy) metrics->refused("busy");
                done({std::nullopt, http_error_from(reply->error)});
                return;
            }
            auto result = protocol::decode_result<protocol::RunResult>(*reply);
            if (!result) {
                done({std::nullopt, http_error_from(result.error())});
                return;
            }
            metrics->job_finished(result->run.status, result->language);
            done({std::move(*result), {}});
        },
        [state, daemon](const protocol::Event& event) {
            if (event.event != "accepted") return;
            state->job_id = event.job_id;
            // The client left (or the deadline passed) before the daemon named the job.
            if (state->abandoned) daemon->cancel_job(state->job_id);
        });
}

template <class T>
void query_daemon(DaemonPool& daemon, protocol::RequestBody body, std::function<void(QueryOutcome<T>)> done) {
    daemon.call(std::move(body), [done](Result<protocol::Reply> reply) {
        if (!reply) {
            done({std::nullopt, unavailable(reply.error().message())});
            return;
        }
        if (reply->kind == protocol::Reply::Kind::error) {
            done({std::nullopt, http_error_from(reply->error)});
            return;
        }
        auto result = protocol::decode_result<T>(*reply);
        if (!result) {
            done({std::nullopt, http_error_from(result.error())});
            return;
        }
        done({std::move(*result), {}});
    });
}

template void query_daemon<protocol::LanguagesResult>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::LanguagesResult>)>);
template void query_daemon<protocol::PoliciesResult>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::PoliciesResult>)>);
template void query_daemon<protocol::StatsResult>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::StatsResult>)>);
template void query_daemon<protocol::StatusResult>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::StatusResult>)>);
template void query_daemon<protocol::SessionInfo>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::SessionInfo>)>);
template void query_daemon<protocol::SessionExecResult>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::SessionExecResult>)>);
template void query_daemon<protocol::SessionCloseResult>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::SessionCloseResult>)>);
template void query_daemon<protocol::SessionListResult>(DaemonPool&, protocol::RequestBody,
                                            std::function<void(QueryOutcome<protocol::SessionListResult>)>);

}  // namespace sbx::http
