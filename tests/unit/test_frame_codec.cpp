// Framing: 4-byte big-endian length prefix, incremental decoding from a byte stream.
#include <gtest/gtest.h>

#include <random>

#include "protocol/frame_codec.hpp"

namespace sbx::protocol {
namespace {

using Status = FrameDecoder::Status;

std::string prefix(std::uint32_t n) {
    return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                       static_cast<char>(n)};
}

TEST(EncodeFrame, PrefixIsBigEndianPayloadLength) {
    EXPECT_EQ(encode_frame("abc"), std::string("\0\0\0\x03" "abc", 7));
    const std::string payload(0x010203, 'x');
    const std::string frame = encode_frame(payload);
    ASSERT_EQ(frame.size(), payload.size() + 4);
    EXPECT_EQ(frame.substr(0, 4), std::string("\x00\x01\x02\x03", 4));
    EXPECT_EQ(frame.substr(4), payload);
}

TEST(FrameDecoder, WholeFrame) {
    FrameDecoder d(1024);
    const std::string frame = encode_frame("hello");
    d.feed(frame.data(), frame.size());
    std::string payload;
    ASSERT_EQ(d.next(payload), Status::frame);
    EXPECT_EQ(payload, "hello");
    EXPECT_EQ(d.next(payload), Status::need_more);
    EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, ByteByByte) {
    FrameDecoder d(1024);
    const std::string frame = encode_frame(std::string("a\0b", 3));
    std::string payload;
    for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
        d.feed(frame.data() + i, 1);
        ASSERT_EQ(d.next(payload), Status::need_more) << "after " << i + 1 << " bytes";
        EXPECT_EQ(d.buffered(), i + 1);
    }
    d.feed(frame.data() + frame.size() - 1, 1);
    ASSERT_EQ(d.next(payload), Status::frame);
    EXPECT_EQ(payload, std::string("a\0b", 3));
}

TEST(FrameDecoder, SeveralFramesInOneFeed) {
    FrameDecoder d(1024);
    const std::string bytes = encode_frame("one") + encode_frame("two") + encode_frame("three") + prefix(4) + "fo";
    d.feed(bytes.data(), bytes.size());
    std::string payload;
    ASSERT_EQ(d.next(payload), Status::frame);
    EXPECT_EQ(payload, "one");
    ASSERT_EQ(d.next(payload), Status::frame);
    EXPECT_EQ(payload, "two");
    ASSERT_EQ(d.next(payload), Status::frame);
    EXPECT_EQ(payload, "three");
    EXPECT_EQ(d.next(payload), Status::need_more);
    EXPECT_EQ(d.buffered(), 6u);
    d.feed("ur", 2);
    ASSERT_EQ(d.next(payload), Status::frame);
    EXPECT_EQ(payload, "four");
}

TEST(FrameDecoder, ZeroLengthIsTooLarge) {
    FrameDecoder d(1024);
    const std::string bytes = prefix(0);
    d.feed(bytes.data(), bytes.size());
    std::string payload;
    EXPECT_EQ(d.next(payload), Status::too_large);
    EXPECT_EQ(d.announced_length(), 0u);
}

TEST(FrameDecoder, LengthAboveTheMaximumIsTooLargeAndStaysSo) {
    FrameDecoder d(1024);
    std::string payload;
    const std::string ok = encode_frame(std::string(1024, 'x'));
    d.feed(ok.data(), ok.size());
    ASSERT_EQ(d.next(payload), Status::frame);  // exactly the maximum is fine
    EXPECT_EQ(payload.size(), 1024u);

    const std::string big = prefix(1025) + "xx";
    d.feed(big.data(), big.size());
    EXPECT_EQ(d.next(payload), Status::too_large);
    EXPECT_EQ(d.announced_length(), 1025u);
    // The stream cannot be resynchronised: every later call says so again.
    const std::string more = encode_frame("fine");
    d.feed(more.data(), more.size());
    EXPECT_EQ(d.next(payload), Status::too_large);
}

TEST(FrameDecoder, HugeAnnouncedLengthIsReportedWithoutWaitingForIt) {
    FrameDecoder d(16u << 20);
    const std::string bytes = prefix(0xffffffffu);
    d.feed(bytes.data(), bytes.size());
    std::string payload;
    EXPECT_EQ(d.next(payload), Status::too_large);
    EXPECT_EQ(d.announced_length(), 0xffffffffu);
}

TEST(FrameDecoder, RandomChunkingKeepsEveryFrameIntact) {
    std::mt19937 rng(42);
    std::vector<std::string> sent;
    std::string stream;
    for (int i = 0; i < 300; ++i) {
        std::string payload(1 + rng() % 5000, '\0');
        for (char& c : payload) c = static_cast<char>(rng());
        stream += encode_frame(payload);
        sent.push_back(std::move(payload));
    }
    FrameDecoder d(8192);
    std::vector<std::string> received;
    std::string payload;
    std::size_t at = 0;
    while (at < stream.size()) {
        const std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + rng() % 20000);
        d.feed(stream.data() + at, n);
        at += n;
        while (d.next(payload) == Status::frame) received.push_back(payload);
    }
    EXPECT_EQ(d.buffered(), 0u);
    ASSERT_EQ(received.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(received[i], sent[i]) << "frame " << i;
}

}  // namespace
}  // namespace sbx::protocol
