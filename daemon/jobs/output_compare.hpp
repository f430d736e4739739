// Judging a test case's output against the expected output.
//   exact                byte for byte
//   trailing_whitespace  equal after removing trailing whitespace of every line and trailing
//                        empty lines (the default: what judges call "ignore trailing spaces")
//   tokens               equal sequences of whitespace-separated tokens
//   float_tolerance      like tokens, but tokens that both parse as numbers may differ by the
//                        tolerance (absolute or relative, whichever is looser)
#pragma once

#include <string_view>

#include "protocol/messages.hpp"

namespace sbx::jobs {

bool outputs_match(std::string_view actual, std::string_view expected, protocol::CompareMode mode,
                   double tolerance);

}  // namespace sbx::jobs
