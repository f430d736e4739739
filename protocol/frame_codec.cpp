// Length-prefixed framing over a byte stream.
#include "protocol/frame_codec.hpp"

namespace sbx::protocol {
namespace {

constexpr std::size_t kPrefix = 4;

// Consumed bytes are dropped from the front of the buffer once they are at least this many
// and at least half of it, so feeding stays amortised linear.
constexpr std::size_t kCompactAt = 64u << 10;

}  // namespace

std::string encode_frame(std::string_view payload) {
    // Payloads never approach 4 GiB: every frame is bounded by a max_frame far below it.
    const auto length = static_cast<std::uint32_t>(payload.size());
    std::string frame;
    frame.reserve(kPrefix + payload.size());
    frame.push_back(static_cast<char>((length >> 24) & 0xff));
    frame.push_back(static_cast<char>((length >> 16) & 0xff));
    frame.push_back(static_cast<char>((length >> 8) & 0xff));
    frame.push_back(static_cast<char>(length & 0xff));
    frame.append(payload);
    return frame;
}

FrameDecoder::FrameDecoder(std::size_t max_frame) : max_frame_(max_frame) {}

void FrameDecoder::feed(const char* data, std::size_t size) {
    if (start_ > 0 && (start_ == buffer_.size() || (start_ >= kCompactAt && start_ * 2 >= buffer_.size()))) {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    buffer_.append(data, size);
}

FrameDecoder::Status FrameDecoder::next(std::string& payload) {
    if (buffered() < kPrefix) return Status::need_more;
    const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + start_);
    const std::uint64_t length = (std::uint64_t{p[0]} << 24) | (std::uint64_t{p[1]} << 16) |
                                 (std::uint64_t{p[2]} << 8) | std::uint64_t{p[3]};
    if (length == 0 || length > max_frame_) {
        // The prefix stays buffered: what follows a bad length cannot be resynchronised, so
        // every later call says too_large again.
        announced_ = length;
        return Status::too_large;
    }
    if (buffered() - kPrefix < length) return Status::need_more;
    payload.assign(buffer_, start_ + kPrefix, static_cast<std::size_t>(length));
    start_ += kPrefix + static_cast<std::size_t>(length);
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
    }
    return Status::frame;
}

}  // namespace sbx::protocol
