// The last-seen line (issue 13 §2, ADR 0026): its format, and that readers of check-ins
// (the sync, the scanner's re-seeding) are not disturbed by it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <attendance/jsonl_log/last_seen.hpp>
#include <attendance/jsonl_log/reader.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include "jsonl_log/log_fixtures.hpp"
#include "support/temp_dir.hpp"

using attendance::jsonl_log::CheckIn;
using attendance::jsonl_log::formatLastSeenLine;
using attendance::jsonl_log::formatLine;
using attendance::jsonl_log::isLastSeenLine;
using attendance::jsonl_log::LastSeen;
using attendance::jsonl_log::LogLine;
using attendance::jsonl_log::ParseErrc;
using attendance::jsonl_log::parseLastSeenLine;
using attendance::jsonl_log::parseLine;
using attendance::jsonl_log::Reader;
using attendance::jsonl_log::ReaderOptions;
using attendance::jsonl_log::Writer;
using attendance::support::Uuid;
using attendance::testing::readFile;
using attendance::testing::TempDir;
using attendance::testing::writeFile;

namespace {

const Uuid kId = *Uuid::parse("a1b2c3d4-e5f6-4711-8899-aabbccddeeff");

LastSeen sample() {
  LastSeen s;
  s.lastSeen = 1721473200000;
  s.bleUuid = kId;
  s.scannerId = "Entrance-Scanner-01";
  s.eventId = "evt-2026-kickoff";
  s.firstSeen = 1721471400000;
  s.sightings = 1800;
  s.left = true;
  return s;
}

CheckIn checkIn() {
  CheckIn c;
  c.bleUuid = kId;
  c.checkInTime = 1721471400000;
  c.scannerId = "Entrance-Scanner-01";
  c.eventId = "evt-2026-kickoff";
  return c;
}

}  // namespace

TEST(LastSeenLine, HasTheDocumentedShapeAndParsesBack) {
  const std::string line = formatLastSeenLine(sample());
  EXPECT_EQ(line,
            "{\"lastSeen\":1721473200000,\"bleUuid\":\"a1b2c3d4-e5f6-4711-8899-aabbccddeeff\",\"scannerId\":"
            "\"Entrance-Scanner-01\",\"eventId\":\"evt-2026-kickoff\",\"firstSeen\":1721471400000,\"sightings\":1800,"
            "\"left\":true}\n");
  const auto back = parseLastSeenLine(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, sample());

  LastSeen stillThere = sample();
  stillThere.left = false;
  stillThere.eventId.reset();
  const std::string l2 = formatLastSeenLine(stillThere);
  EXPECT_NE(l2.find("\"left\":false}"), std::string::npos);
  EXPECT_EQ(l2.find("eventId"), std::string::npos);
  EXPECT_EQ(*parseLastSeenLine(std::string_view(l2).substr(0, l2.size() - 1)), stillThere);
}

TEST(LastSeenLine, IsNotACheckInAndACheckInIsNotALastSeenLine) {
  std::string line = formatLastSeenLine(sample());
  line.pop_back();
  EXPECT_TRUE(isLastSeenLine(line));
  EXPECT_TRUE(isLastSeenLine(" { \"lastSeen\" : 1}"));
  // A check-in reader (ours or the design note's) never takes it for a check-in.
  EXPECT_EQ(parseLine(line).error(), ParseErrc::missing_check_in_time);
  std::string ci = formatLine(checkIn());
  ci.pop_back();
  EXPECT_FALSE(isLastSeenLine(ci));
  EXPECT_FALSE(isLastSeenLine("{\"bleUuid\":\"x\",\"lastSeen\":1}"));
  EXPECT_EQ(parseLastSeenLine(ci).error(), ParseErrc::missing_last_seen);
}

TEST(LastSeenLine, RejectsWrongTypesNamingTheKey) {
  const auto bad = [](std::string_view l) { return parseLastSeenLine(l).error(); };
  const std::string rest = R"(,"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","scannerId":"S")";
  EXPECT_EQ(bad(R"({"lastSeen":-1)" + rest + R"(,"firstSeen":1,"sightings":1,"left":true})"), ParseErrc::bad_last_seen);
  EXPECT_EQ(bad(R"({"lastSeen":1)" + rest + R"(,"firstSeen":"x","sightings":1,"left":true})"),
            ParseErrc::bad_first_seen);
  EXPECT_EQ(bad(R"({"lastSeen":1)" + rest + R"(,"firstSeen":1,"sightings":1.5,"left":true})"),
            ParseErrc::bad_sightings);
  EXPECT_EQ(bad(R"({"lastSeen":1)" + rest + R"(,"firstSeen":1,"sightings":1,"left":1})"), ParseErrc::bad_left);
  EXPECT_EQ(bad(R"({"lastSeen":1)" + rest + R"(,"firstSeen":1,"sightings":1})"), ParseErrc::bad_left);
  EXPECT_EQ(bad(R"({"lastSeen":1,"scannerId":"S","firstSeen":1,"sightings":1,"left":true})"),
            ParseErrc::missing_ble_uuid);
}

TEST(LastSeenLine, TheReaderSkipsThemUnlessAskedAndReportsBrokenOnes) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string ci = formatLine(checkIn());
  const std::string ls = formatLastSeenLine(sample());
  const std::string broken = "{\"lastSeen\":1,\"bleUuid\":\"nope\"}\n";
  writeFile(log, ci + ls + broken + ci);

  // What the sync and the scanner's re-seeding see: the check-ins, and the broken line as bad.
  const auto plain = attendance::testing::readAllLines(log);
  ASSERT_EQ(plain.size(), 3U);
  EXPECT_EQ(plain[0].kind, LogLine::Kind::record);
  EXPECT_EQ(plain[1].kind, LogLine::Kind::bad);
  EXPECT_EQ(plain[1].lineNumber, 3U);
  EXPECT_EQ(plain[2].kind, LogLine::Kind::record);
  EXPECT_EQ(plain[2].lineNumber, 4U);

  const auto all = attendance::testing::readAllLines(log, ReaderOptions{.lastSeenLines = true});
  ASSERT_EQ(all.size(), 4U);
  EXPECT_EQ(all[1].kind, LogLine::Kind::last_seen);
  EXPECT_EQ(all[1].lastSeen, sample());
  EXPECT_EQ(all[1].startOffset, ci.size());
  EXPECT_EQ(all[1].endOffset, ci.size() + ls.size());
}

TEST(LastSeenLine, WriterAppendsThemAndRecoveryKeepsATrailingOne) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  {
    auto w = Writer::open(log, {}, 1);
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->append(checkIn()));
    ASSERT_TRUE((*w)->append(sample()));
    ASSERT_TRUE((*w)->sync());
    EXPECT_EQ((*w)->lines(), 2U);
  }
  const std::string before = readFile(log);
  EXPECT_EQ(before, formatLine(checkIn()) + formatLastSeenLine(sample()));
  auto again = Writer::open(log, {}, 2);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->recovery().quarantineFile.empty());
  EXPECT_EQ((*again)->recovery().keptLines, 2U);
  EXPECT_EQ((*again)->recovery().records, 1U);  // check-ins only
  EXPECT_EQ(readFile(log), before);
}
