#include "common/result.hpp"

#include <cstring>

namespace sbx {

std::string Error::message() const {
    std::string out = context;
    auto append = [&out](const std::string& part) {
        if (part.empty()) return;
        if (!out.empty()) out += ": ";
        out += part;
    };
    append(detail);
    if (errnum != 0) append(std::strerror(errnum));
    return out.empty() ? std::string("unknown error") : out;
}

}  // namespace sbx
