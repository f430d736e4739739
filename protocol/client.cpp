// The blocking client.
#include "protocol/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "protocol/reply_limit.hpp"

namespace sbx::protocol {

std::string default_socket_path() {
    const char* env = std::getenv("SANDBOXD_SOCKET");
    if (env != nullptr && *env != '\0') return env;
    return "/run/sandboxd/sandboxd.sock";
}

Result<Client> Client::connect(const std::string& socket_path) {
    const std::string context = "connect to " + socket_path;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof(address.sun_path))
        return Error::invalid(context, "a socket path must have 1 to " + std::to_string(sizeof(address.sun_path) - 1) +
                                           " bytes");
    std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return Error::system(context + ": socket");
    int rc = 0;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return Error::system(context);

    Client client(std::move(fd), detail::kMaxReplyFrame);
    auto first = client.read_reply();
    if (!first) return std::move(first).error().within(context);
    if (first->kind == Reply::Kind::error)
        return Error::invalid(context, "the server refused: " + std::string(to_string(first->error.code)) + ": " +
                                           first->error.message);
    if (first->kind != Reply::Kind::hello) return Error::invalid(context, "the server did not start with a hello");
    client.hello_ = first->hello;
    return client;
}

Status Client::write_all(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        // MSG_NOSIGNAL: a server that went away is an error here, not a SIGPIPE.
        const ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("write to sandboxd");
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<RequestId> Client::send(const RequestBody& body) {
    const RequestId id = next_id_++;
    if (auto written = write_all(encode_frame(encode_request(Request{id, body}))); !written)
        return std::move(written).error();
    return id;
}

Result<Reply> Client::read_reply() {
    std::string payload;
    std::array<char, 65536> buffer{};
    for (;;) {
        switch (decoder_.next(payload)) {
            case FrameDecoder::Status::frame: {
                auto reply = decode_reply(payload);
                if (!reply)
                    return Error::invalid("read from sandboxd", std::string(to_string(reply.error().code)) + ": " +
                                                                    reply.error().message);
                return std::move(*reply);
            }
            case FrameDecoder::Status::too_large:
                return Error::invalid("read from sandboxd", "the server announced a frame of " +
                                                                std::to_string(decoder_.announced_length()) +
                                                                " bytes");
            case FrameDecoder::Status::need_more: break;
        }
        const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error::system("read from sandboxd");
        }
        if (n == 0) {
            return Error::invalid("read from sandboxd", decoder_.buffered() > 0
                                                            ? "the server closed the connection in the middle of a frame"
                                                            : "the server closed the connection");
        }
        decoder_.feed(buffer.data(), static_cast<std::size_t>(n));
    }
}

Result<Reply> Client::call(const RequestBody& body, const std::function<void(const Event&)>& on_event) {
    auto id = send(body);
    if (!id) return std::move(id).error();
    for (;;) {
        auto reply = read_reply();
        if (!reply) return reply;
        // An error without an id is about the connection (the server closes it next).
        if (reply->kind == Reply::Kind::error && !reply->id) return reply;
        if (reply->id != *id) continue;  // a reply to a request sent with send()
        if (reply->kind == Reply::Kind::event) {
            if (on_event) on_event(reply->event);
            continue;
        }
        if (reply->kind == Reply::Kind::result || reply->kind == Reply::Kind::error) return reply;
    }
}

}  // namespace sbx::protocol
