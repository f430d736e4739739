// Stateful interpreter sessions (a Python kernel that keeps its variables between calls) are
// served by a session back end: `POST /execute` with a `user_uuid`, `POST /release`,
// `GET /status`, and the native `/v1/sessions` routes all go to it. Until sandboxd has sessions,
// the back end is UnavailableSessions, which answers every such request with 501 and a
// message saying so (docs/http-api.md, "Sessions").
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "http-proxy/exchange.hpp"

namespace sbx::http {

class SessionBackend {
public:
    virtual ~SessionBackend() = default;
    // POST /execute with "user_uuid" (the body, parsed).
    virtual void execute(const std::shared_ptr<Exchange>& exchange, const nlohmann::json& body) = 0;
    // POST /release.
    virtual void release(const std::shared_ptr<Exchange>& exchange) = 0;
    // GET /status.
    virtual void status(const std::shared_ptr<Exchange>& exchange) = 0;
    // The /v1/sessions routes (exchange->route says which).
    virtual void native(const std::shared_ptr<Exchange>& exchange) = 0;
};

class UnavailableSessions final : public SessionBackend {
public:
    void execute(const std::shared_ptr<Exchange>& exchange, const nlohmann::json& body) override;
    void release(const std::shared_ptr<Exchange>& exchange) override;
    void status(const std::shared_ptr<Exchange>& exchange) override;
    void native(const std::shared_ptr<Exchange>& exchange) override;

    static constexpr const char* kMessage =
        "stateful interpreter sessions are not available: this sandboxd has no session support yet. "
        "Run stateless programs with POST /execute without user_uuid, or POST /v1/run";
};

}  // namespace sbx::http
