// Whole small text files (/proc and cgroupfs entries): the content, or "" when unreadable.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace sbx {

inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace sbx
