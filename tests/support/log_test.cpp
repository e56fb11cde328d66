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
