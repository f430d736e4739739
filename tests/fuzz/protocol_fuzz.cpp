// libFuzzer entry point over the protocol's decoders: the input as one payload into
// decode_request and decode_reply (and decode_result for every result type), and as a byte
// stream into FrameDecoder. Beyond crashes and sanitizer reports it traps when a decoder breaks
// its contract: an error code a decoder may not produce, an empty message, or a decoded value
// that does not re-encode to a stable form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

namespace {

using namespace sbx::protocol;

void require(bool condition) {
    if (!condition) __builtin_trap();
}

template <class T>
void check_result(const Reply& reply) {
    auto decoded = decode_result<T>(reply);
    if (!decoded) {
        require(decoded.error().code == ErrorCode::malformed_frame && !decoded.error().message.empty());
        return;
    }
    auto again = decode_reply(encode_result(reply.id.value_or(0), *decoded));
    require(again.ok() && again->kind == Reply::Kind::result);
    require(decode_result<T>(*again).ok());
}

void check_payload(std::string_view payload) {
    auto request = decode_request(payload);
    if (request) {
        const std::string stable = encode_request(*request);
        auto again = decode_request(stable);
        require(again.ok() && again->id == request->id && encode_request(*again) == stable);
    } else {
        const ErrorCode code = request.error().code;
        require(code == ErrorCode::malformed_frame || code == ErrorCode::unknown_type ||
                code == ErrorCode::invalid_request);
        require(!request.error().message.empty());
    }

    auto reply = decode_reply(payload);
    if (!reply) {
        const ErrorCode code = reply.error().code;
        require(code == ErrorCode::malformed_frame || code == ErrorCode::unknown_type);
        require(!reply.error().message.empty());
        return;
    }
    if (reply->kind != Reply::Kind::result) return;
    check_result<HelloResult>(*reply);
    check_result<RunResult>(*reply);
    check_result<CancelResult>(*reply);
    check_result<StatusResult>(*reply);
    check_result<PoliciesResult>(*reply);
    check_result<LanguagesResult>(*reply);
    check_result<StatsResult>(*reply);
    check_result<ReloadResult>(*reply);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_payload(input);

    // The same bytes as a stream, fed in uneven pieces; every frame out goes through the decoders.
    constexpr std::size_t kMaxFrame = 1u << 16;
    FrameDecoder decoder(kMaxFrame);
    std::string frame;
    std::size_t at = 0;
    std::size_t piece = 1;
    while (at < input.size()) {
        const std::size_t n = std::min(input.size() - at, piece);
        decoder.feed(input.data() + at, n);
        at += n;
        piece = piece * 3 % 61 + 1;
        for (;;) {
            const auto status = decoder.next(frame);
            if (status == FrameDecoder::Status::need_more) break;
            if (status == FrameDecoder::Status::too_large) {
                require(decoder.announced_length() == 0 || decoder.announced_length() > kMaxFrame);
                return 0;
            }
            require(!frame.empty() && frame.size() <= kMaxFrame);
            check_payload(frame);
        }
    }
    return 0;
}
