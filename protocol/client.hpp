// A blocking client: connect, read the server's hello, send requests, read replies. One request
// at a time through `call`; `send` and `read_reply` allow several in flight.
#pragma once

#include <functional>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

namespace sbx::protocol {

// $SANDBOXD_SOCKET, else /run/sandboxd/sandboxd.sock.
std::string default_socket_path();

class Client {
public:
    // Connects and reads the server's hello.
    static Result<Client> connect(const std::string& socket_path);

    const ServerHello& hello() const { return hello_; }

    // Sends one request (the id is chosen here) and returns the final reply (result or error),
    // passing events to `on_event` as they arrive. Transport failures are errors; a protocol
    // error frame is a Reply of kind error.
    Result<Reply> call(const RequestBody& body, const std::function<void(const Event&)>& on_event = {});

    // Lower level: several requests in flight, replies matched by id by the caller.
    Result<RequestId> send(const RequestBody& body);
    Result<Reply> read_reply();

private:
    Client(UniqueFd fd, std::size_t max_frame) : fd_(std::move(fd)), decoder_(max_frame) {}
    Status write_all(const std::string& bytes);

    UniqueFd fd_;
    FrameDecoder decoder_;
    ServerHello hello_;
    RequestId next_id_ = 1;
};

}  // namespace sbx::protocol
