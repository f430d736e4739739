#include "daemon/server/connection.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

#include "daemon/jobs/run_validation.hpp"
#include "daemon/server/daemon.hpp"

namespace sbx::server {

namespace asio = boost::asio;
using protocol::ErrorCode;

namespace {
// A client that does not read its replies is cut off rather than let the daemon buffer
// without bound.
constexpr std::size_t kMaxOutboxBytes = 256u << 20;
}  // namespace

Connection::Connection(asio::local::stream_protocol::socket socket, Daemon& daemon, jobs::Caller caller,
                       std::uint64_t number)
    : socket_(std::move(socket)),
      daemon_(daemon),
      caller_(std::move(caller)),
      number_(number),
      decoder_(daemon.config().max_frame) {}

void Connection::start() {
    spdlog::debug("connection {} from uid {} pid {}", number_, caller_.uid, caller_.pid);
    send(protocol::encode_hello(daemon_.hello()));
    read_more();
}

void Connection::read_more() {
    if (closing_ || closed_) return;
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                               std::size_t n) {
        if (ec) {
            if (self->decoder_.buffered() > 0 && ec == asio::error::eof)
                spdlog::debug("connection {}: closed in the middle of a frame", self->number_);
            self->close();
            return;
        }
        self->on_bytes(n);
    });
}

void Connection::on_bytes(std::size_t n) {
    decoder_.feed(buffer_.data(), n);
    std::string payload;
    for (;;) {
        auto status = decoder_.next(payload);
        if (status == protocol::FrameDecoder::Status::need_more) break;
        if (status == protocol::FrameDecoder::Status::too_large) {
            reply_error(std::nullopt, ErrorCode::frame_too_large,
                        "frame of " + std::to_string(decoder_.announced_length()) + " bytes; the limit is " +
                            std::to_string(daemon_.config().max_frame));
            close_after_flush();
            return;
        }
        auto request = protocol::decode_request(payload);
        if (!request) {
            const auto& e = request.error();
            reply_error(e.id, e.code, e.message);
            if (protocol::closes_connection(e.code)) {
                close_after_flush();
                return;
            }
            continue;
        }
        dispatch(std::move(*request));
        if (closing_ || closed_) return;
    }
    read_more();
}

void Connection::dispatch(protocol::Request request) {
    protocol::RequestId id = request.id;
    if (inflight_.count(id) != 0) {
        reply_error(id, ErrorCode::duplicate_id, "request id " + std::to_string(id) + " is already in flight");
        return;
    }
    if (inflight_.size() >= daemon_.config().max_inflight) {
        reply_error(id, ErrorCode::busy,
                    "this connection has " + std::to_string(inflight_.size()) + " requests in flight (the limit)");
        return;
    }
    std::visit(
        [&](auto&& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, protocol::HelloRequest>) {
                if (body.protocol != protocol::kProtocolVersion)
                    reply_error(id, ErrorCode::unsupported_version,
                                "protocol " + std::to_string(body.protocol) + " is not supported; this server speaks " +
                                    std::to_string(protocol::kProtocolVersion));
                else
                    reply(id, protocol::HelloResult{});
            } else if constexpr (std::is_same_v<T, protocol::RunRequest>) {
                handle_run(id, std::move(body));
            } else if constexpr (std::is_same_v<T, protocol::CancelRequest>) {
                handle_cancel(id, body);
            } else if constexpr (std::is_same_v<T, protocol::StatusRequest>) {
                handle_status(id, body);
            } else if constexpr (std::is_same_v<T, protocol::PoliciesRequest>) {
                reply(id, daemon_.policies(caller_));
            } else if constexpr (std::is_same_v<T, protocol::LanguagesRequest>) {
                reply(id, daemon_.languages());
            } else if constexpr (std::is_same_v<T, protocol::StatsRequest>) {
                reply(id, daemon_.stats());
            } else if constexpr (std::is_same_v<T, protocol::ReloadRequest>) {
                if (!caller_.is_root()) {
                    reply_error(id, ErrorCode::forbidden, "only root may reload");
                    return;
                }
                auto result = daemon_.reload();
                if (result)
                    reply(id, *result);
                else
                    reply_error(id, ErrorCode::reload_failed, result.error().message());
            } else if constexpr (std::is_same_v<T, protocol::SessionOpenRequest>) {
                handle_session_open(id, std::move(body));
            } else if constexpr (std::is_same_v<T, protocol::SessionExecRequest>) {
                handle_session_exec(id, std::move(body));
            } else if constexpr (std::is_same_v<T, protocol::SessionCloseRequest>) {
                auto closed = daemon_.sessions().close(caller_, body);
                if (closed)
                    reply(id, *closed);
                else
                    reply_error(id, closed.error().code, closed.error().message);
            } else if constexpr (std::is_same_v<T, protocol::SessionListRequest>) {
                reply(id, daemon_.sessions().list(caller_, body));
            } else {
                static_assert(sizeof(T) == 0, "a request type without a handler");
            }
        },
        request.body);
}

void Connection::handle_run(protocol::RequestId id, protocol::RunRequest run) {
    if (daemon_.shutting_down()) {
        reply_error(id, ErrorCode::shutting_down, "sandboxd is shutting down");
        return;
    }
    auto spec = jobs::validate_run(daemon_.registry(), caller_, std::move(run));
    if (!spec) {
        reply_error(id, spec.error().code, spec.error().message);
        return;
    }
    auto job = std::make_shared<jobs::Job>();
    job->caller = caller_;
    job->spec = std::move(*spec);
    std::weak_ptr<Connection> weak = shared_from_this();
    job->sink.on_event = [weak, id](const protocol::Event& e) {
        if (auto self = weak.lock()) self->send(protocol::encode_event(id, e));
    };
    job->sink.on_result = [weak, id](protocol::RunResult result) {
        if (auto self = weak.lock()) {
            self->reply(id, result);
            self->done_with(id);
        }
    };
    job->sink.on_error = [weak, id](ErrorCode code, const std::string& message) {
        if (auto self = weak.lock()) {
            self->reply_error(id, code, message);
            self->done_with(id);
        }
    };
    inflight_[id] = "";
    auto position = daemon_.scheduler().submit(job);
    if (!position) {
        inflight_.erase(id);
        reply_error(id, position.error().code, position.error().message);
        return;
    }
    inflight_[id] = job->id;
    // The scheduler starts jobs from the event loop, after this: `accepted` is always the first
    // frame of a job.
    protocol::Event accepted;
    accepted.event = "accepted";
    accepted.job_id = job->id;
    accepted.queue_position = *position;
    send(protocol::encode_event(id, accepted));
}

template <class T>
std::function<void(protocol::Decoded<T>)> Connection::answer_to(std::weak_ptr<Connection> weak, protocol::RequestId id) {
    return [weak = std::move(weak), id](protocol::Decoded<T> answer) {
        auto self = weak.lock();
        if (!self || self->closed_) return;
        if (answer)
            self->reply(id, *answer);
        else
            self->reply_error(id, answer.error().code, answer.error().message);
    };
}

// Sessions outlive connections (sandboxctl opens one per command): a client that goes away
// mid-call does not cancel the call, it only misses the answer.
void Connection::handle_session_open(protocol::RequestId id, protocol::SessionOpenRequest open) {
    inflight_[id] = "";
    daemon_.sessions().open(caller_, daemon_.registry(), std::move(open),
                            answer_to<protocol::SessionInfo>(shared_from_this(), id));
}

void Connection::handle_session_exec(protocol::RequestId id, protocol::SessionExecRequest exec) {
    inflight_[id] = "";
    daemon_.sessions().exec(caller_, std::move(exec), answer_to<protocol::SessionExecResult>(shared_from_this(), id));
}

void Connection::handle_cancel(protocol::RequestId id, const protocol::CancelRequest& cancel) {
    using Outcome = jobs::Scheduler::CancelOutcome;
    switch (daemon_.scheduler().cancel(cancel.job_id, caller_)) {
        case Outcome::cancelled:
            reply(id, protocol::CancelResult{true});
            return;
        case Outcome::not_found:
            reply_error(id, ErrorCode::not_found, "no queued or running job '" + cancel.job_id + "'");
            return;
        case Outcome::forbidden:
            reply_error(id, ErrorCode::forbidden, "job '" + cancel.job_id + "' belongs to another user");
            return;
    }
}

void Connection::handle_status(protocol::RequestId id, const protocol::StatusRequest& status) {
    protocol::StatusResult result = daemon_.status(caller_);
    if (!status.job_id.empty()) {
        std::erase_if(result.jobs, [&](const protocol::JobInfo& j) { return j.job_id != status.job_id; });
        if (result.jobs.empty()) {
            reply_error(id, ErrorCode::not_found, "no queued or running job '" + status.job_id + "'");
            return;
        }
    }
    reply(id, result);
}

void Connection::reply(protocol::RequestId id, const protocol::ResultBody& body) {
    send(protocol::encode_result(id, body));
    if (!std::holds_alternative<protocol::RunResult>(body)) done_with(id);
}

void Connection::reply_error(std::optional<protocol::RequestId> id, ErrorCode code, const std::string& message) {
    if (protocol::closes_connection(code))
        spdlog::warn("connection {} (uid {}): {}: {}", number_, caller_.uid, protocol::to_string(code), message);
    send(protocol::encode_error(id, code, message));
    if (id) done_with(*id);
}

void Connection::done_with(protocol::RequestId id) { inflight_.erase(id); }

void Connection::send(const std::string& payload) {
    if (closed_) return;
    std::string frame = protocol::encode_frame(payload);
    outbox_bytes_ += frame.size();
    outbox_.push_back(std::move(frame));
    if (outbox_bytes_ > kMaxOutboxBytes) {
        spdlog::warn("connection {} (uid {}): does not read its replies; closing", number_, caller_.uid);
        close();
        return;
    }
    write_next();
}

void Connection::write_next() {
    if (writing_ || outbox_.empty() || closed_) return;
    writing_ = true;
    asio::async_write(socket_, asio::buffer(outbox_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                          self->writing_ = false;
                          if (ec) {
                              self->close();
                              return;
                          }
                          self->outbox_bytes_ -= self->outbox_.front().size();
                          self->outbox_.pop_front();
                          if (self->outbox_.empty() && self->closing_) {
                              self->close();
                              return;
                          }
                          self->write_next();
                      });
}

void Connection::close_after_flush() {
    closing_ = true;
    if (!writing_ && outbox_.empty()) close();
}

void Connection::close() {
    if (closed_) return;
    closed_ = true;
    for (const auto& [id, job_id] : inflight_)
        if (!job_id.empty()) daemon_.scheduler().abandon(job_id);
    inflight_.clear();
    outbox_.clear();
    outbox_bytes_ = 0;
    boost::system::error_code ignored;
    socket_.close(ignored);
    daemon_.forget(this);
}

}  // namespace sbx::server
