// Judging a test case's output: the four comparison modes, and what each must not accept.
#include <gtest/gtest.h>

#include "daemon/jobs/output_compare.hpp"

namespace sbx::jobs {
namespace {

using protocol::CompareMode;

bool match(std::string_view actual, std::string_view expected, CompareMode mode, double tolerance = 1e-6) {
    return outputs_match(actual, expected, mode, tolerance);
}

TEST(OutputCompare, ExactIsByteForByte) {
    EXPECT_TRUE(match("3\n", "3\n", CompareMode::exact));
    EXPECT_FALSE(match("3", "3\n", CompareMode::exact));
    EXPECT_FALSE(match("3 \n", "3\n", CompareMode::exact));
    EXPECT_FALSE(match("3\r\n", "3\n", CompareMode::exact));
    EXPECT_TRUE(match("", "", CompareMode::exact));
}

TEST(OutputCompare, TrailingWhitespaceIgnoresLineEndsAndFinalEmptyLinesOnly) {
    const auto mode = CompareMode::trailing_whitespace;
    EXPECT_TRUE(match("1 2  \n3\t\n\n\n", "1 2\n3", mode));
    EXPECT_TRUE(match("a\r\nb\r\n", "a\nb\n", mode));
    EXPECT_TRUE(match("", "\n\n", mode));
    // Leading and inner whitespace still count, and so do empty lines between others.
    EXPECT_FALSE(match(" 1\n", "1\n", mode));
    EXPECT_FALSE(match("1  2\n", "1 2\n", mode));
    EXPECT_FALSE(match("1\n\n2\n", "1\n2\n", mode));
    EXPECT_FALSE(match("12\n", "1\n2\n", mode));
}

TEST(OutputCompare, TokensIgnoreAllWhitespaceButNotTheirOrder) {
    const auto mode = CompareMode::tokens;
    EXPECT_TRUE(match("1   2\n\n3", " 1\t2 3 \n", mode));
    EXPECT_FALSE(match("1 2 3", "1 3 2", mode));
    EXPECT_FALSE(match("12 3", "1 2 3", mode));
    EXPECT_FALSE(match("1 2", "1 2 3", mode));
    EXPECT_FALSE(match("1.0", "1", mode));  // tokens are text here
}

TEST(OutputCompare, FloatToleranceIsAbsoluteOrRelativeWhicheverIsLooser) {
    const auto mode = CompareMode::float_tolerance;
    EXPECT_TRUE(match("0.3333333", "0.33333333333", mode, 1e-6));
    EXPECT_TRUE(match("1.0 2", "1 2.0000000001", mode, 1e-6));
    EXPECT_FALSE(match("0.333", "0.33333333333", mode, 1e-6));
    // Relative: 1e12 vs 1e12+1000 differ by 1e-9 of their size.
    EXPECT_TRUE(match("1000000001000", "1e12", mode, 1e-6));
    EXPECT_FALSE(match("1002000000000", "1e12", mode, 1e-6));
    // Words must match exactly; numbers cannot stand in for words.
    EXPECT_TRUE(match("YES 0.5", "YES 0.5000001", mode, 1e-6));
    EXPECT_FALSE(match("NO 0.5", "YES 0.5", mode, 1e-6));
    EXPECT_FALSE(match("1", "one", mode, 1e-6));
    // The number of tokens must agree; NaN only matches NaN.
    EXPECT_FALSE(match("1 2", "1", mode, 1e-6));
    EXPECT_TRUE(match("nan", "nan", mode, 1e-6));
    EXPECT_FALSE(match("nan", "0", mode, 1e-6));
    EXPECT_FALSE(match("1x", "1", mode, 1e-6));
}

}  // namespace
}  // namespace sbx::jobs
