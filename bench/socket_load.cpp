// Load on sandboxd's socket directly: keeps N `run` requests of `print(1+1)` in flight, spread
// over a few protocol connections (like sandbox-http's pool), for a fixed time, and prints
// requests per second and latency percentiles. bench/http_throughput.sh runs it beside wrk on
// sandbox-http with the same concurrency.
//
//   socket_load --socket PATH [--concurrency N] [--duration S] [--connections C]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "protocol/async_client.hpp"
#include "protocol/client.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Load {
    std::vector<std::shared_ptr<sbx::protocol::AsyncClient>> clients;
    std::vector<double> latencies_ms;
    Clock::time_point end;
    std::uint64_t errors = 0;
    std::uint64_t non_ok = 0;
    std::size_t next = 0;
    std::size_t in_flight = 0;
};

void finish_if_done(const std::shared_ptr<Load>& load) {
    if (load->in_flight > 0 || Clock::now() < load->end) return;
    for (auto& c : load->clients) c->close();  // ends the pending reads, so io.run() returns
}

void issue(const std::shared_ptr<Load>& load) {
    if (Clock::now() >= load->end) {
        finish_if_done(load);
        return;
    }
    ++load->in_flight;
    auto& client = load->clients[load->next++ % load->clients.size()];
    sbx::protocol::RunRequest run;
    run.language = "python";
    run.source = "print(1+1)\n";
    auto started = Clock::now();
    client->call(run, [load, started](sbx::Result<sbx::protocol::Reply> reply) {
        auto finished = Clock::now();
        --load->in_flight;
        if (!reply || reply->kind != sbx::protocol::Reply::Kind::result) {
            ++load->errors;
        } else {
            auto result = sbx::protocol::decode_result<sbx::protocol::RunResult>(*reply);
            if (!result || result->run.status != "ok" || result->run.stdout_data != "2\n") ++load->non_ok;
        }
        if (finished <= load->end)
            load->latencies_ms.push_back(std::chrono::duration<double, std::milli>(finished - started).count());
        issue(load);
    });
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(index, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket = sbx::protocol::default_socket_path();
    unsigned concurrency = 16, connections = 4;
    double duration_s = 10;
    CLI::App app{"socket_load: run print(1+1) on sandboxd's socket with N requests in flight"};
    app.add_option("--socket", socket, "sandboxd's socket")->capture_default_str();
    app.add_option("--concurrency,-n", concurrency, "requests in flight")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--duration,-d", duration_s, "seconds")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--connections,-c", connections, "protocol connections")->capture_default_str()->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    boost::asio::io_context io(1);
    auto load = std::make_shared<Load>();
    Clock::time_point start;
    for (unsigned i = 0; i < connections; ++i) {
        sbx::protocol::AsyncClient::connect(
            io, socket, [&, load](sbx::Result<std::shared_ptr<sbx::protocol::AsyncClient>> c) {
                if (!c) {
                    std::fprintf(stderr, "socket_load: %s\n", c.error().message().c_str());
                    std::exit(1);
                }
                load->clients.push_back(std::move(*c));
                if (load->clients.size() < connections) return;
                // Every connection is up: go.
                start = Clock::now();
                load->end = start + std::chrono::milliseconds(static_cast<long>(duration_s * 1000));
                for (unsigned k = 0; k < concurrency; ++k) issue(load);
            });
    }
    io.run();
    double elapsed = std::chrono::duration<double>(load->end - start).count();
    std::size_t done = load->latencies_ms.size();
    double p50 = percentile(load->latencies_ms, 50), p99 = percentile(load->latencies_ms, 99);
    // One line for people, one for scripts.
    std::printf("socket  concurrency=%u  requests=%zu  errors=%llu  not_ok=%llu  rps=%.1f  p50=%.2fms  p99=%.2fms\n",
                concurrency, done, static_cast<unsigned long long>(load->errors),
                static_cast<unsigned long long>(load->non_ok), static_cast<double>(done) / elapsed, p50, p99);
    std::printf("RESULT socket %u %.1f %.2f %.2f %llu\n", concurrency, static_cast<double>(done) / elapsed, p50, p99,
                static_cast<unsigned long long>(load->errors + load->non_ok));
    return 0;
}
