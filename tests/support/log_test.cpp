#include <gtest/gtest.h>

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
