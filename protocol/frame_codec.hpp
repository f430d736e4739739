// Framing: a 4-byte big-endian payload length, then the payload (one msgpack map).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sbx::protocol {

// Prepends the length prefix.
std::string encode_frame(std::string_view payload);

// Incremental decoder for a byte stream: feed what arrived, take whole frames out.
class FrameDecoder {
public:
    explicit FrameDecoder(std::size_t max_frame);

    void feed(const char* data, std::size_t size);

    enum class Status {
        need_more,  // no complete frame buffered
        frame,      // `payload` holds the next frame
        too_large,  // the next frame's length exceeds max_frame (or is zero); the stream is unusable
    };
    Status next(std::string& payload);

    std::size_t buffered() const { return buffer_.size() - start_; }
    // Length announced by the frame that was too large (for the error message).
    std::uint64_t announced_length() const { return announced_; }

private:
    std::size_t max_frame_;
    std::string buffer_;
    std::size_t start_ = 0;
    std::uint64_t announced_ = 0;
};

}  // namespace sbx::protocol
