// Internal to the protocol library: how large a frame the clients accept from the server.
// The server's max_frame bounds what clients send; its own frames are not bound by it (a run
// result carries every stage's and test's output), so the clients read frames up to this size.
#pragma once

#include <cstddef>

namespace sbx::protocol::detail {

inline constexpr std::size_t kMaxReplyFrame = std::size_t{1} << 30;

}  // namespace sbx::protocol::detail
