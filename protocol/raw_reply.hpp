// Internal to the protocol library: what Reply::raw holds for a result, so that decode_result<T>
// can decode the body once the caller knows which type to expect.
#pragma once

#include <string>

#include <msgpack.hpp>

namespace sbx::protocol::detail {

struct RawResult {
    std::string payload;            // the frame; the parsed objects point into it
    msgpack::object_handle handle;  // the whole reply
    const msgpack::object* body = nullptr;  // its "result" map
};

}  // namespace sbx::protocol::detail
