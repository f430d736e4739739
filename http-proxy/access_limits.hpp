// Per-client limits: a request rate (token bucket: `rate` requests per second on average, bursts
// of up to `burst`), a number of requests in flight at once, and a number of stateful sessions
// open at once (counted by the session back end, session_backend.hpp). 0 means unlimited.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace sbx::http {

struct ClientLimits {
    double rate = 0;              // requests per second; 0: unlimited
    std::uint32_t burst = 0;      // bucket size; 0: max(1, rate)
    std::uint32_t concurrency = 0;  // requests in flight; 0: unlimited
    std::uint32_t sessions = 0;     // open sessions, native and interpreter together; 0: unlimited
};

class AccessLimiter {
public:
    // Why a request may not go on, and when to come back.
    struct Refusal {
        std::string reason;  // "rate_limit" or "concurrency_limit"
        std::string message;
        unsigned retry_after_s = 1;
    };

    // Admits one request of `client` or says why not. The returned ticket holds a concurrency
    // slot until it is destroyed.
    std::optional<Refusal> admit(const std::string& client, const ClientLimits& limits,
                                 std::shared_ptr<void>& ticket,
                                 std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

    std::uint32_t in_flight(const std::string& client) const;

private:
    struct State {
        double tokens = -1;  // -1: a fresh bucket (full)
        std::chrono::steady_clock::time_point refilled{};
        std::uint32_t in_flight = 0;
    };
    std::shared_ptr<std::map<std::string, State>> states_ = std::make_shared<std::map<std::string, State>>();
    std::uint64_t admissions_ = 0;
};

}  // namespace sbx::http
