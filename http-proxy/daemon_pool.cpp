#include "http-proxy/daemon_pool.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace sbx::http {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto kWatchInterval = 200ms;
constexpr auto kMaxBackoff = 2000ms;
constexpr auto kPolicyRefresh = 30s;
}  // namespace

DaemonPool::DaemonPool(asio::io_context& io, std::string socket_path, std::size_t connections)
    : io_(io), socket_path_(std::move(socket_path)), slots_(std::max<std::size_t>(connections, 1)), watchdog_(io) {}

DaemonPool::~DaemonPool() {
    *alive_ = false;
    stop();
}

void DaemonPool::start() {
    for (std::size_t i = 0; i < slots_.size(); ++i) connect(i);
    watch();
}

void DaemonPool::stop() {
    if (stopped_) return;
    stopped_ = true;
    watchdog_.cancel();
    for (auto& slot : slots_)
        if (slot.client) slot.client->close();
}

void DaemonPool::connect(std::size_t index) {
    Slot& slot = slots_[index];
    slot.connecting = true;
    protocol::AsyncClient::connect(
        io_, socket_path_, [this, index, alive = alive_](Result<std::shared_ptr<protocol::AsyncClient>> client) {
            if (!*alive) return;
            Slot& s = slots_[index];
            s.connecting = false;
            if (stopped_) {
                if (client) (*client)->close();
                return;
            }
            if (!client) {
                if (last_error_ != client.error().message())
                    spdlog::warn("sandboxd is not reachable: {}", client.error().message());
                last_error_ = client.error().message();
                s.next_attempt = std::chrono::steady_clock::now() + s.backoff;
                s.backoff = std::min<std::chrono::milliseconds>(s.backoff * 2, kMaxBackoff);
                return;
            }
            bool was_down = open_connections() == 0;
            s.client = std::move(*client);
            s.backoff = 100ms;
            max_frame_ = s.client->hello().max_frame;
            last_error_.clear();
            if (was_down) spdlog::info("connected to {} ({})", socket_path_, s.client->hello().server);
            refresh_policies();
        });
}

void DaemonPool::watch() {
    if (stopped_) return;
    auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        Slot& slot = slots_[i];
        if (slot.connecting || (slot.client && slot.client->is_open())) continue;
        if (slot.client) {
            // It was open and broke: log once, then retry at once.
            slot.client.reset();
            if (open_connections() == 0) spdlog::warn("lost every connection to sandboxd; reconnecting");
            last_error_ = "the connection to sandboxd was lost";
        }
        if (now >= slot.next_attempt) connect(i);
    }
    if (now >= next_policy_refresh_ && open_connections() > 0) refresh_policies();
    watchdog_.expires_after(kWatchInterval);
    watchdog_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (!ec && *alive) watch();
    });
}

void DaemonPool::refresh_policies() {
    next_policy_refresh_ = std::chrono::steady_clock::now() + kPolicyRefresh;
    if (fetching_policies_) return;
    fetching_policies_ = true;
    call(protocol::PoliciesRequest{}, [this, alive = alive_](Result<protocol::Reply> reply) {
        if (!*alive) return;
        fetching_policies_ = false;
        if (reply && reply->kind == protocol::Reply::Kind::result) {
            auto result = protocol::decode_result<protocol::PoliciesResult>(*reply);
            if (result) policies_ = std::move(*result);
        }
        auto waiters = std::exchange(policy_waiters_, {});
        for (auto& then : waiters) then();
    });
}

void DaemonPool::with_policies(std::function<void()> then) {
    if (policies_) {
        then();
        return;
    }
    policy_waiters_.push_back(std::move(then));
    refresh_policies();
}

std::size_t DaemonPool::open_connections() const {
    std::size_t n = 0;
    for (const auto& slot : slots_)
        if (slot.client && slot.client->is_open()) ++n;
    return n;
}

const protocol::PolicyInfo* DaemonPool::policy(const std::string& name) const {
    if (!policies_) return nullptr;
    const std::string& wanted = name.empty() ? std::string("default") : name;
    for (const auto& p : policies_->policies)
        if (p.name == wanted) return &p;
    return nullptr;
}

void DaemonPool::call(const protocol::RequestBody& body, protocol::AsyncClient::ReplyHandler on_reply,
                      protocol::AsyncClient::EventHandler on_event) {
    protocol::AsyncClient* best = nullptr;
    for (auto& slot : slots_) {
        if (!slot.client || !slot.client->is_open()) continue;
        if (best == nullptr || slot.client->pending() < best->pending()) best = slot.client.get();
    }
    if (best == nullptr) {
        std::string why = stopped_ ? std::string("sandbox-http is shutting down")
                                   : "sandboxd is not reachable at " + socket_path_ +
                                         (last_error_.empty() ? std::string() : ": " + last_error_);
        asio::post(io_, [on_reply = std::move(on_reply), why] { on_reply(Error::invalid("sandboxd", why)); });
        return;
    }
    best->call(body, std::move(on_reply), std::move(on_event));
}

void DaemonPool::cancel_job(const std::string& job_id) {
    call(protocol::CancelRequest{job_id}, [job_id](Result<protocol::Reply> reply) {
        if (!reply)
            spdlog::debug("cancel {}: {}", job_id, reply.error().message());
        else if (reply->kind == protocol::Reply::Kind::error && reply->error.code != protocol::ErrorCode::not_found)
            spdlog::warn("cancel {}: {}: {}", job_id, protocol::to_string(reply->error.code), reply->error.message);
    });
}

}  // namespace sbx::http
