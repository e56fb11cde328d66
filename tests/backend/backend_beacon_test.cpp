// GET /api/me/beacon and ingest of private rotating ids through the HTTP API (issue 11 §2,
// docs/beacon-spec.md "Delivery").
#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/core/identity_keys.hpp>
#include <attendance/core/private_ids.hpp>

#include "backend/backend_test_base.hpp"
#include "support/test_client.hpp"

namespace attendance::testing::backend_test {
namespace {

using attendance::testing::Client;

class BeaconTest : public BackendTest {
protected:
  void SetUp() override {
    BackendOptions o;
    o.ingest.privateIds = std::make_shared<core::PrivateIdResolver>(core::ServerKey::generate());
    SetUpWith(o);
    withPool([&](core::ConnectionPool& pool) {
      const auto now = std::chrono::system_clock::now();
      core::NewEvent ev;
      ev.id = "ev-private";
      ev.name = "Private event";
      ev.startsAt = now - 1h;
      ev.endsAt = now + 11h;
      ev.privateIds = true;
      ASSERT_TRUE(core::createEvent(pool, ev, now));
      ASSERT_TRUE(core::assignScanner(pool, kScanner, "ev-private", now));
    });
  }

  // Signs up Carol; returns her token.
  std::string signUp(Client& c) {
    auto res = c.request(request("POST", "/api/participants",
                                 R"({"email":"carol@example.com","displayName":"Carol","password":"correct horse"})"));
    EXPECT_EQ(res.result_int(), 201) << res.body();
    const auto o = parseObject(res.body());
    carolUuid = std::string{o.at("bleUuid").as_string()};
    return std::string{o.at("token").as_string()};
  }

  std::string carolUuid;
};

TEST_F(BeaconTest, MeBeaconNeedsASessionAndGivesTheKeyOnlyForPrivateIdsEvents) {
  Client c{backend->port};
  EXPECT_EQ(c.request(request("GET", "/api/me/beacon")).result_int(), 401);
  EXPECT_EQ(c.request(request("GET", "/api/me/beacon", {}, "not-a-token")).result_int(), 401);
  const std::string token = signUp(c);

  auto res = c.request(request("GET", "/api/me/beacon", {}, token));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res[hs::http::field::cache_control], "no-store");
  auto o = parseObject(res.body());
  std::string namespaceHex;
  withPool([&](core::ConnectionPool& pool) { namespaceHex = core::readBleNamespace(pool)->toHex(); });
  EXPECT_EQ(res.body(), R"({"namespace":")" + namespaceHex + R"(","bleUuid":")" + carolUuid +
                            R"(","periodSeconds":900,"identityKey":null,"events":[]})");

  // Registered for a static-id event: still no key.
  ASSERT_EQ(c.request(request("POST", std::string{"/api/events/"} + kEvent + "/registrations", {}, token)).result_int(),
            201);
  o = parseObject(c.request(request("GET", "/api/me/beacon", {}, token)).body());
  EXPECT_TRUE(o.at("identityKey").is_null());
  ASSERT_EQ(o.at("events").as_array().size(), 1U);
  EXPECT_FALSE(o.at("events").as_array()[0].as_object().at("privateIds").as_bool());

  // And for a private-ids one: the key, the same every time; the events as /api/events gives them.
  ASSERT_EQ(c.request(request("POST", "/api/events/ev-private/registrations", {}, token)).result_int(), 201);
  res = c.request(request("GET", "/api/me/beacon", {}, token));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  o = parseObject(res.body());
  ASSERT_TRUE(o.at("identityKey").is_string());
  const std::string key{o.at("identityKey").as_string()};
  EXPECT_EQ(key.size(), 64U);
  EXPECT_TRUE(attendance::beacon_id::IdentityKey::parseHex(key).has_value());
  EXPECT_EQ(
      std::string{
          parseObject(c.request(request("GET", "/api/me/beacon", {}, token)).body()).at("identityKey").as_string()},
      key);
  EXPECT_EQ(o.size(), 5U);
  const auto listed = parseObject(c.request(request("GET", "/api/events", {}, token)).body()).at("events").as_array();
  ASSERT_EQ(o.at("events").as_array().size(), 2U);
  for (const auto& v : o.at("events").as_array()) {
    const auto& e = v.as_object();
    EXPECT_EQ(e.size(), 5U);
    EXPECT_EQ(e.at("privateIds").as_bool(), e.at("id").as_string() == "ev-private");
    bool found = false;
    for (const auto& l : listed) {
      const auto& le = l.as_object();
      if (le.at("id") != e.at("id")) continue;
      found = true;
      EXPECT_EQ(le.at("name"), e.at("name"));
      EXPECT_EQ(le.at("startsAt"), e.at("startsAt"));
      EXPECT_EQ(le.at("endsAt"), e.at("endsAt"));
    }
    EXPECT_TRUE(found) << e;
  }
  // Never stored in clear.
  EXPECT_EQ(number(*db, "SELECT count(*) FROM participant_identity_keys WHERE position(decode('" + key +
                            "', 'hex') IN ciphertext) > 0"),
            0);

  // A scanner hears the rotating id: Carol is checked in under her static bleUuid;
  // yesterday's id is refused per record (the batch contract of docs/backend.md).
  const auto ns = *attendance::support::BleNamespace::parseHex(namespaceHex);
  const auto identity = *attendance::beacon_id::IdentityKey::parseHex(key);
  const std::int64_t t = nowMs();
  const auto idNow = attendance::beacon_id::bleUuidAt(identity, ns, {}, t).value().toString();
  const auto idYesterday = attendance::beacon_id::bleUuidAt(identity, ns, {}, t - 86'400'000).value().toString();
  res = c.request(
      request("POST", "/batchCheckIn", batch({record(idNow, t), record(idYesterday, t)}, "ev-private"), apiKey));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  o = parseObject(res.body());
  EXPECT_EQ(o.at("inserted").as_int64(), 1);
  EXPECT_EQ(o.at("registered").as_int64(), 1);
  ASSERT_EQ(o.at("rejected").as_array().size(), 1U);
  EXPECT_EQ(o.at("rejected").as_array()[0].as_object().at("index").as_int64(), 1);
  EXPECT_EQ(o.at("rejected").as_array()[0].as_object().at("reason").as_string(), "expired_id");
  EXPECT_EQ(number(*db, "SELECT count(*) FROM check_ins WHERE ble_uuid = '" + carolUuid + "'"), 1);
}

TEST_F(BackendTest, WithoutTheBeaconKeyPrivateIdsAnswer503SayingWhatToPass) {
  withPool([&](core::ConnectionPool& pool) {
    const auto now = std::chrono::system_clock::now();
    core::NewEvent ev;
    ev.id = "ev-private";
    ev.name = "Private event";
    ev.privateIds = true;
    ASSERT_TRUE(core::createEvent(pool, ev, now));
    ASSERT_TRUE(core::assignScanner(pool, kScanner, "ev-private", now));
  });
  Client c{backend->port};
  auto res = c.request(request("POST", "/api/participants",
                               R"({"email":"carol@example.com","displayName":"Carol","password":"correct horse"})"));
  ASSERT_EQ(res.result_int(), 201);
  const std::string token{parseObject(res.body()).at("token").as_string()};
  EXPECT_EQ(c.request(request("GET", "/api/me/beacon", {}, token)).result_int(), 200);
  ASSERT_EQ(c.request(request("POST", "/api/events/ev-private/registrations", {}, token)).result_int(), 201);
  res = c.request(request("GET", "/api/me/beacon", {}, token));
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_NE(res.body().find("--beacon-key-file"), std::string::npos) << res.body();
  res = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, nowMs())}, "ev-private"), apiKey));
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_NE(res.body().find("--beacon-key-file"), std::string::npos) << res.body();
  EXPECT_EQ(receipts(), 0);
}

// serve --private-id-period: the period the resolver uses is the one broadcasters are told.
class ShortPeriodTest : public BackendTest {
protected:
  void SetUp() override {
    BackendOptions o;
    core::PrivateIdOptions privateIds;
    privateIds.period = *beacon_id::RotationPeriod::create(std::chrono::seconds{4});
    o.ingest.privateIds = std::make_shared<core::PrivateIdResolver>(core::ServerKey::generate(), privateIds);
    SetUpWith(o);
  }
};

TEST_F(ShortPeriodTest, MeBeaconGivesTheResolversPeriod) {
  Client c{backend->port};
  auto res = c.request(request("POST", "/api/participants",
                               R"({"email":"carol@example.com","displayName":"Carol","password":"correct horse"})"));
  ASSERT_EQ(res.result_int(), 201);
  const std::string token{parseObject(res.body()).at("token").as_string()};
  res = c.request(request("GET", "/api/me/beacon", {}, token));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("periodSeconds").as_int64(), 4) << res.body();
}

}  // namespace
}  // namespace attendance::testing::backend_test
