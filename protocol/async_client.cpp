// The asynchronous client on Boost.Asio.
#include "protocol/async_client.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "protocol/reply_limit.hpp"

namespace sbx::protocol {

namespace asio = boost::asio;

namespace {

Error transport_error(const std::string& context, const boost::system::error_code& ec) {
    if (ec == asio::error::eof) return Error::invalid(context, "the server closed the connection");
    if (ec.category() == boost::system::system_category()) return Error::system(context, ec.value());
    return Error::invalid(context, ec.message());
}

}  // namespace

AsyncClient::AsyncClient(asio::io_context& io) : socket_(io), decoder_(detail::kMaxReplyFrame) {}

void AsyncClient::connect(asio::io_context& io, const std::string& socket_path, Connected done) {
    auto client = std::make_shared<AsyncClient>(io);
    const std::string context = "connect to " + socket_path;
    asio::local::stream_protocol::endpoint endpoint;
    try {
        endpoint = asio::local::stream_protocol::endpoint(socket_path);
    } catch (const std::exception&) {
        asio::post(io, [done = std::move(done), context] { done(Error::invalid(context, "socket path too long")); });
        return;
    }
    client->connected_ = std::move(done);
    client->socket_.async_connect(endpoint, [client, context](const boost::system::error_code& ec) {
        if (ec) {
            client->fail_all(transport_error(context, ec));
            return;
        }
        client->read_more();
    });
}

RequestId AsyncClient::call(const RequestBody& body, ReplyHandler on_reply, EventHandler on_event) {
    const RequestId id = next_id_++;
    if (!open_) {
        asio::post(socket_.get_executor(), [on_reply = std::move(on_reply)] {
            on_reply(Error::invalid("send to sandboxd", "the connection is closed"));
        });
        return id;
    }
    pending_.emplace(id, Pending{std::move(on_reply), std::move(on_event)});
    outbox_.push_back(encode_frame(encode_request(Request{id, body})));
    write_next();
    return id;
}

void AsyncClient::close() { fail_all(Error::invalid("sandboxd connection", "closed by the client")); }

void AsyncClient::write_next() {
    if (writing_ || outbox_.empty() || !socket_.is_open()) return;
    writing_ = true;
    asio::async_write(socket_, asio::buffer(outbox_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                          self->writing_ = false;
                          if (ec) {
                              self->fail_all(transport_error("write to sandboxd", ec));
                              return;
                          }
                          if (!self->outbox_.empty()) self->outbox_.pop_front();
                          self->write_next();
                      });
}

void AsyncClient::read_more() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                               std::size_t n) {
        if (ec) {
            self->fail_all(transport_error("read from sandboxd", ec));
            return;
        }
        self->decoder_.feed(self->buffer_.data(), n);
        std::string payload;
        for (;;) {
            const auto status = self->decoder_.next(payload);
            if (status == FrameDecoder::Status::need_more) break;
            if (status == FrameDecoder::Status::too_large) {
                self->fail_all(Error::invalid("read from sandboxd", "the server announced a frame of " +
                                                                        std::to_string(self->decoder_.announced_length()) +
                                                                        " bytes"));
                return;
            }
            self->on_frame(payload);
            // A handler may have closed the connection.
            if (!self->socket_.is_open()) return;
        }
        self->read_more();
    });
}

void AsyncClient::on_frame(const std::string& payload) {
    auto decoded = decode_reply(payload);
    if (!decoded) {
        fail_all(Error::invalid("read from sandboxd",
                                std::string(to_string(decoded.error().code)) + ": " + decoded.error().message));
        return;
    }
    Reply& reply = *decoded;
    if (!open_) {
        // The first frame: the server's hello (or an error saying why it refuses us).
        if (reply.kind != Reply::Kind::hello) {
            fail_all(Error::invalid("connect to sandboxd",
                                    reply.kind == Reply::Kind::error
                                        ? "the server refused: " + std::string(to_string(reply.error.code)) + ": " +
                                              reply.error.message
                                        : std::string("the server did not start with a hello")));
            return;
        }
        hello_ = std::move(reply.hello);
        open_ = true;
        if (auto done = std::exchange(connected_, nullptr)) done(shared_from_this());
        return;
    }
    switch (reply.kind) {
        case Reply::Kind::hello: return;  // only ever the first frame
        case Reply::Kind::event: {
            if (!reply.id) return;
            auto it = pending_.find(*reply.id);
            if (it != pending_.end() && it->second.on_event) {
                EventHandler on_event = it->second.on_event;  // the handler may end the request
                on_event(reply.event);
            }
            return;
        }
        case Reply::Kind::error:
            if (!reply.id) {
                // About the connection (malformed_frame, frame_too_large, ...): every pending request
                // gets it, and the server closes the connection next.
                auto pending = std::exchange(pending_, {});
                for (auto& [id, p] : pending) {
                    Reply copy = reply;
                    copy.id = id;
                    p.on_reply(std::move(copy));
                }
                return;
            }
            [[fallthrough]];
        case Reply::Kind::result: {
            auto it = pending_.find(*reply.id);
            if (it == pending_.end()) return;
            ReplyHandler on_reply = std::move(it->second.on_reply);
            pending_.erase(it);
            on_reply(std::move(reply));
            return;
        }
    }
}

void AsyncClient::fail_all(const Error& error) {
    open_ = false;
    boost::system::error_code ignored;
    socket_.shutdown(asio::local::stream_protocol::socket::shutdown_both, ignored);
    socket_.close(ignored);
    outbox_.clear();
    if (auto done = std::exchange(connected_, nullptr)) done(error);
    auto pending = std::exchange(pending_, {});
    for (auto& [id, p] : pending) p.on_reply(error);
}

}  // namespace sbx::protocol
