// An asynchronous client on Boost.Asio: one connection, many requests in flight, replies and
// events dispatched by request id. Handlers run in the io_context.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

namespace sbx::protocol {

class AsyncClient : public std::enable_shared_from_this<AsyncClient> {
public:
    using Connected = std::function<void(Result<std::shared_ptr<AsyncClient>>)>;
    using EventHandler = std::function<void(const Event&)>;
    using ReplyHandler = std::function<void(Result<Reply>)>;  // final reply, or transport error

    // Connects and waits for the server's hello.
    static void connect(boost::asio::io_context& io, const std::string& socket_path, Connected done);

    const ServerHello& hello() const { return hello_; }
    bool is_open() const { return open_; }

    // Sends a request; `on_reply` gets its final reply once, `on_event` each event before it.
    // Returns the id used (for cancel). When the connection fails, every pending request's
    // on_reply gets the error.
    RequestId call(const RequestBody& body, ReplyHandler on_reply, EventHandler on_event = {});

    // Closes the connection; pending requests get an error. (The server cancels their jobs.)
    void close();

    std::size_t pending() const { return pending_.size(); }

    explicit AsyncClient(boost::asio::io_context& io);  // use connect()

private:
    struct Pending {
        ReplyHandler on_reply;
        EventHandler on_event;
    };
    void read_more();
    void on_frame(const std::string& payload);
    void fail_all(const Error& error);
    void write_next();

    boost::asio::local::stream_protocol::socket socket_;
    FrameDecoder decoder_{kDefaultMaxFrame};
    std::array<char, 65536> buffer_{};
    ServerHello hello_;
    bool open_ = false;
    bool writing_ = false;
    Connected connected_;
    std::deque<std::string> outbox_;
    std::map<RequestId, Pending> pending_;
    RequestId next_id_ = 1;
};

}  // namespace sbx::protocol
