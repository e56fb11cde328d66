#include <attendance/core/batch.hpp>
#include <attendance/core/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace core = attendance::core;

namespace {

// The original design's body, verbatim in shape.
constexpr const char* kDesignBody = R"({
  "eventId": "event-123",
  "records": [
    {"bleUuid": "a1b2c3d4-0000-4000-8000-000000000001", "checkInTime": 1721471400000, "scannerId": "Entrance-Scanner-01"},
    {"bleUuid": "b2c3d4e5-0000-4000-8000-000000000002", "checkInTime": 1721471405000, "scannerId": "Entrance-Scanner-01"}
  ]
})";

TEST(BatchParse, AcceptsTheOriginalDesignsBody) {
  const auto r = core::parseBatchBody(kDesignBody);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.batch.eventId, "event-123");
  EXPECT_EQ(r.batch.received, 2U);
  ASSERT_EQ(r.batch.records.size(), 2U);
  EXPECT_TRUE(r.batch.rejected.empty());
  EXPECT_EQ(r.batch.records[0].bleUuid.toString(), "a1b2c3d4-0000-4000-8000-000000000001");
  EXPECT_EQ(r.batch.records[1].checkInTimeMs, 1721471405000);
  EXPECT_EQ(r.batch.records[1].scannerId, "Entrance-Scanner-01");
  EXPECT_EQ(r.batch.records[1].index, 1U);
}

TEST(BatchParse, EnvelopeErrorsFailTheWholeRequest) {
  struct Case {
    const char* body;
    core::Errc code;
    const char* messagePart;
  };
  const Case cases[] = {
      {"", core::Errc::malformed_body, "malformed JSON"},
      {"{\"eventId\":\"e\",\"records\":[", core::Errc::malformed_body, "malformed JSON"},
      {"[]", core::Errc::malformed_body, "JSON object"},
      {"{\"records\":[]}", core::Errc::malformed_body, "eventId is missing"},
      {"{\"eventId\":5,\"records\":[]}", core::Errc::malformed_body, "eventId must be a string"},
      {"{\"eventId\":\"has space\",\"records\":[]}", core::Errc::malformed_body, "eventId must be"},
      {"{\"eventId\":\"e\"}", core::Errc::malformed_body, "records is missing"},
      {"{\"eventId\":\"e\",\"records\":{}}", core::Errc::malformed_body, "records must be an array"},
      // Invalid UTF-8 anywhere, even in a field that would be ignored, is named as such.
      {"{\"eventId\":\"e\xFF\",\"records\":[]}", core::Errc::malformed_body, "body is not valid UTF-8"},
      {"{\"eventId\":\"e\",\"note\":\"\xED\xA0\x80\",\"records\":[]}", core::Errc::malformed_body,
       "body is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    const auto r = core::parseBatchBody(c.body);
    EXPECT_EQ(r.error, c.code) << c.body;
    EXPECT_NE(r.message.find(c.messagePart), std::string::npos) << c.body << " -> " << r.message;
  }
}

TEST(BatchParse, LimitsAnswerPayloadTooLarge) {
  core::BatchLimits limits;
  limits.maxRecords = 1;
  auto r = core::parseBatchBody(kDesignBody, limits);
  EXPECT_EQ(r.error, core::Errc::payload_too_large);
  EXPECT_NE(r.message.find("more than 1 records"), std::string::npos);

  limits = {};
  limits.maxBodyBytes = 10;
  r = core::parseBatchBody(kDesignBody, limits);
  EXPECT_EQ(r.error, core::Errc::payload_too_large);
}

TEST(BatchParse, PerRecordProblemsRejectOnlyThatRecordWithItsIndex) {
  const std::string body = R"({"eventId":"e1","records":[
    {"bleUuid":"a1b2c3d4-0000-4000-8000-000000000001","checkInTime":1721471400000,"scannerId":"S1"},
    {"bleUuid":"not-a-uuid","checkInTime":1721471400000,"scannerId":"S1"},
    {"bleUuid":"a1b2c3d4-0000-4000-8000-000000000001","checkInTime":"1721471400000","scannerId":"S1"},
    {"bleUuid":"a1b2c3d4-0000-4000-8000-000000000001","checkInTime":1721471400000.5,"scannerId":"S1"},
    {"bleUuid":"a1b2c3d4-0000-4000-8000-000000000001","checkInTime":1721471400000},
    {"bleUuid":42,"checkInTime":1721471400000,"scannerId":"S1"},
    "just a string",
    {"checkInTime":1721471400000,"scannerId":"S1"},
    {"bleUuid":"A1B2C3D4-0000-4000-8000-000000000009","checkInTime":1721471400000.0,"scannerId":"S1","rssi":-60},
    {"bleUuid":"a1b2c3d4-0000-4000-8000-000000000001","checkInTime":18446744073709551615,"scannerId":"S1"},
    {"bleUuid":"a1b2c3d4-0000-4000-8000-000000000001","checkInTime":1721471400000,"scannerId":""}
  ]})";
  const auto r = core::parseBatchBody(body);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.batch.received, 11U);
  ASSERT_EQ(r.batch.records.size(), 2U);
  EXPECT_EQ(r.batch.records[0].index, 0U);
  EXPECT_EQ(r.batch.records[1].index, 8U);  // upper-case UUID, integral double, unknown field: fine
  EXPECT_EQ(r.batch.records[1].bleUuid.toString(), "a1b2c3d4-0000-4000-8000-000000000009");
  const std::vector<core::Rejection> expected{
      {1, "bleUuid is not a UUID (8-4-4-4-12 hex digits)"},
      {2, "checkInTime must be an integer (epoch milliseconds)"},
      {3, "checkInTime must be an integer (epoch milliseconds)"},
      {4, "scannerId is missing"},
      {5, "bleUuid must be a string"},
      {6, "record must be an object"},
      {7, "bleUuid is missing"},
      {9, "checkInTime is out of range"},
      {10, "scannerId must be 1-128 characters"},
  };
  EXPECT_EQ(r.batch.rejected, expected);
}

TEST(BatchParse, RendersResultAsJson) {
  core::IngestResult res;
  res.eventId = "ev\"1";
  res.received = 3;
  res.inserted = 1;
  res.duplicates = 1;
  res.rejected = {{2, "bleUuid is missing"}};
  res.registered = 1;
  res.receiptId = 7;
  EXPECT_EQ(
      core::renderIngestResultJson(res),
      R"({"eventId":"ev\"1","received":3,"inserted":1,"duplicates":1,"rejected":[{"index":2,"reason":"bleUuid is missing"}],"registered":1,"walkIns":0,"unknownDevices":0,"receiptId":7})");
  EXPECT_EQ(core::renderErrorJson("bad \"x\""), R"({"error":"bad \"x\""})");
}

TEST(BatchParse, HundredThousandRecordsParse) {
  std::string body = R"({"eventId":"big","records":[)";
  for (int i = 0; i < 100000; ++i) {
    if (i != 0) body += ',';
    char uuid[64];
    std::snprintf(uuid, sizeof uuid, "%08x-0000-4000-8000-%012x", i, i);
    body += R"({"bleUuid":")";
    body += uuid;
    body += R"(","checkInTime":)" + std::to_string(1721471400000LL + i) + R"(,"scannerId":"Entrance-Scanner-01"})";
  }
  body += "]}";
  ASSERT_LT(body.size(), core::BatchLimits{}.maxBodyBytes);
  const auto r = core::parseBatchBody(body);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.batch.records.size(), 100000U);
  EXPECT_EQ(r.batch.records.back().checkInTimeMs, 1721471400000LL + 99999);
}

TEST(CoreErrors, MapToHttpStatuses) {
  using core::Errc;
  EXPECT_EQ(core::httpStatusFor(make_error_code(Errc::malformed_body)), 400);
  EXPECT_EQ(core::httpStatusFor(make_error_code(Errc::unauthorized)), 401);
  EXPECT_EQ(core::httpStatusFor(make_error_code(Errc::event_not_found)), 404);
  EXPECT_EQ(core::httpStatusFor(make_error_code(Errc::conflict)), 409);
  EXPECT_EQ(core::httpStatusFor(make_error_code(Errc::payload_too_large)), 413);
  EXPECT_EQ(core::httpStatusFor(make_error_code(Errc::unavailable)), 503);
  EXPECT_EQ(make_error_code(Errc::unavailable).message(), "database unavailable");
  EXPECT_EQ(core::errorName(make_error_code(Errc::event_not_found)), "event_not_found");
}

}  // namespace
