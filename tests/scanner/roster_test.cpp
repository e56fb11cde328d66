#include <gtest/gtest.h>

#include "scanner/roster.hpp"

using attendance::scanner::Roster;
using attendance::support::Uuid;

TEST(Roster, ParsesTheBackendShapeAndFindsIdsInAnyCase) {
  std::string error;
  const auto r = Roster::parse(
      R"({"eventId":"evt-9","bleUuids":["b0b0b0b0-0000-4000-8000-000000000001","A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF","b0b0b0b0-0000-4000-8000-000000000001"]})",
      error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->eventId(), "evt-9");
  EXPECT_EQ(r->size(), 2u);  // duplicates collapse
  EXPECT_TRUE(r->indexOf(*Uuid::parse("a1b2c3d4-e5f6-4711-8899-aabbccddeeff")));
  EXPECT_FALSE(r->indexOf(*Uuid::parse("a1b2c3d4-e5f6-4711-8899-aabbccddeef0")));
}

TEST(Roster, RejectsBadShapesWithAReason) {
  std::string error;
  EXPECT_FALSE(Roster::parse("[1]", error));
  EXPECT_NE(error.find("JSON object"), std::string::npos);
  EXPECT_FALSE(Roster::parse(R"({"bleUuids":[]})", error));
  EXPECT_NE(error.find("eventId"), std::string::npos);
  EXPECT_FALSE(Roster::parse(R"({"eventId":"e"})", error));
  EXPECT_NE(error.find("bleUuids"), std::string::npos);
  EXPECT_FALSE(Roster::parse(R"({"eventId":"e","bleUuids":["a1b2c3d4-e5f6-4711-8899-aabbccddeeff", 7]})", error));
  EXPECT_EQ(error, "roster bleUuids[1] is not an 8-4-4-4-12 UUID string");
  EXPECT_FALSE(Roster::parse("{", error));
  EXPECT_NE(error.find("not valid JSON"), std::string::npos);
}
