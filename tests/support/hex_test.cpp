#include <attendance/support/hex.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

using attendance::support::parseHex;
using attendance::support::toHex;

TEST(Hex, ReadsEitherCaseAndWritesLowercase) {
  std::array<std::uint8_t, 4> bytes{};
  ASSERT_TRUE(parseHex("00aBcDfF", bytes));
  EXPECT_EQ(bytes, (std::array<std::uint8_t, 4>{0x00, 0xab, 0xcd, 0xff}));
  EXPECT_EQ(toHex(bytes), "00abcdff");
  EXPECT_EQ(toHex(std::span<const std::uint8_t>{}), "");
}

TEST(Hex, RefusesAnyOtherLengthOrCharacter) {
  std::array<std::uint8_t, 2> bytes{};
  EXPECT_FALSE(parseHex("abc", bytes));         // short
  EXPECT_FALSE(parseHex("abcdef", bytes));      // long
  EXPECT_FALSE(parseHex("ab-d", bytes));        // not a digit
  EXPECT_FALSE(parseHex("0xab", bytes));        // no prefix
  EXPECT_FALSE(parseHex("abc ", bytes));        // no space
  EXPECT_FALSE(parseHex("ab\xc3\xa9", bytes));  // not ASCII
  EXPECT_TRUE(parseHex("", std::span<std::uint8_t>{}));
}
