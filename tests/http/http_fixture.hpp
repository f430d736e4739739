// Shared set-up of the HTTP end-to-end tests: a real sandboxd (socket group "sandbox") and a
// real sandbox-http running as the unprivileged user sandbox-http on a loopback port.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "tests/e2e/daemon_process.hpp"
#include "tests/http/http_client.hpp"
#include "tests/http/proxy_process.hpp"

namespace sbx::testing {

inline nlohmann::json python(const std::string& source) { return {{"language", "python"}, {"source", source}}; }

// Polls the daemon (as root, which sees every job) until no job is queued or running.
inline bool daemon_idle(DaemonProcess& daemon, std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
        auto client = daemon.client();
        auto reply = client.call(protocol::StatusRequest{});
        if (reply && reply->kind == protocol::Reply::Kind::result) {
            auto status = protocol::decode_result<protocol::StatusResult>(*reply);
            if (status && status->jobs.empty() && status->running == 0 && status->queued == 0) return true;
        }
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Polls until the daemon has `n` jobs running.
inline bool daemon_running(DaemonProcess& daemon, std::uint32_t n, std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
        auto client = daemon.client();
        auto reply = client.call(protocol::StatusRequest{});
        if (reply && reply->kind == protocol::Reply::Kind::result) {
            auto status = protocol::decode_result<protocol::StatusResult>(*reply);
            if (status && status->running >= n) return true;
        }
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// sandboxd asks each runtime for its version in the background after start-up; the APIs that
// report versions (Piston's runtimes, /api/v1/languages) are tested once that is done.
inline void wait_for_versions(DaemonProcess& daemon) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        auto client = daemon.client();
        auto reply = client.call(protocol::LanguagesRequest{});
        if (reply && reply->kind == protocol::Reply::Kind::result) {
            auto languages = protocol::decode_result<protocol::LanguagesResult>(*reply);
            bool all = languages.ok();
            if (all)
                for (const auto& l : languages->languages) all = all && (!l.available || !l.version.empty());
            if (all) return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "sandboxd did not probe every language's version within 30 s";
}

// One daemon and one anonymous proxy for a test suite.
class AnonymousProxy : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        DaemonOptions options;
        options.group = "sandbox";
        daemon_ = std::make_unique<DaemonProcess>(options);
        wait_for_versions(*daemon_);
        proxy_ = std::make_unique<ProxyProcess>(ProxyOptions{daemon_->socket(), {"--anonymous"}, "", "sandbox-http"});
    }
    static void TearDownTestSuite() {
        proxy_.reset();
        daemon_.reset();
    }
    static HttpClient client() { return HttpClient(proxy_->port()); }

    static inline std::unique_ptr<DaemonProcess> daemon_;
    static inline std::unique_ptr<ProxyProcess> proxy_;
};

}  // namespace sbx::testing
