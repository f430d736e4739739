#include "http-proxy/access_limits.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace sbx::http {

std::optional<AccessLimiter::Refusal> AccessLimiter::admit(const std::string& client, const ClientLimits& limits,
                                                           std::shared_ptr<void>& ticket,
                                                           std::chrono::steady_clock::time_point now) {
    // Forget idle clients now and then (anonymous mode keys by address): an entry without
    // requests in flight whose bucket has had a minute to refill holds nothing worth keeping.
    if (++admissions_ % 4096 == 0) {
        for (auto it = states_->begin(); it != states_->end();) {
            if (it->second.in_flight == 0 && now - it->second.refilled > std::chrono::minutes(1))
                it = states_->erase(it);
            else
                ++it;
        }
    }
    State& s = (*states_)[client];
    if (limits.concurrency > 0 && s.in_flight >= limits.concurrency)
        return Refusal{"concurrency_limit",
                       "'" + client + "' already has " + std::to_string(s.in_flight) +
                           " requests in flight, the most it may have at once",
                       1};
    if (limits.rate > 0) {
        double burst = limits.burst > 0 ? limits.burst : std::max(1.0, limits.rate);
        if (s.tokens < 0) {
            s.tokens = burst;
        } else {
            double elapsed = std::chrono::duration<double>(now - s.refilled).count();
            s.tokens = std::min(burst, s.tokens + elapsed * limits.rate);
        }
        s.refilled = now;
        if (s.tokens < 1) {
            auto wait = static_cast<unsigned>(std::ceil((1 - s.tokens) / limits.rate));
            return Refusal{"rate_limit",
                           fmt::format("'{}' is limited to {:g} requests per second", client, limits.rate),
                           std::max(1u, wait)};
        }
        s.tokens -= 1;
    }
    ++s.in_flight;
    // The ticket gives the slot back; it may outlive the limiter (weak reference to the table).
    std::weak_ptr<std::map<std::string, State>> weak = states_;
    ticket = std::shared_ptr<void>(nullptr, [weak, client](void*) {
        if (auto states = weak.lock()) {
            auto it = states->find(client);
            if (it != states->end() && it->second.in_flight > 0) --it->second.in_flight;
        }
    });
    return std::nullopt;
}

std::uint32_t AccessLimiter::in_flight(const std::string& client) const {
    auto it = states_->find(client);
    return it == states_->end() ? 0 : it->second.in_flight;
}

}  // namespace sbx::http
