// sandbox-http: the public HTTP API of sandboxd (docs/http-api.md). Unprivileged: it translates
// HTTP requests into protocol requests on sandboxd's socket and holds no state about jobs; the
// only thing it stores is what POST /submit asks it to store.
//
// Start-up order matters: bind the port and read the token file (which may need root), then
// drop to --user, then open the submissions database and connect to sandboxd as that user.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "http-proxy/code_exec_api.hpp"
#include "http-proxy/http_server.hpp"
#include "http-proxy/judge_api.hpp"
#include "http-proxy/listen_address.hpp"
#include "http-proxy/native_api.hpp"
#include "http-proxy/piston_api.hpp"
#include "http-proxy/privileges.hpp"
#include "http-proxy/proxy_app.hpp"
#include "http-proxy/run_api.hpp"
#include "http-proxy/session_backend.hpp"
#include "http-proxy/sessions_api.hpp"
#include "http-proxy/submission_store.hpp"
#include "http-proxy/submissions_api.hpp"
#include "protocol/client.hpp"

int main(int argc, char** argv) {
    using namespace sbx;
    using namespace sbx::http;
    ProxyConfig config;
    config.socket_path = protocol::default_socket_path();
    std::string log_level = "info";
    double request_timeout_s = 120, idle_timeout_s = 60, grace_s = 30, session_idle_timeout_s = 0;

    CLI::App app{"sandbox-http: the HTTP API of sandboxd (native /v1/ API and compatibility APIs)"};
    app.set_version_flag("--version", "sandbox-http " SANDBOXD_VERSION);
    app.add_option("--listen", config.listen, "address and port to listen on: ADDR:PORT")->capture_default_str();
    app.add_option("--socket", config.socket_path, "sandboxd's socket (also $SANDBOXD_SOCKET)")->capture_default_str();
    auto* tokens = app.add_option("--tokens", config.tokens_file,
                                  "file of API tokens: TOKEN NAME [rate=R] [burst=B] [concurrency=C] [sessions=S] per line");
    auto* anonymous = app.add_flag("--anonymous", config.anonymous,
                                   "no tokens: anyone who reaches the port may run programs (local use)");
    tokens->excludes(anonymous);
    app.add_option("--user", config.user, "unprivileged user to switch to after start-up (when started as root)");
    app.add_option("--db", config.database, "SQLite database of stored submissions (POST /submit)")
        ->capture_default_str();
    app.add_option("--max-body", config.max_body, "largest request body in bytes")->capture_default_str();
    app.add_option("--daemon-connections", config.daemon_connections, "protocol connections to sandboxd")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--request-timeout", request_timeout_s,
                   "seconds a request may wait for its job (queue included); then 504 and the job is cancelled")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--idle-timeout", idle_timeout_s, "seconds a keep-alive connection may stay idle")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--shutdown-grace", grace_s, "seconds requests in flight get to finish on SIGTERM")
        ->capture_default_str();
    app.add_option("--max-connections", config.max_connections, "client connections at once")->capture_default_str();
    app.add_option("--rate-limit", config.default_limits.rate,
                   "requests per second per client (token, or address when anonymous); 0: unlimited")
        ->capture_default_str();
    app.add_option("--burst", config.default_limits.burst, "requests a client may send at once above its rate (0: the rate)")
        ->capture_default_str();
    app.add_option("--concurrency-limit", config.default_limits.concurrency,
                   "requests in flight per client; 0: unlimited")
        ->capture_default_str();
    config.default_limits.sessions = 8;
    app.add_option("--session-limit", config.default_limits.sessions,
                   "stateful sessions a client may have open at once (native and interpreter API); 0: no cap "
                   "but sandboxd's")
        ->capture_default_str();
    app.add_option("--session-idle-timeout", session_idle_timeout_s,
                   "seconds an interpreter-API session (POST /execute with user_uuid) may stay idle before sandboxd "
                   "closes it; 0: sandboxd's default")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    auto logger = std::make_shared<spdlog::logger>("sandbox-http", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
    auto level = spdlog::level::from_str(log_level);
    if (level == spdlog::level::off && log_level != "off") {
        std::fprintf(stderr, "sandbox-http: --log-level: unknown level '%s'\n", log_level.c_str());
        return 2;
    }
    logger->set_level(level);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);

    auto fail = [](const Error& e) {
        spdlog::critical("cannot start: {}", e.message());
        return 1;
    };
    if (config.tokens_file.empty() && !config.anonymous)
        return fail(Error::invalid("sandbox-http", "pass --tokens FILE, or --anonymous for a service without tokens"));
    config.request_timeout = std::chrono::milliseconds(static_cast<long>(request_timeout_s * 1000));
    config.idle_timeout = std::chrono::milliseconds(static_cast<long>(idle_timeout_s * 1000));
    config.shutdown_grace = std::chrono::milliseconds(static_cast<long>(grace_s * 1000));
    config.session_idle_timeout = std::chrono::milliseconds(static_cast<long>(session_idle_timeout_s * 1000));
    if (auto s = check_identity(config.user); !s) return fail(s.error());

    std::optional<TokenTable> token_table;
    if (!config.anonymous) {
        auto table = load_token_file(config.tokens_file, config.default_limits);
        if (!table) return fail(table.error());
        token_table = std::move(*table);
    }
    auto endpoint = parse_listen_address(config.listen);
    if (!endpoint) return fail(endpoint.error());

    boost::asio::io_context io(1);
    ProxyApp* app_ptr = nullptr;
    HttpServer server(io, config, [&app_ptr](const std::shared_ptr<Exchange>& exchange) { app_ptr->dispatch(exchange); });
    if (auto s = server.listen(*endpoint); !s) return fail(s.error());
    if (auto s = drop_privileges(config.user); !s) return fail(s.error());

    auto store = SubmissionStore::open(config.database);
    if (!store) return fail(store.error());
    DaemonPool daemon(io, config.socket_path, config.daemon_connections);
    Metrics metrics;
    SessionBackend sessions(io, config, daemon, metrics);
    Services services{io, config, daemon, metrics, **store, sessions};
    ProxyApp proxy(services, std::move(token_table));
    app_ptr = &proxy;
    add_native_api(proxy.router(), services);
    add_code_exec_api(proxy.router(), services);
    add_run_api(proxy.router(), services);
    add_judge_api(proxy.router(), services);
    add_submissions_api(proxy.router(), services);
    add_sessions_api(proxy.router(), services);
    add_piston_api(proxy.router(), services);

    daemon.start();
    sessions.start();
    server.start();
    auto local = server.local_endpoint();
    spdlog::info("sandbox-http {} listening on {}:{} ({}), sandboxd at {}, uid {}", SANDBOXD_VERSION,
                 local.address().to_string(), local.port(), config.anonymous ? "anonymous" : "tokens",
                 config.socket_path, ::getuid());

    boost::asio::signal_set stop_signals(io, SIGTERM, SIGINT);
    boost::asio::signal_set reload_signal(io, SIGHUP);
    std::function<void()> wait_reload = [&] {
        reload_signal.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            if (auto s = proxy.reload_tokens(); !s) spdlog::error("reload: {} (the old tokens stay)", s.error().message());
            wait_reload();
        });
    };
    wait_reload();
    stop_signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("signal {}: stopping", signal);
        server.shutdown([&] {
            sessions.stop();
            daemon.stop();
            reload_signal.cancel();
            stop_signals.cancel();
            spdlog::info("stopped");
        });
    });
    io.run();
    // Stopped. A second SIGTERM (an impatient operator, a supervisor repeating itself) must not
    // end the process by the default action while the signal sets and the rest unwind: block
    // them, so they stay pending until exit.
    sigset_t stop_set;
    sigemptyset(&stop_set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_set, sig);
    ::pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
    return 0;
}
