#include <gtest/gtest.h>

#include <string>

#include <attendance/support/utf8.hpp>

using attendance::support::isValidUtf8;
using attendance::support::utf8Prefix;
using attendance::support::utf8SequenceLength;

TEST(Utf8, AcceptsWellFormedTextOfEveryLength) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ASCII"));
  EXPECT_TRUE(isValidUtf8(std::string_view("nul \0 is a character", 20)));
  EXPECT_TRUE(isValidUtf8("Zo\xC3\xAB"));        // ë, 2 bytes
  EXPECT_TRUE(isValidUtf8("\xE2\x82\xAC"));      // €, 3 bytes
  EXPECT_TRUE(isValidUtf8("\xF0\x9F\x8E\x9F"));  // 🎟, 4 bytes
  // The edges of each length and around the surrogates.
  EXPECT_TRUE(isValidUtf8("\x7F"));
  EXPECT_TRUE(isValidUtf8("\xC2\x80"));          // U+0080
  EXPECT_TRUE(isValidUtf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(isValidUtf8("\xE0\xA0\x80"));      // U+0800
  EXPECT_TRUE(isValidUtf8("\xED\x9F\xBF"));      // U+D7FF
  EXPECT_TRUE(isValidUtf8("\xEE\x80\x80"));      // U+E000
  EXPECT_TRUE(isValidUtf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(isValidUtf8("\xF0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(isValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8, RefusesBytesThatAreNoCharacter) {
  EXPECT_FALSE(isValidUtf8("\xFF"));
  EXPECT_FALSE(isValidUtf8("\xFE"));
  EXPECT_FALSE(
      isValidUtf8("a\x80"
                  "b"));                      // continuation byte without a lead
  EXPECT_FALSE(isValidUtf8("\xC3\xA9\xA9"));  // one continuation too many
  EXPECT_FALSE(
      isValidUtf8("\xC3"
                  "a"));                              // lead byte followed by ASCII
  EXPECT_FALSE(isValidUtf8("\xF8\x88\x80\x80\x80"));  // 5-byte form (old RFC 2279)
}

TEST(Utf8, RefusesOverlongEncodings) {
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // '/' in 2 bytes
  EXPECT_FALSE(isValidUtf8("\xC1\xBF"));          // U+007F in 2 bytes
  EXPECT_FALSE(isValidUtf8("\xC0\x80"));          // NUL in 2 bytes ("modified UTF-8")
  EXPECT_FALSE(isValidUtf8("\xE0\x80\xAF"));      // '/' in 3 bytes
  EXPECT_FALSE(isValidUtf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  EXPECT_FALSE(isValidUtf8("\xF0\x80\x80\xAF"));  // '/' in 4 bytes
  EXPECT_FALSE(isValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

TEST(Utf8, RefusesSurrogatesAndCodePointsPastU10FFFF) {
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(isValidUtf8("\xED\xAF\xBF"));              // U+DBFF
  EXPECT_FALSE(isValidUtf8("\xED\xB0\x80"));              // U+DC00
  EXPECT_FALSE(isValidUtf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(isValidUtf8("\xED\xA0\xBD\xED\xB8\x80"));  // a surrogate pair spelled as CESU-8
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));          // U+110000
  EXPECT_FALSE(isValidUtf8("\xF7\xBF\xBF\xBF"));          // U+1FFFFF
}

TEST(Utf8, RefusesSequencesCutShort) {
  EXPECT_FALSE(isValidUtf8("\xC3"));
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));
  EXPECT_FALSE(isValidUtf8("\xF0\x9F\x8E"));
  EXPECT_FALSE(isValidUtf8("abc\xF0\x9F"));
}

TEST(Utf8, SequenceLengthLooksAtOnePosition) {
  const std::string_view text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\x9F\xFF";
  EXPECT_EQ(utf8SequenceLength(text, 0), 1U);
  EXPECT_EQ(utf8SequenceLength(text, 1), 2U);
  EXPECT_EQ(utf8SequenceLength(text, 2), 0U);  // inside the é
  EXPECT_EQ(utf8SequenceLength(text, 3), 3U);
  EXPECT_EQ(utf8SequenceLength(text, 6), 4U);
  EXPECT_EQ(utf8SequenceLength(text, 10), 0U);
  EXPECT_EQ(utf8SequenceLength(text.substr(0, 8), 6), 0U);  // the 🎟 cut short by the view
}

TEST(Utf8, PrefixNeverEndsInsideACharacter) {
  EXPECT_EQ(utf8Prefix("abc", 5), "abc");
  EXPECT_EQ(utf8Prefix("abc", 3), "abc");
  EXPECT_EQ(utf8Prefix("abc", 2), "ab");
  EXPECT_EQ(utf8Prefix("abc", 0), "");
  const std::string_view e = "\xC3\xA9\xC3\xA9";  // éé
  EXPECT_EQ(utf8Prefix(e, 3), "\xC3\xA9");
  EXPECT_EQ(utf8Prefix(e, 2), "\xC3\xA9");
  EXPECT_EQ(utf8Prefix(e, 1), "");
  const std::string_view ticket = "a\xF0\x9F\x8E\x9F";  // a🎟
  for (std::size_t n = 1; n < 5; ++n) EXPECT_EQ(utf8Prefix(ticket, n), "a") << n;
  EXPECT_EQ(utf8Prefix(ticket, 5), ticket);
}

TEST(Utf8, EveryPrefixOfValidTextIsValid) {
  // 'é' repeated past a limit, with the limit on every byte offset: the case that
  // reached PostgreSQL as half a character.
  std::string text = "a";
  for (int i = 0; i < 120; ++i) text += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\x9F";
  for (std::size_t limit = 0; limit <= text.size(); ++limit) {
    const auto cut = utf8Prefix(text, limit);
    ASSERT_TRUE(isValidUtf8(cut)) << limit;
    ASSERT_LE(cut.size(), limit);
    ASSERT_GT(cut.size() + 4, limit) << "cut more than one character";
  }
}

TEST(Utf8, PrefixOfInvalidTextStopsWithinThreeBytes) {
  const std::string run(10, '\x80');
  EXPECT_EQ(utf8Prefix(run, 8).size(), 5U);
}
