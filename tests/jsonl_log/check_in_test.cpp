#include <gtest/gtest.h>

#include <attendance/jsonl_log/check_in.hpp>

using attendance::jsonl_log::CheckIn;
using attendance::jsonl_log::formatLine;
using attendance::jsonl_log::ParseErrc;
using attendance::jsonl_log::parseLine;
using attendance::support::Uuid;

namespace {

CheckIn sample() {
  CheckIn c;
  c.bleUuid = *Uuid::parse("A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF");
  c.checkInTime = 1721471400000;
  c.scannerId = "Entrance-Scanner-01";
  c.eventId = "evt-2026-kickoff";
  return c;
}

attendance::error_code errorOf(std::string_view line) {
  const auto r = parseLine(line);
  return r ? attendance::error_code{} : r.error();
}

}  // namespace

TEST(CheckInFormat, OriginalKeysFirstNoSpacesOptionalKeysOmitted) {
  EXPECT_EQ(formatLine(sample()),
            "{\"bleUuid\":\"a1b2c3d4-e5f6-4711-8899-aabbccddeeff\",\"checkInTime\":1721471400000,"
            "\"scannerId\":\"Entrance-Scanner-01\",\"eventId\":\"evt-2026-kickoff\"}\n");
}

TEST(CheckInFormat, AllKeysInDocumentedOrder) {
  CheckIn c = sample();
  c.rssi = -67;
  c.bootId = "0f3c2a9e-1b2d-4c5e-8f70-123456789abc";
  c.bootMs = 123456;
  EXPECT_EQ(formatLine(c),
            "{\"bleUuid\":\"a1b2c3d4-e5f6-4711-8899-aabbccddeeff\",\"checkInTime\":1721471400000,"
            "\"scannerId\":\"Entrance-Scanner-01\",\"eventId\":\"evt-2026-kickoff\",\"rssi\":-67,"
            "\"bootId\":\"0f3c2a9e-1b2d-4c5e-8f70-123456789abc\",\"bootMs\":123456}\n");
}

TEST(CheckInFormat, EscapesIdsThatNeedIt) {
  CheckIn c = sample();
  c.scannerId = "Hall \"B\"\\2\n";
  c.eventId = "caf\xC3\xA9";
  const std::string line = formatLine(c);
  EXPECT_NE(line.find(R"("scannerId":"Hall \"B\"\\2\n")"), std::string::npos) << line;
  EXPECT_NE(line.find("\"eventId\":\"caf\xC3\xA9\""), std::string::npos) << line;
  const auto back = parseLine(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, c);
}

TEST(CheckInFormat, RoundTripsThroughTheParser) {
  CheckIn c = sample();
  c.rssi = -128;
  c.bootId = "b";
  c.bootMs = 0;
  std::string line = formatLine(c);
  line.pop_back();
  const auto back = parseLine(line);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, c);
}

TEST(CheckInParse, AcceptsAnyKeyOrderWhitespaceAndUnknownKeys) {
  const auto r = parseLine(
      R"( { "eventId" : "e1", "extra": {"nested": [1, 2.5e3, "x", null, true, {"a": false}]}, )"
      R"("scannerId":"s\u00e9", "checkInTime": 5, "bleUuid":"A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF", "rssi": 7 } )");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->eventId, "e1");
  EXPECT_EQ(r->scannerId, "s\xC3\xA9");
  EXPECT_EQ(r->checkInTime, 5);
  EXPECT_EQ(r->bleUuid.toString(), "a1b2c3d4-e5f6-4711-8899-aabbccddeeff");
  EXPECT_EQ(r->rssi, 7);
  EXPECT_FALSE(r->bootId);
  EXPECT_FALSE(r->bootMs);
}

// Exactly the design note's line, as the original Python scanner writes it with
// json.dumps (", " and ": " separators): valid, with no event of its own.
TEST(CheckInParse, OriginalDesignLineWithoutEventIdIsARecordWithNoEvent) {
  const auto r = parseLine(
      R"({"bleUuid": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "checkInTime": 1721471400000, "scannerId": "Entrance-Scanner-01"})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bleUuid.toString(), "a1b2c3d4-e5f6-4711-8899-aabbccddeeff");
  EXPECT_EQ(r->checkInTime, 1721471400000);
  EXPECT_EQ(r->scannerId, "Entrance-Scanner-01");
  EXPECT_FALSE(r->eventId);
  EXPECT_FALSE(r->rssi);
  EXPECT_FALSE(r->bootId);
  EXPECT_FALSE(r->bootMs);
}

TEST(CheckInParse, AnEventIdThatIsPresentMustStillBeANonEmptyString) {
  const std::string head = R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"scannerId":"s",)";
  EXPECT_EQ(errorOf(head + R"("eventId":""})"), ParseErrc::bad_event_id);
  EXPECT_EQ(errorOf(head + R"("eventId":null})"), ParseErrc::bad_event_id);
  EXPECT_EQ(errorOf(head + R"("eventId":7})"), ParseErrc::bad_event_id);
}

TEST(CheckInFormat, ARecordWithoutEventIsWrittenInTheOriginalThreeKeyShapeAndRoundTrips) {
  CheckIn c = sample();
  c.eventId.reset();
  std::string line = formatLine(c);
  EXPECT_EQ(line,
            "{\"bleUuid\":\"a1b2c3d4-e5f6-4711-8899-aabbccddeeff\",\"checkInTime\":1721471400000,"
            "\"scannerId\":\"Entrance-Scanner-01\"}\n");
  line.pop_back();
  const auto back = parseLine(line);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, c);
}

TEST(CheckInParse, ReportsWhichKeyIsMissing) {
  EXPECT_EQ(errorOf(R"({"checkInTime":1,"scannerId":"s","eventId":"e"})"), ParseErrc::missing_ble_uuid);
  EXPECT_EQ(errorOf(R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","scannerId":"s","eventId":"e"})"),
            ParseErrc::missing_check_in_time);
  EXPECT_EQ(errorOf(R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"eventId":"e"})"),
            ParseErrc::missing_scanner_id);
}

TEST(CheckInParse, RejectsWrongTypesAndRanges) {
  const std::string head = R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","scannerId":"s","eventId":"e",)";
  EXPECT_EQ(errorOf(head + R"("checkInTime":"1721471400000"})"), ParseErrc::bad_check_in_time);
  EXPECT_EQ(errorOf(head + R"("checkInTime":1.5})"), ParseErrc::bad_check_in_time);
  EXPECT_EQ(errorOf(head + R"("checkInTime":1e3})"), ParseErrc::bad_check_in_time);
  EXPECT_EQ(errorOf(head + R"("checkInTime":-1})"), ParseErrc::bad_check_in_time);
  EXPECT_EQ(errorOf(head + R"("checkInTime":99999999999999999999})"), ParseErrc::bad_check_in_time);
  EXPECT_EQ(errorOf(head + R"("checkInTime":1,"rssi":-129})"), ParseErrc::bad_rssi);
  EXPECT_EQ(errorOf(head + R"("checkInTime":1,"rssi":null})"), ParseErrc::bad_rssi);
  EXPECT_EQ(errorOf(head + R"("checkInTime":1,"bootMs":-5})"), ParseErrc::bad_boot_ms);
  EXPECT_EQ(errorOf(head + R"("checkInTime":1,"bootId":7})"), ParseErrc::bad_boot_id);
  EXPECT_EQ(
      errorOf(R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"scannerId":"","eventId":"e"})"),
      ParseErrc::bad_scanner_id);
  EXPECT_EQ(
      errorOf(R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"scannerId":"s","eventId":["e"]})"),
      ParseErrc::bad_event_id);
  EXPECT_EQ(errorOf(R"({"bleUuid":"a1b2c3d4e5f6471188 99aabbccddeeff","checkInTime":1,"scannerId":"s","eventId":"e"})"),
            ParseErrc::bad_ble_uuid);
  EXPECT_EQ(
      errorOf(R"({"bleUuid":"{a1b2c3d4-e5f6-4711-8899-aabbccddeeff}","checkInTime":1,"scannerId":"s","eventId":"e"})"),
      ParseErrc::bad_ble_uuid);
  EXPECT_EQ(errorOf(R"({"bleUuid":42,"checkInTime":1,"scannerId":"s","eventId":"e"})"), ParseErrc::bad_ble_uuid);
  const std::string longId(257, 'x');
  EXPECT_EQ(errorOf(R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"scannerId":")" + longId +
                    R"(","eventId":"e"})"),
            ParseErrc::bad_scanner_id);
}

TEST(CheckInParse, RejectsBrokenJson) {
  EXPECT_EQ(errorOf(""), ParseErrc::empty_line);
  EXPECT_EQ(errorOf("   "), ParseErrc::empty_line);
  EXPECT_EQ(errorOf("[1,2]"), ParseErrc::not_an_object);
  EXPECT_EQ(errorOf("\"text\""), ParseErrc::not_an_object);
  EXPECT_EQ(errorOf(R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"scanne)"),
            ParseErrc::syntax_error);
  EXPECT_EQ(errorOf(std::string("{\"a\":\"x\0y\"}", 11)), ParseErrc::syntax_error);
  EXPECT_EQ(errorOf(std::string(8, '\0')), ParseErrc::syntax_error);
  EXPECT_EQ(
      errorOf(R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"scannerId":"s","eventId":"e"} x)"),
      ParseErrc::trailing_data);
  EXPECT_EQ(
      errorOf(
          R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1,"scannerId":"s","eventId":"e"})"),
      ParseErrc::duplicate_key);
  EXPECT_EQ(errorOf("{\"scannerId\":\"\xC3\x28\"}"), ParseErrc::invalid_utf8);
  EXPECT_EQ(errorOf(R"({"scannerId":"\ud800"})"), ParseErrc::invalid_utf8);
  EXPECT_EQ(errorOf(std::string(70000, ' ') + "{}"), ParseErrc::line_too_long);
  std::string deep(100, '[');
  EXPECT_EQ(errorOf(R"({"x":)" + deep), ParseErrc::nesting_too_deep);
}

TEST(CheckInParse, ErrorsHaveReadableReasons) {
  const auto r = parseLine(R"({"checkInTime":1,"scannerId":"s","eventId":"e"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "missing key bleUuid");
}
