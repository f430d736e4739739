// Stateful interpreter sessions over HTTP, on sandboxd's session requests (docs/sessions.md;
// docs/http-api.md, "Sessions"):
//
//   native      POST /v1/sessions, GET /v1/sessions, GET|DELETE /v1/sessions/{id},
//               POST /v1/sessions/{id}/exec: session.open/list/close/exec as JSON
//   interpreter POST /execute with user_uuid -> {result_text, result_base64}, POST /release,
//               GET /status: one session per (user_uuid, language), opened on first use
//
// sandboxd keeps the sessions; this proxy only names their owners. All of them belong to the
// proxy's uid in sandboxd, and within it to an owner name made from the request's principal:
//
//   native API        "token:<name>"                 (anonymous mode: "anonymous@<address>")
//   interpreter API   "token:<name>/user:<user_uuid>"
//
// so one token's sessions are never visible to another token (sandboxd answers not_found, which
// becomes 404) and each user_uuid has sessions of its own. Token names cannot hold '/', so no
// token's owner names can be another's.
//
// A user_uuid's session is found in the session book, or else by session.list for its owner
// (sessions opened before a restart of sandbox-http are found again), or else opened. A session
// that is gone when called (reaped after its idle timeout or lifetime, closed by a restart of
// sandboxd) is replaced once, transparently, and the answer says the state was lost.
//
// Caps: sandboxd counts sessions per owner; the client's cap (ClientLimits::sessions, from
// --session-limit or the token's sessions=) counts every session of a token across its owner
// names, here, and answers 429 too_many_sessions.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http-proxy/daemon_call.hpp"
#include "http-proxy/daemon_pool.hpp"
#include "http-proxy/exchange.hpp"
#include "http-proxy/metrics.hpp"
#include "http-proxy/proxy_config.hpp"
#include "http-proxy/session_book.hpp"

namespace sbx::http {

class SessionBackend {
public:
    SessionBackend(boost::asio::io_context& io, const ProxyConfig& config, DaemonPool& daemon, Metrics& metrics);
    ~SessionBackend();
    SessionBackend(const SessionBackend&) = delete;
    SessionBackend& operator=(const SessionBackend&) = delete;

    // The periodic sweep that forgets sessions sandboxd no longer has.
    void start();
    void stop();

    // Native API; answered in the native error shape.
    void open(const std::shared_ptr<Exchange>& exchange);
    void exec(const std::shared_ptr<Exchange>& exchange);
    void close(const std::shared_ptr<Exchange>& exchange);
    void list(const std::shared_ptr<Exchange>& exchange);
    void get(const std::shared_ptr<Exchange>& exchange);

    // Interpreter API; answered as {"error", "code"}.
    void execute(const std::shared_ptr<Exchange>& exchange, const nlohmann::json& body);  // POST /execute + user_uuid
    void release(const std::shared_ptr<Exchange>& exchange);                             // POST /release
    void status(const std::shared_ptr<Exchange>& exchange);                              // GET /status

    // Owner names (public for the tests of their shape).
    static std::string client_owner(const Principal& principal);
    static std::string user_owner(const Principal& principal, const std::string& user_uuid);
    // What an interpreter call answers as text: output, traceback, value, and what was lost.
    static std::string result_text(const protocol::SessionExecResult& result, bool replaced);

    const SessionBook& book() const { return book_; }

private:
    struct Call;
    struct OwnerSessions {
        std::string owner;
        std::vector<protocol::SessionInfo> sessions;
    };
    // The sessions of each owner that answered, sandboxd's totals when one did, and the last error.
    using Listed = std::function<void(std::vector<OwnerSessions> owners,
                                      std::optional<protocol::SessionListResult> totals, HttpError error)>;
    using Opened = std::function<void(QueryOutcome<protocol::SessionInfo>)>;
    using Found = std::function<void(std::optional<std::string> session_id, HttpError error)>;

    // Lists the client's native owner and every owner of it in the book, syncing the book.
    void list_client(const std::string& client, Listed done);
    // session.open within the client's cap (`limit`, 0: none); a client at its cap has its
    // entries checked against sandboxd first, since reaped sessions may linger in the book.
    void open_within_cap(const std::string& client, std::uint32_t limit, protocol::SessionOpenRequest request,
                         Opened done);
    // The session of an interpreter user for `language`, opened when it has none. Lookups of
    // one owner and language at once wait for the first instead of opening two sessions.
    void session_of(const std::string& client, std::uint32_t limit, const std::string& owner,
                    const std::string& language, Found found);
    void run_call(const std::shared_ptr<Call>& call);
    bool fits_in_frame(const std::string& code) const;
    // A call waits at most the request's deadline (--request-timeout, X-Request-Timeout), then 504.
    // A session call cannot be cancelled without losing the session: it goes on, its answer dropped.
    void arm_deadline(const std::shared_ptr<Exchange>& exchange, bool interpreter);
    void sweep();

    boost::asio::io_context& io_;
    const ProxyConfig& config_;
    DaemonPool& daemon_;
    Metrics& metrics_;
    SessionBook book_;
    std::map<std::string, std::vector<Found>> lookups_;  // owner + '\n' + language -> waiting
    boost::asio::steady_timer sweep_timer_;
    bool stopped_ = true;
    // Outlives the back end in handlers that may run after it is gone.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sbx::http
