// Stateful sessions under load: U concurrent users, each with its own Python session, each
// sending N calls that depend on the state of the calls before (`counter += 1; counter` must
// answer k on the k-th call). Beside it, in the same run, the same users sending one-shot `run`
// jobs of the same Python (a fresh interpreter per request, no state), so the ratio shows what a
// kept interpreter saves. Prints requests/s, latency percentiles and the success rate.
//
//   session_load --socket PATH [--users 30] [--calls 100] [--oneshot-calls 20]
//   session_load [--socket PATH] --http 127.0.0.1:8000 [--token T] [--users 30] [--calls 100]
//
// With --http the users (also) speak sandbox-http's stateful interpreter API (POST /execute
// with their user_uuid, answered {result_text, result_base64}, which must be "k\n"; POST /release
// at the end), one keep-alive connection each; given both, the socket phases run first and the
// HTTP phase's figures are compared with the socket's sessions. Needs a running sandboxd (and
// sandbox-http, whose --session-limit must allow --users sessions); see docs/performance.md for
// the command lines used.
#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/client.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using sbx::protocol::Client;
using sbx::protocol::Reply;

struct Phase {
    std::mutex mutex;
    std::vector<double> latencies_ms;  // of the successful calls
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::string first_failure;

    void record(bool success, double ms, const std::string& why) {
        std::lock_guard lock(mutex);
        if (success) {
            ++ok;
            latencies_ms.push_back(ms);
        } else {
            ++failed;
            if (first_failure.empty()) first_failure = why;
        }
    }
};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(index, v.size() - 1)];
}

template <class T>
std::optional<T> result_of(sbx::Result<Reply>& reply, std::string& why) {
    if (!reply) {
        why = reply.error().message();
        return std::nullopt;
    }
    if (reply->kind == Reply::Kind::error) {
        why = std::string(sbx::protocol::to_string(reply->error.code)) + ": " + reply->error.message;
        return std::nullopt;
    }
    auto decoded = sbx::protocol::decode_result<T>(*reply);
    if (!decoded) {
        why = decoded.error().message;
        return std::nullopt;
    }
    return std::move(*decoded);
}

void session_user(const std::string& socket, int user, int calls, Phase& phase) {
    auto client = Client::connect(socket);
    if (!client) {
        for (int k = 0; k < calls; ++k) phase.record(false, 0, client.error().message());
        return;
    }
    std::string why;
    sbx::protocol::SessionOpenRequest open;
    open.language = "python";
    open.owner = "bench-user-" + std::to_string(user);
    auto opened_reply = client->call(open);
    auto opened = result_of<sbx::protocol::SessionInfo>(opened_reply, why);
    if (!opened) {
        for (int k = 0; k < calls; ++k) phase.record(false, 0, "open: " + why);
        return;
    }
    for (int k = 1; k <= calls; ++k) {
        std::string code = k == 1 ? "counter = 1\ncounter" : "counter += 1\ncounter";
        auto t0 = Clock::now();
        auto reply = client->call(sbx::protocol::SessionExecRequest{opened->session_id, open.owner, code, {}});
        double ms = ms_since(t0);
        auto r = result_of<sbx::protocol::SessionExecResult>(reply, why);
        bool right = r && r->run.status == "ok" && r->value == std::to_string(k);
        if (r && !right)
            why = "call " + std::to_string(k) + ": status " + r->run.status + ", value " + r->value.value_or("none") +
                  (r->state_lost ? " (state lost)" : "");
        phase.record(right, ms, why);
    }
    auto closed = client->call(sbx::protocol::SessionCloseRequest{opened->session_id, open.owner});
    (void)closed;
}

void oneshot_user(const std::string& socket, int calls, Phase& phase) {
    auto client = Client::connect(socket);
    if (!client) {
        for (int k = 0; k < calls; ++k) phase.record(false, 0, client.error().message());
        return;
    }
    std::string why;
    for (int k = 1; k <= calls; ++k) {
        sbx::protocol::RunRequest run;
        run.language = "python";
        run.source = "counter = " + std::to_string(k) + "\nprint(counter)\n";
        auto t0 = Clock::now();
        auto reply = client->call(run);
        double ms = ms_since(t0);
        auto r = result_of<sbx::protocol::RunResult>(reply, why);
        bool right = r && r->run.status == "ok" && r->run.stdout_data == std::to_string(k) + "\n";
        if (r && !right) why = "run " + std::to_string(k) + ": status " + r->run.status + " " + r->run.message;
        phase.record(right, ms, why);
    }
}

// One user of the interpreter API over HTTP, on one keep-alive connection.
void http_user(const std::string& host, const std::string& port, const std::string& token, int user, int calls,
               Phase& phase) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    using tcp = boost::asio::ip::tcp;
    boost::asio::io_context io;
    tcp::socket socket(io);
    beast::flat_buffer buffer;
    auto post = [&](const std::string& target, const nlohmann::json& body, nlohmann::json& answer,
                    std::string& why) -> bool {
        try {
            if (!socket.is_open()) boost::asio::connect(socket, tcp::resolver(io).resolve(host, port));
            http::request<http::string_body> request{http::verb::post, target, 11};
            request.set(http::field::host, host);
            request.set(http::field::content_type, "application/json");
            if (!token.empty()) request.set("X-Auth-Token", token);
            request.keep_alive(true);
            request.body() = body.dump();
            request.prepare_payload();
            http::write(socket, request);
            http::response<http::string_body> response;
            http::read(socket, buffer, response);
            if (!response.keep_alive()) socket.close();
            answer = nlohmann::json::parse(response.body(), nullptr, false);
            if (response.result() != http::status::ok) {
                why = std::to_string(response.result_int()) + " " + response.body();
                return false;
            }
            return !answer.is_discarded();
        } catch (const std::exception& e) {
            why = e.what();
            boost::system::error_code ignored;
            socket.close(ignored);
            return false;
        }
    };
    const std::string uuid = "bench-user-" + std::to_string(user);
    std::string why;
    nlohmann::json answer;
    for (int k = 1; k <= calls; ++k) {
        std::string code = k == 1 ? "counter = 1\ncounter" : "counter += 1\ncounter";
        auto t0 = Clock::now();
        bool ok = post("/execute", {{"user_uuid", uuid}, {"code", code}}, answer, why);
        double ms = ms_since(t0);
        bool right = ok && answer.value("result_text", "") == std::to_string(k) + "\n";
        if (ok && !right) why = "call " + std::to_string(k) + ": " + answer.dump();
        phase.record(right, ms, why);
    }
    post("/release", {{"user_uuid", uuid}}, answer, why);
}

struct Figures {
    double seconds = 0;
    double rps = 0;
    double p50 = 0;
    double p95 = 0;
    double p99 = 0;
    double success = 0;
};

template <class Body>
Figures run_phase(const char* name, int users, int calls, Body body) {
    Phase phase;
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int u = 0; u < users; ++u) threads.emplace_back([&, u] { body(u, phase); });
    for (auto& t : threads) t.join();
    Figures f;
    f.seconds = ms_since(t0) / 1000;
    f.rps = phase.ok / f.seconds;
    f.p50 = percentile(phase.latencies_ms, 50);
    f.p95 = percentile(phase.latencies_ms, 95);
    f.p99 = percentile(phase.latencies_ms, 99);
    int total = users * calls;
    f.success = total > 0 ? 100.0 * phase.ok / total : 0;
    std::printf("%-22s %5d users x %4d calls: %6.1f req/s, p50 %7.1f ms, p95 %7.1f ms, p99 %7.1f ms, "
                "success %d/%d (%.2f%%), %.1f s\n",
                name, users, calls, f.rps, f.p50, f.p95, f.p99, phase.ok.load(), total, f.success, f.seconds);
    if (!phase.first_failure.empty()) std::printf("  first failure: %s\n", phase.first_failure.c_str());
    std::fflush(stdout);
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"stateful sessions under load, beside one-shot runs of the same work"};
    std::string socket;
    std::string http_address;
    std::string token;
    int users = 30;
    int calls = 100;
    int oneshot_calls = 20;
    app.add_option("--socket", socket, "sandboxd's socket");
    app.add_option("--http", http_address, "sandbox-http's HOST:PORT: (also) drive its POST /execute");
    app.add_option("--token", token, "X-Auth-Token for --http");
    app.add_option("--users", users, "concurrent users")->capture_default_str();
    app.add_option("--calls", calls, "stateful calls per user")->capture_default_str();
    app.add_option("--oneshot-calls", oneshot_calls, "one-shot runs per user (0: skip)")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (socket.empty() && http_address.empty()) {
        std::fprintf(stderr, "--socket or --http (or both) is required\n");
        return 2;
    }
    std::string host, port;
    if (!http_address.empty()) {
        auto colon = http_address.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == http_address.size()) {
            std::fprintf(stderr, "--http: expected HOST:PORT\n");
            return 2;
        }
        host = http_address.substr(0, colon);
        port = http_address.substr(colon + 1);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    }

    bool all_right = true;
    std::optional<Figures> sessions;
    if (!socket.empty()) {
        sessions = run_phase("sessions (stateful)", users, calls,
                             [&](int u, Phase& p) { session_user(socket, u, calls, p); });
        all_right = all_right && sessions->success == 100.0;
        if (oneshot_calls > 0) {
            auto oneshot = run_phase("one-shot runs", users, oneshot_calls,
                                     [&](int, Phase& p) { oneshot_user(socket, oneshot_calls, p); });
            if (oneshot.rps > 0 && sessions->p50 > 0)
                std::printf("sessions vs one-shot: %.1fx the requests/s, p50 %.2fx, p95 %.2fx\n",
                            sessions->rps / oneshot.rps, sessions->p50 / oneshot.p50, sessions->p95 / oneshot.p95);
        }
    }
    if (!http_address.empty()) {
        auto http = run_phase("POST /execute (stateful)", users, calls,
                              [&](int u, Phase& p) { http_user(host, port, token, u, calls, p); });
        all_right = all_right && http.success == 100.0;
        if (sessions && sessions->rps > 0 && sessions->p50 > 0)
            std::printf("HTTP vs socket sessions: %.2fx the requests/s, p50 %.2fx, p95 %.2fx\n", http.rps / sessions->rps,
                        http.p50 / sessions->p50, http.p95 / sessions->p95);
    }
    std::fflush(stdout);
    return all_right ? 0 : 1;
}
