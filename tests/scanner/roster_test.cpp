#include <gtest/gtest.h>

#include "scanner/roster.hpp"

using attendance::scanner::Roster;
using attendance::support::Uuid;

TEST(Roster, ParsesTheBackendShapeAndFindsIdsInAnyCase) {
  const auto r = Roster::parse(
      R"({"eventId":"evt-9","bleUuids":["b0b0b0b0-0000-4000-8000-000000000001","A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF","b0b0b0b0-0000-4000-8000-000000000001"]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->eventId(), "evt-9");
  EXPECT_EQ(r->size(), 2u);  // duplicates collapse
  EXPECT_TRUE(r->indexOf(*Uuid::parse("a1b2c3d4-e5f6-4711-8899-aabbccddeeff")));
  EXPECT_FALSE(r->indexOf(*Uuid::parse("a1b2c3d4-e5f6-4711-8899-aabbccddeef0")));
}

TEST(Roster, CarriesTheDeploymentNamespaceWhenTheBackendSendsIt) {
  auto r = Roster::parse(R"({"eventId":"e","namespace":"EDD1EBEAC04E5DEFA017","bleUuids":[]})");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->bleNamespace());
  EXPECT_EQ(r->bleNamespace()->toHex(), "edd1ebeac04e5defa017");
  // A roster from a backend before issue 11 has none.
  r = Roster::parse(R"({"eventId":"e","bleUuids":[]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->bleNamespace());
  const auto bad = Roster::parse(R"({"eventId":"e","namespace":"edd1","bleUuids":[]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "roster namespace is not 20 hex digits");
}

// A private-ids event's roster (ADR 0078): the namespace and no bleUuids; the scanner logs every id
// in the namespace, rotating ids included, and holds nothing that names or links a participant.
TEST(Roster, APrivateIdsRosterCarriesTheNamespaceAndNoIds) {
  auto r = Roster::parse(R"({"eventId":"e","namespace":"edd1ebeac04e5defa017","privateIds":true,"bleUuids":[]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->privateIds());
  EXPECT_EQ(r->size(), 0U);
  EXPECT_EQ(r->bleNamespace()->toHex(), "edd1ebeac04e5defa017");
  r = Roster::parse(R"({"eventId":"e","namespace":"edd1ebeac04e5defa017","privateIds":false,"bleUuids":[]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->privateIds());
  r = Roster::parse(R"({"eventId":"e","bleUuids":[]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->privateIds());

  const auto message = [](std::string_view json) {
    const auto bad = Roster::parse(json);
    EXPECT_FALSE(bad) << json;
    return bad ? std::string{} : bad.error().message;
  };
  EXPECT_EQ(message(R"({"eventId":"e","privateIds":true,"bleUuids":[]})"),
            "a private-ids roster must carry the namespace");
  EXPECT_EQ(message(R"({"eventId":"e","namespace":"edd1ebeac04e5defa017","privateIds":true,)"
                    R"("bleUuids":["a1b2c3d4-e5f6-4711-8899-aabbccddeeff"]})"),
            "a private-ids roster carries no bleUuids (its participants broadcast rotating ids)");
  EXPECT_EQ(message(R"({"eventId":"e","namespace":"edd1ebeac04e5defa017","privateIds":1,"bleUuids":[]})"),
            "roster privateIds is not true or false");
}

TEST(Roster, RejectsBadShapesWithAReason) {
  const auto message = [](std::string_view json) {
    const auto r = Roster::parse(json);
    EXPECT_FALSE(r) << json;
    if (r) return std::string{};
    EXPECT_EQ(r.error().code, boost::system::errc::invalid_argument) << json;
    return r.error().message;
  };
  EXPECT_NE(message("[1]").find("JSON object"), std::string::npos);
  EXPECT_NE(message(R"({"bleUuids":[]})").find("eventId"), std::string::npos);
  EXPECT_NE(message(R"({"eventId":"e"})").find("bleUuids"), std::string::npos);
  EXPECT_EQ(message(R"({"eventId":"e","bleUuids":["a1b2c3d4-e5f6-4711-8899-aabbccddeeff", 7]})"),
            "roster bleUuids[1] is not an 8-4-4-4-12 UUID string");
  EXPECT_NE(message("{").find("not valid JSON"), std::string::npos);
}

TEST(Roster, AFileThatCannotBeReadNamesItselfAndTheSystemError) {
  const auto r = Roster::load("/nonexistent/roster.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, boost::system::errc::no_such_file_or_directory);
  EXPECT_EQ(r.error().message, "cannot read roster /nonexistent/roster.json: No such file or directory");
}
