// One client of the control socket: frames in, requests checked and dispatched, replies and
// events out, in order per request. Knows the peer's credentials from SO_PEERCRED. When the
// client goes away, every job it started is cancelled.
#pragma once

#include <boost/asio/local/stream_protocol.hpp>
#include <array>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "daemon/jobs/caller.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

namespace sbx::server {

class Daemon;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(boost::asio::local::stream_protocol::socket socket, Daemon& daemon, jobs::Caller caller,
               std::uint64_t number);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start();
    // Closes at once; jobs of this connection are cancelled.
    void close();

private:
    void read_more();
    void on_bytes(std::size_t n);
    void dispatch(protocol::Request request);
    void handle_run(protocol::RequestId id, protocol::RunRequest run);
    void handle_cancel(protocol::RequestId id, const protocol::CancelRequest& cancel);
    void handle_status(protocol::RequestId id, const protocol::StatusRequest& status);
    void handle_session_open(protocol::RequestId id, protocol::SessionOpenRequest open);
    void handle_session_exec(protocol::RequestId id, protocol::SessionExecRequest exec);
    // Sends a session's asynchronous answer, if this connection is still there.
    template <class T>
    static std::function<void(protocol::Decoded<T>)> answer_to(std::weak_ptr<Connection> weak, protocol::RequestId id);

    // Frames one encoded message and queues it.
    void send(const std::string& payload);
    void write_next();
    void reply(protocol::RequestId id, const protocol::ResultBody& body);
    void reply_error(std::optional<protocol::RequestId> id, protocol::ErrorCode code, const std::string& message);
    void done_with(protocol::RequestId id);
    // After a fatal protocol error: stop reading, send what is queued, then close.
    void close_after_flush();

    boost::asio::local::stream_protocol::socket socket_;
    Daemon& daemon_;
    jobs::Caller caller_;
    std::uint64_t number_;
    protocol::FrameDecoder decoder_;
    std::array<char, 65536> buffer_{};
    std::deque<std::string> outbox_;
    std::size_t outbox_bytes_ = 0;
    bool writing_ = false;
    bool closing_ = false;
    bool closed_ = false;
    std::map<protocol::RequestId, std::string> inflight_;  // request id -> job id ("" for non-jobs)
};

}  // namespace sbx::server
