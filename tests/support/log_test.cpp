#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <attendance/support/log.hpp>

namespace log = attendance::support::log;

TEST(Log, FormatsOneJsonObjectWithTypedFields) {
  const std::string line = log::formatLine("2026-11-24T03:49:15.123Z", log::Level::warn, "scanner.disk_full",
                                           {{"path", "/var/lib/a \"b\""}, {"pending", 12}, {"retry", true}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-24T03:49:15.123Z\",\"level\":\"warn\",\"event\":\"scanner.disk_full\","
            "\"path\":\"/var/lib/a \\\"b\\\"\",\"pending\":12,\"retry\":true}");
}

TEST(Log, FieldsNeverDuplicateTheEnvelopeKeys) {
  const std::string line =
      log::formatLine("2026-11-24T03:49:15.123Z", log::Level::info, "admin.deleted", {{"event", "ev-1"}, {"level", 3}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-24T03:49:15.123Z\",\"level\":\"info\",\"event\":\"admin.deleted\","
            "\"field.event\":\"ev-1\",\"field.level\":3}");
}

TEST(Log, TextLinesCarryTheSameFieldsAsWords) {
  const std::string line =
      log::formatTextLine("2026-11-24T03:49:15.123Z", log::Level::warn, "http.access",
                          {{"path", "/api/a b"}, {"status", 404}, {"ok", false}, {"ms", 1.5}}, false);
  EXPECT_EQ(line, "2026-11-24T03:49:15.123Z warn http.access path=\"/api/a b\" status=404 ok=false ms=1.5");
}

TEST(Log, TextLinesForTheJournalHaveThePriorityPrefixAndNoTime) {
  EXPECT_EQ(log::formatTextLine("ignored", log::Level::error, "http.handler_failed", {{"route", "/x"}}, true),
            "<3>http.handler_failed route=/x");
  EXPECT_EQ(log::formatTextLine("ignored", log::Level::info, "backend.exit", {{"code", 0}}, true),
            "<6>backend.exit code=0");
}

TEST(Log, TextValuesThatCouldBeMisreadAreQuoted) {
  const std::string line = log::formatTextLine(
      "t", log::Level::info, "e", {{"a", ""}, {"b", "x=y"}, {"c", "say \"hi\""}, {"d", "line\nbreak"}}, false);
  EXPECT_EQ(line, "t info e a=\"\" b=\"x=y\" c=\"say \\\"hi\\\"\" d=\"line\\nbreak\"");
}

TEST(Log, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(log::stderrIsJournal());
  ::setenv("JOURNAL_STREAM", "1:1", 1);
  EXPECT_FALSE(log::stderrIsJournal());
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  EXPECT_TRUE(log::stderrIsJournal());
  ::unsetenv("JOURNAL_STREAM");
}

TEST(Log, NumbersAreWrittenInFullAndDoublesInTheirShortestForm) {
  const std::string line = log::formatLine("2026-11-24T03:49:15.123Z", log::Level::info, "scanner.status",
                                           {{"lines", std::int64_t{-9007199254740993}},
                                            {"devices", 4096U},
                                            {"ratio", 0.1},
                                            {"whole", 2.0},
                                            {"tiny", 1.5e-7}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-24T03:49:15.123Z\",\"level\":\"info\",\"event\":\"scanner.status\","
            "\"lines\":-9007199254740993,\"devices\":4096,\"ratio\":0.1,\"whole\":2,\"tiny\":1.5e-07}");
}
