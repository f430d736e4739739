// The frames between sandboxd and a session driver: untrusted input, bounded and checked.
#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "daemon/sessions/driver_protocol.hpp"

namespace sbx::sessions {
namespace {

TEST(DriverFrames, EncodeAndDecodeInPieces) {
    std::string bytes = encode_driver_frame("{\"ready\":true}") + encode_exec_request("print('é')\n");
    EXPECT_EQ(bytes.substr(0, 3), "14\n");
    DriverFrameDecoder decoder;
    std::string frame;
    std::vector<std::string> frames;
    for (char c : bytes) {  // one byte at a time, as a socket may deliver them
        decoder.feed(&c, 1);
        while (decoder.next(frame) == DriverFrameDecoder::Status::frame) frames.push_back(frame);
    }
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0], "{\"ready\":true}");
    EXPECT_EQ(frames[1], "{\"code\":\"print('é')\\n\"}");
}

TEST(DriverFrames, BadHeadersAndOversizedFramesAreFinal) {
    std::string frame;
    DriverFrameDecoder letters;
    letters.feed("abc\n{}", 6);
    EXPECT_EQ(letters.next(frame), DriverFrameDecoder::Status::invalid);
    EXPECT_NE(letters.error().find("not a decimal length"), std::string::npos);
    EXPECT_EQ(letters.next(frame), DriverFrameDecoder::Status::invalid);
    DriverFrameDecoder big(100);
    big.feed("101\n", 4);
    EXPECT_EQ(big.next(frame), DriverFrameDecoder::Status::invalid);
    EXPECT_NE(big.error().find("101 bytes"), std::string::npos);
    DriverFrameDecoder endless;
    std::string digits(11, '7');
    endless.feed(digits.data(), digits.size());
    EXPECT_EQ(endless.next(frame), DriverFrameDecoder::Status::invalid) << "a header never ends";
}

TEST(DriverReplies, ReadyAndReplyFields) {
    EXPECT_EQ(parse_ready("{\"ready\": true, \"version\": \"3.11.2\"}")->version, "3.11.2");
    EXPECT_FALSE(parse_ready("{\"status\": \"ok\"}"));
    EXPECT_FALSE(parse_ready("[1]"));
    std::string png("\x89PNG\r\n\x1a\n", 8);
    auto r = parse_reply("{\"status\": \"error\", \"exit_code\": 1, \"value\": null, \"error\": {\"name\": \"E\", "
                         "\"value\": \"v\", \"traceback\": \"t\"}, \"images\": [{\"mime\": \"image/png\", \"data\": \"" +
                             base64_encode(png) + "\"}]}",
                         {});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->failed);
    EXPECT_EQ(r->exit_code, 1);
    EXPECT_FALSE(r->value);
    ASSERT_TRUE(r->error);
    EXPECT_EQ(r->error->name, "E");
    ASSERT_EQ(r->images.size(), 1u);
    EXPECT_EQ(r->images[0].data, png);
}

TEST(DriverReplies, WrongTypesAreRefusedAndLargeFieldsCut) {
    EXPECT_FALSE(parse_reply("{\"status\": \"fine\"}", {}));
    EXPECT_FALSE(parse_reply("{\"status\": \"ok\", \"value\": 5}", {}));
    EXPECT_FALSE(parse_reply("{\"status\": \"ok\", \"exit_code\": \"0\"}", {}));
    EXPECT_FALSE(parse_reply("{\"status\": \"ok\", \"images\": [{\"mime\": \"image/png\", \"data\": \"!!\"}]}", {}));
    EXPECT_FALSE(parse_reply("not json", {}));
    ReplyCaps caps;
    caps.text_bytes = 4;
    caps.image_bytes = 3;
    auto r = parse_reply("{\"status\": \"ok\", \"value\": \"é123456\", \"images\": [{\"mime\": \"image/png\", "
                         "\"data\": \"" + base64_encode("abcd") + "\"}]}",
                         caps);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*r->value, "é12") << "cut at a character boundary";
    EXPECT_TRUE(r->images.empty());
    EXPECT_NE(r->notes.find("value cut at 4 bytes"), std::string::npos) << r->notes;
    EXPECT_NE(r->notes.find("images beyond 3 bytes left out"), std::string::npos) << r->notes;
}

}  // namespace
}  // namespace sbx::sessions
