// Deterministic mutation fuzzing of the decoders: valid frames with bytes flipped, cut, inserted
// and their lengths changed, through FrameDecoder, decode_request, decode_reply and
// decode_result. Nothing may crash or throw; every failure must be a ProtocolError of a code the
// decoder may produce, with a message; whatever decodes must re-encode to a stable form.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "msgpack_value.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"
#include "protocol_samples.hpp"

namespace sbx::protocol {
namespace {

using mp::Array;
using mp::Bin;
using mp::Map;

constexpr int kIterations = 50'000;

std::vector<std::string> seed_payloads() {
    std::vector<std::string> seeds;
    const std::vector<RequestBody> requests = {samples::full_run(), RunRequest{}, HelloRequest{1, "fuzz"},
                                               CancelRequest{"j-1"}, StatusRequest{"j-2"}, StatusRequest{},
                                               PoliciesRequest{}, LanguagesRequest{}, StatsRequest{}, ReloadRequest{}};
    RequestId id = 1;
    for (const auto& body : requests) seeds.push_back(encode_request(Request{id++, body}));
    // What other clients send: strings for sizes and durations, str for bytes, nils, extras.
    seeds.push_back(mp::encode(Map{
        {"type", "run"},
        {"id", 77},
        {"language", "python"},
        {"source", "print(input())"},
        {"stdin", "5\n"},
        {"env", Map{{"A", "b"}}},
        {"limits", Map{{"memory_limit", "256MiB"}, {"wall_time_limit", "2.5s"}, {"cpu_time_limit", 1.5},
                       {"pids_limit", 16}, {"cpu_cores", 0.5}, {"stack_limit", nullptr}}},
        {"files", Array{Map{{"name", "a.txt"}, {"content", "x"}, {"executable", false}}}},
        {"tests", Array{Map{{"stdin", "1"}, {"expected_output", Bin{"1"}}, {"limits", Map{{"wall_time_limit", "1s"}}}}}},
        {"compare", "tokens"},
        {"float_tolerance", 0.001},
        {"future", Array{1, -1, 2.5, true, nullptr}},
    }));
    seeds.push_back(encode_hello(ServerHello{1, "sandboxd 0.1.0", {"run", "stream"}, 1u << 24, 32}));
    seeds.push_back(encode_result(1, HelloResult{}));
    seeds.push_back(encode_result(2, samples::full_run_result()));
    seeds.push_back(encode_result(3, CancelResult{true}));
    seeds.push_back(encode_result(4, samples::full_status()));
    seeds.push_back(encode_result(5, samples::full_policies()));
    seeds.push_back(encode_result(6, samples::full_languages()));
    seeds.push_back(encode_result(7, samples::full_stats()));
    seeds.push_back(encode_result(8, ReloadResult{2, 5}));
    seeds.push_back(encode_error(9, ErrorCode::busy, "queue full"));
    seeds.push_back(encode_error(std::nullopt, ErrorCode::malformed_frame, "bad"));
    Event e;
    e.event = "output";
    e.stage = "test";
    e.test = 2;
    e.stream = "stdout";
    e.data = std::string("\0\1\2", 3);
    seeds.push_back(encode_event(10, e));
    return seeds;
}

class Mutator {
public:
    explicit Mutator(std::uint64_t seed) : rng_(seed) {}

    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }
    char byte() { return static_cast<char>(rng_()); }

    void mutate(std::string& s, const std::vector<std::string>& others) {
        static constexpr unsigned char kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
                                                         0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xca, 0xcb, 0xcc, 0xcf, 0xd0,
                                                         0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
        switch (below(8)) {
            case 0:  // flip one bit
                if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
                break;
            case 1:  // one random byte
                if (!s.empty()) s[below(s.size())] = byte();
                break;
            case 2:  // a msgpack type byte somewhere
                if (!s.empty()) s[below(s.size())] = static_cast<char>(kInteresting[below(sizeof kInteresting)]);
                break;
            case 3:  // truncate
                s.resize(below(s.size() + 1));
                break;
            case 4: {  // insert random bytes
                std::string bytes(1 + below(8), '\0');
                for (char& c : bytes) c = byte();
                s.insert(below(s.size() + 1), bytes);
                break;
            }
            case 5: {  // delete a range
                const std::size_t at = below(s.size() + 1);
                s.erase(at, below(16));
                break;
            }
            case 6: {  // duplicate a range
                const std::size_t at = below(s.size() + 1);
                s.insert(below(s.size() + 1), s.substr(at, below(32)));
                break;
            }
            default: {  // splice with another seed
                const std::string& other = others[below(others.size())];
                s = s.substr(0, below(s.size() + 1)) + other.substr(below(other.size() + 1));
                break;
            }
        }
    }

private:
    std::mt19937_64 rng_;
};

struct Tally {
    int requests_ok = 0;
    int replies_ok = 0;
    int results_ok = 0;
    std::map<ErrorCode, int> request_errors;
    std::map<ErrorCode, int> reply_errors;
    int frames = 0;
    int too_large = 0;
};

template <class T>
void check_result(const Reply& reply, Tally& tally) {
    auto decoded = decode_result<T>(reply);
    if (decoded.ok()) {
        ++tally.results_ok;
        // What decodes encodes again and decodes to the same.
        const std::string again = encode_result(*reply.id, *decoded);
        auto back = decode_reply(again);
        ASSERT_TRUE(back.ok()) << back.error().message;
        ASSERT_TRUE(decode_result<T>(*back).ok());
        return;
    }
    EXPECT_EQ(decoded.error().code, ErrorCode::malformed_frame) << decoded.error().message;
    EXPECT_FALSE(decoded.error().message.empty());
}

void check_payload(const std::string& payload, Tally& tally) {
    static const std::set<ErrorCode> kRequestCodes = {ErrorCode::malformed_frame, ErrorCode::unknown_type,
                                                      ErrorCode::invalid_request};
    static const std::set<ErrorCode> kReplyCodes = {ErrorCode::malformed_frame, ErrorCode::unknown_type};

    auto request = decode_request(payload);
    if (request.ok()) {
        ++tally.requests_ok;
        const std::string stable = encode_request(*request);
        auto again = decode_request(stable);
        ASSERT_TRUE(again.ok()) << again.error().message;
        EXPECT_EQ(encode_request(*again), stable);
        EXPECT_EQ(again->id, request->id);
    } else {
        ++tally.request_errors[request.error().code];
        EXPECT_TRUE(kRequestCodes.count(request.error().code)) << to_string(request.error().code);
        EXPECT_FALSE(request.error().message.empty());
    }

    auto reply = decode_reply(payload);
    if (!reply.ok()) {
        ++tally.reply_errors[reply.error().code];
        EXPECT_TRUE(kReplyCodes.count(reply.error().code)) << to_string(reply.error().code);
        EXPECT_FALSE(reply.error().message.empty());
        return;
    }
    ++tally.replies_ok;
    if (reply->kind != Reply::Kind::result) return;
    check_result<HelloResult>(*reply, tally);
    check_result<RunResult>(*reply, tally);
    check_result<CancelResult>(*reply, tally);
    check_result<StatusResult>(*reply, tally);
    check_result<PoliciesResult>(*reply, tally);
    check_result<LanguagesResult>(*reply, tally);
    check_result<StatsResult>(*reply, tally);
    check_result<ReloadResult>(*reply, tally);
}

TEST(ProtocolFuzz, MutatedFramesNeverCrashAndFailOnlyWithProtocolErrors) {
    const std::vector<std::string> seeds = seed_payloads();
    Mutator m(0x5eed5a17dULL);
    Tally tally;
    constexpr std::size_t kMaxFrame = 64u << 10;
    for (int i = 0; i < kIterations && !HasFailure(); ++i) {
        // Payloads straight into the decoders.
        std::string payload = seeds[m.below(seeds.size())];
        const std::size_t rounds = 1 + m.below(4);
        for (std::size_t r = 0; r < rounds; ++r) m.mutate(payload, seeds);
        check_payload(payload, tally);

        // And as a byte stream: a few frames, some lengths changed, fed in random chunks.
        std::string stream;
        for (std::size_t f = 0, n = 1 + m.below(3); f < n; ++f) {
            std::string frame = encode_frame(f == 0 ? payload : seeds[m.below(seeds.size())]);
            if (m.below(4) == 0) frame[m.below(4)] = m.byte();  // a changed length prefix
            stream += frame;
        }
        FrameDecoder decoder(kMaxFrame);
        std::string frame;
        std::size_t at = 0;
        bool dead = false;
        while (at < stream.size() && !dead) {
            const std::size_t n = std::min(stream.size() - at, 1 + m.below(512));
            decoder.feed(stream.data() + at, n);
            at += n;
            for (;;) {
                const auto status = decoder.next(frame);
                if (status == FrameDecoder::Status::need_more) break;
                if (status == FrameDecoder::Status::too_large) {
                    ++tally.too_large;
                    EXPECT_TRUE(decoder.announced_length() == 0 || decoder.announced_length() > kMaxFrame);
                    dead = true;
                    break;
                }
                ++tally.frames;
                EXPECT_FALSE(frame.empty());
                EXPECT_LE(frame.size(), kMaxFrame);
                check_payload(frame, tally);
            }
        }
    }
    // The mutations reached every outcome, not just the first byte check.
    EXPECT_GT(tally.requests_ok, 1000);
    EXPECT_GT(tally.replies_ok, 1000);
    EXPECT_GT(tally.results_ok, 1000);
    EXPECT_GT(tally.request_errors[ErrorCode::malformed_frame], 1000);
    EXPECT_GT(tally.request_errors[ErrorCode::unknown_type], 100);
    EXPECT_GT(tally.request_errors[ErrorCode::invalid_request], 100);
    EXPECT_GT(tally.reply_errors[ErrorCode::malformed_frame], 1000);
    EXPECT_GT(tally.too_large, 100);
    EXPECT_GT(tally.frames, kIterations);
    std::cout << "requests ok " << tally.requests_ok << ", malformed "
              << tally.request_errors[ErrorCode::malformed_frame] << ", unknown_type "
              << tally.request_errors[ErrorCode::unknown_type] << ", invalid_request "
              << tally.request_errors[ErrorCode::invalid_request] << "; replies ok " << tally.replies_ok
              << ", results ok " << tally.results_ok << "; frames " << tally.frames << ", too large "
              << tally.too_large << "\n";
}

}  // namespace
}  // namespace sbx::protocol
