#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <attendance/jsonl_log/reader.hpp>
#include "jsonl_log/log_fixtures.hpp"
#include "support/temp_dir.hpp"

using attendance::jsonl_log::CheckIn;
using attendance::jsonl_log::formatLine;
using attendance::jsonl_log::LogLine;
using attendance::jsonl_log::ParseErrc;
using attendance::jsonl_log::Reader;
using attendance::testing::readFile;
using attendance::testing::TempDir;
using attendance::testing::writeFile;

namespace {

CheckIn record(int n) {
  CheckIn c;
  c.bleUuid.bytes[0] = 0xb2;
  c.bleUuid.bytes[15] = static_cast<std::uint8_t>(n);
  c.checkInTime = 1721471400000 + n;
  c.scannerId = "S";
  c.eventId = n % 2 == 0 ? "even" : "odd";
  return c;
}

}  // namespace

TEST(Reader, YieldsRecordsWithOffsetsAndReportsBadLinesAndKeepsGoing) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string l1 = formatLine(record(1));
  const std::string bad = "{\"bleUuid\":\"nope\",\"checkInTime\":1,\"scannerId\":\"S\",\"eventId\":\"e\"}\n";
  const std::string l3 = formatLine(record(3));
  writeFile(log, l1 + bad + "\n" + l3);
  const auto all = attendance::testing::readAllLines(log);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].kind, LogLine::Kind::record);
  EXPECT_EQ(all[0].record, record(1));
  EXPECT_EQ(all[0].lineNumber, 1u);
  EXPECT_EQ(all[0].startOffset, 0u);
  EXPECT_EQ(all[0].endOffset, l1.size());
  EXPECT_EQ(all[1].kind, LogLine::Kind::bad);
  EXPECT_EQ(all[1].error, ParseErrc::bad_ble_uuid);
  EXPECT_EQ(all[1].lineNumber, 2u);
  EXPECT_EQ(all[1].startOffset, l1.size());
  EXPECT_EQ(all[2].kind, LogLine::Kind::record);
  EXPECT_EQ(all[2].lineNumber, 4u);  // the empty line 3 is skipped but counted
  EXPECT_EQ(all[2].startOffset, l1.size() + bad.size() + 1);
  EXPECT_EQ(all[2].endOffset, l1.size() + bad.size() + 1 + l3.size());
  EXPECT_TRUE(all[2].terminated);
}

TEST(Reader, ResumesFromAnOffsetWithTheGivenLineNumber) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  std::string content;
  for (int i = 0; i < 10; ++i) content += formatLine(record(i));
  writeFile(log, content);
  const auto all = attendance::testing::readAllLines(log);
  ASSERT_EQ(all.size(), 10u);
  const auto rest = attendance::testing::readAllLines(log, {.startOffset = all[6].startOffset, .startLine = 7});
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest[0].record, record(6));
  EXPECT_EQ(rest[0].lineNumber, 7u);
  EXPECT_EQ(rest[3].endOffset, content.size());
}

TEST(Reader, ReportsAnUnterminatedLastLine) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string l1 = formatLine(record(1));
  writeFile(log, l1 + "{\"bleUuid\":\"b2");
  const auto all = attendance::testing::readAllLines(log);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].kind, LogLine::Kind::bad);
  EXPECT_EQ(all[1].error, ParseErrc::unterminated_line);
  EXPECT_FALSE(all[1].terminated);
  EXPECT_EQ(all[1].lineNumber, 2u);
}

TEST(Reader, SkipsOverLongLinesInConstantMemory) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string huge = "{\"x\":\"" + std::string(300000, 'a') + "\"}\n";
  const std::string l = formatLine(record(2));
  writeFile(log, l + huge + l);
  const auto all = attendance::testing::readAllLines(log);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].error, ParseErrc::line_too_long);
  EXPECT_EQ(all[1].startOffset, l.size());
  EXPECT_EQ(all[1].endOffset, l.size() + huge.size());
  EXPECT_EQ(all[2].record, record(2));
  EXPECT_EQ(all[2].lineNumber, 3u);
}

TEST(Reader, ManyLinesAcrossBufferBoundaries) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  std::string content;
  for (int i = 0; i < 20000; ++i) content += formatLine(record(i % 256));
  writeFile(log, content);
  auto r = Reader::open(log);
  ASSERT_TRUE(r);
  LogLine l;
  std::uint64_t n = 0;
  std::uint64_t expectedStart = 0;
  while (true) {
    auto more = r->next(l);
    ASSERT_TRUE(more);
    if (!*more) break;
    ASSERT_EQ(l.kind, LogLine::Kind::record) << l.lineNumber;
    ASSERT_EQ(l.startOffset, expectedStart);
    ASSERT_EQ(l.record, record(static_cast<int>(n % 256)));
    expectedStart = l.endOffset;
    ++n;
  }
  EXPECT_EQ(n, 20000u);
  EXPECT_EQ(r->offset(), content.size());
}

TEST(Reader, MissingFileIsAClearError) {
  TempDir dir;
  const auto r = Reader::open(dir / "nope.jsonl");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("nope.jsonl"), std::string::npos);
}

TEST(Reader, OptionalKeysOfAPreviousLineDoNotLeakIntoTheNext) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  CheckIn full = record(1);
  full.rssi = -50;
  full.bootId = "boot";
  full.bootMs = 42;
  writeFile(log, formatLine(full) + formatLine(record(2)));
  const auto all = attendance::testing::readAllLines(log);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].record, full);
  EXPECT_EQ(all[1].record, record(2));
  EXPECT_FALSE(all[1].record.rssi);
  EXPECT_FALSE(all[1].record.bootId);
  EXPECT_FALSE(all[1].record.bootMs);
}

// A log the original Python scanner started (json.dumps, three keys), continued by
// ours: every line is a record, and only ours carry an event.
TEST(Reader, ReadsOriginalDesignLinesAsRecordsWithoutEvent) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string python =
      R"({"bleUuid": "b2000000-0000-4000-8000-000000000001", "checkInTime": 1721471400000, "scannerId": "S"})"
      "\n"
      R"({"bleUuid": "B2000000-0000-4000-8000-000000000002", "checkInTime": 1721471405000, "scannerId": "S"})"
      "\n";
  writeFile(log, python + formatLine(record(2)));
  const auto all = attendance::testing::readAllLines(log);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].kind, LogLine::Kind::record) << all[0].error.message();
  EXPECT_EQ(all[1].kind, LogLine::Kind::record) << all[1].error.message();
  EXPECT_FALSE(all[0].record.eventId);
  EXPECT_FALSE(all[1].record.eventId);
  EXPECT_EQ(all[1].record.bleUuid.toString(), "b2000000-0000-4000-8000-000000000002");
  EXPECT_EQ(all[1].record.checkInTime, 1721471405000);
  EXPECT_EQ(all[2].record, record(2));
  EXPECT_EQ(all[2].startOffset, python.size());
}
