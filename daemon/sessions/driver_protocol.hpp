// The protocol between sandboxd and a session's interpreter driver (docs/sessions.md): frames
// of an ASCII decimal length, a newline, and that many bytes of one JSON object, both ways over
// the socket the driver gets as its stdin. A driver answers "ready" once it has started, then one
// reply per exec request. The user's stdout and stderr never travel here: they are the jail's
// own pipes, captured and capped like a run's.
//
// Everything a driver sends is untrusted (the user's code runs in the same process and can
// write to the socket): frames are bounded, and every field is checked.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "protocol/messages.hpp"

namespace sbx::sessions {

// Largest frame a driver may send: a reply with images in base64. The daemon may hold one such
// frame per busy session while it arrives, so this bounds its memory (64 sessions: 1 GiB).
inline constexpr std::size_t kMaxDriverFrame = 16u << 20;

std::string encode_driver_frame(std::string_view json);
// {"code": ...}: run this chunk.
std::string encode_exec_request(std::string_view code);

class DriverFrameDecoder {
public:
    enum class Status { need_more, frame, invalid };
    explicit DriverFrameDecoder(std::size_t max_frame = kMaxDriverFrame) : max_(max_frame) {}
    void feed(const char* data, std::size_t n) { buffer_.append(data, n); }
    // `frame` puts the payload in `out`; `invalid` is final, error() says why.
    Status next(std::string& out);
    const std::string& error() const { return error_; }

private:
    std::size_t max_;
    std::string buffer_;
    std::string error_;
};

// {"ready": true, "version": "3.11.2"}
struct DriverReady {
    std::string version;
};

// {"status": "ok" | "error", "exit_code": int, "value": str | null,
//  "error": {"name", "value", "traceback"} | null, "images": [{"mime", "data": base64}]}
struct DriverReply {
    bool failed = false;  // status "error": the code raised an exception or failed
    int exit_code = 0;
    std::optional<std::string> value;
    std::optional<protocol::SessionErrorInfo> error;
    std::vector<protocol::SessionImage> images;
    std::string notes;  // what was cut to fit the caps, for the result's message
};

struct ReplyCaps {
    std::size_t text_bytes = 1u << 20;    // value and each error field
    std::size_t image_bytes = 8u << 20;   // all images of one reply, decoded
};

Result<DriverReady> parse_ready(std::string_view payload);
Result<DriverReply> parse_reply(std::string_view payload, const ReplyCaps& caps);

}  // namespace sbx::sessions
