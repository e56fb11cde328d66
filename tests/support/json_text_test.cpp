#include <gtest/gtest.h>

#include <attendance/support/json_text.hpp>

using attendance::support::appendJsonString;

namespace {
std::string quoted(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}
}  // namespace

TEST(JsonText, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(quoted("Entrance-Scanner-01"), "\"Entrance-Scanner-01\"");
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted(std::string_view("\n\t\x01", 3)), "\"\\n\\t\\u0001\"");
}

TEST(JsonText, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(quoted("Zoë 🎟"), "\"Zoë 🎟\"");
  EXPECT_EQ(quoted("a\xff"
                   "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(quoted("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong '/'
}
