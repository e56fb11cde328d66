// Private rotating ids at the backend (issue 11 §2, docs/beacon-spec.md): identity keys stored
// encrypted, and ingest resolving rotated ids of a private-ids event to the participant.
#include "core/test_database.hpp"

#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/core/core.hpp>
#include <attendance/core/identity_keys.hpp>
#include <attendance/core/private_ids.hpp>

#include <attendance/support/clock.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace core = attendance::core;
namespace bid = attendance::beacon_id;
using attendance::support::fromEpochMillis;
using attendance::support::Uuid;
using core::testing::TestDatabase;

namespace {

const auto kNow = fromEpochMillis(1721480000000);  // 2024-07-20T12:53:20Z
constexpr std::int64_t kT0 = 1721471400000;        // 2024-07-20T10:30:00Z, a window's first millisecond
constexpr std::int64_t kWindowMs = 900'000;

std::string body(const std::string& eventId, const std::vector<std::pair<Uuid, std::int64_t>>& rows) {
  std::string b = "{\"eventId\":\"" + eventId + "\",\"records\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i != 0) b += ',';
    b += "{\"bleUuid\":\"" + rows[i].first.toString() + "\",\"checkInTime\":" + std::to_string(rows[i].second) +
         ",\"scannerId\":\"S1\"}";
  }
  return b + "]}";
}

class PrivateIds : public ::testing::Test {
protected:
  void SetUp() override {
    pool = db.pool();
    core::NewEvent priv{std::string{"ev-p"}, "Private", "Hall", std::nullopt, std::nullopt};
    priv.privateIds = true;
    ASSERT_TRUE(core::createEvent(*pool, priv, kNow));
    ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev-s"}, "Static", "Hall", std::nullopt, std::nullopt}, kNow));
    ASSERT_TRUE(core::createScanner(*pool, "S1", kNow));
    ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-p", kNow));
    ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-s", kNow));
    auto a = core::createUser(*pool, {"ada@example.org", "Ada", std::nullopt}, core::AuthConfig::forTests(), kNow);
    auto b = core::createUser(*pool, {"bob@example.org", "Bob", std::nullopt}, core::AuthConfig::forTests(), kNow);
    ASSERT_TRUE(a && b);
    ada = *a;
    bob = *b;
    for (const char* ev : {"ev-p", "ev-s"}) {
      ASSERT_TRUE(core::registerForEvent(*pool, ev, ada.id, kNow));
      ASSERT_TRUE(core::registerForEvent(*pool, ev, bob.id, kNow));
    }
    auto ns = core::readBleNamespace(*pool);
    ASSERT_TRUE(ns);
    bleNamespace = *ns;
    auto key = core::participantIdentityKey(*pool, serverKey, ada.id, kNow);
    ASSERT_TRUE(key) << key.error().message();
    adaKey = *key;
    options.privateIds = resolver;
  }

  Uuid adaIdAt(std::int64_t ms) { return bid::bleUuidAt(adaKey, bleNamespace, {}, ms).value(); }

  attendance::Result<core::IngestResult> post(const std::string& eventId,
                                              const std::vector<std::pair<Uuid, std::int64_t>>& rows) {
    auto parsed = core::parseBatchBody(body(eventId, rows));
    EXPECT_TRUE(parsed.ok()) << parsed.message;
    return core::ingestBatch(*pool, core::IngestRequest::fromParsed(std::move(parsed.batch), "S1"), kNow, options);
  }

  std::string scalar(const std::string& sql) { return db.scalar(sql); }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
  core::ServerKey serverKey = core::ServerKey::generate();
  std::shared_ptr<core::PrivateIdResolver> resolver = std::make_shared<core::PrivateIdResolver>(serverKey);
  core::IngestOptions options;
  core::User ada, bob;
  attendance::support::BleNamespace bleNamespace;
  bid::IdentityKey adaKey;
};

TEST_F(PrivateIds, TheIdentityKeyIsStoredOnlyEncryptedAndOpensOnlyOnItsOwnRow) {
  // Generated once: the second call gives the same key.
  auto again = core::participantIdentityKey(*pool, serverKey, ada.id, kNow);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, adaKey);
  EXPECT_EQ(scalar("SELECT count(*) FROM participant_identity_keys"), "1");
  // The raw key is nowhere in the row.
  const std::string row = scalar(
      "SELECT concat(encode(nonce, 'hex'), encode(ciphertext, 'hex'), user_id::text) "
      "FROM participant_identity_keys");
  EXPECT_EQ(row.find(adaKey.toHex()), std::string::npos);
  EXPECT_EQ(row.find(adaKey.toHex().substr(0, 16)), std::string::npos);
  // A wrong server key does not open it.
  EXPECT_FALSE(core::participantIdentityKey(*pool, core::ServerKey::generate(), ada.id, kNow));
  // Copied onto Bob's row it does not decrypt (the user id is associated data).
  (void)db.scalar(
      "INSERT INTO participant_identity_keys (user_id, key_version, nonce, ciphertext, created_at) "
      "SELECT '" +
      bob.id + "', key_version, nonce, ciphertext, now() FROM participant_identity_keys");
  auto copied = core::participantIdentityKey(*pool, serverKey, bob.id, kNow);
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error(), core::Errc::internal);
  const auto sealed = core::sealIdentityKey(serverKey, *Uuid::parse(ada.id), adaKey);
  EXPECT_TRUE(core::openIdentityKey(serverKey, *Uuid::parse(ada.id), sealed));
  EXPECT_FALSE(core::openIdentityKey(serverKey, *Uuid::parse(bob.id), sealed));
}

TEST_F(PrivateIds, AnIdRotatedFourTimesIsOneParticipantCheckedIn) {
  std::vector<std::pair<Uuid, std::int64_t>> rows;
  for (int w = 0; w < 4; ++w) rows.emplace_back(adaIdAt(kT0 + w * kWindowMs), kT0 + w * kWindowMs + 60'000);
  ASSERT_NE(rows[0].first, rows[1].first);
  auto r = post("ev-p", rows);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->rejected.empty());
  EXPECT_EQ(r->inserted, 4U);
  EXPECT_EQ(r->registered, 1U);
  EXPECT_EQ(r->unknownDevices, 0U);
  // Stored as Ada's static bleUuid, so the report is as for static ids.
  EXPECT_EQ(scalar("SELECT count(DISTINCT ble_uuid) FROM check_ins WHERE event_id = 'ev-p'"), "1");
  EXPECT_EQ(scalar("SELECT ble_uuid::text FROM check_ins WHERE event_id = 'ev-p' LIMIT 1"), ada.bleUuid.toString());
  auto report = core::buildReport(*pool, "ev-p", kNow);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->attended, 1);
  EXPECT_EQ(report->unknownDevices, 0);
  // One window of clock skew either way is accepted; a resend is idempotent.
  auto skewed = post("ev-p", {{adaIdAt(kT0), kT0 + kWindowMs + 1000}, {adaIdAt(kT0 + kWindowMs), kT0 - 1000}});
  ASSERT_TRUE(skewed) << skewed.error().message();
  EXPECT_TRUE(skewed->rejected.empty());
  EXPECT_EQ(skewed->registered, 1U);
  auto again = post("ev-p", rows);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->inserted, 0U);
  EXPECT_EQ(again->duplicates, 4U);
}

TEST_F(PrivateIds, YesterdaysIdIsRejectedAsExpiredAndOnlyThatRecord) {
  const Uuid yesterday = adaIdAt(kT0 - 24 * 3600 * 1000LL);
  auto r = post("ev-p", {{adaIdAt(kT0), kT0}, {yesterday, kT0 + 5000}, {adaIdAt(kT0 - 2 * kWindowMs), kT0}});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->rejected.size(), 2U);
  EXPECT_EQ(r->rejected[0].index, 1U);
  EXPECT_EQ(r->rejected[0].reason, "expired_id");
  EXPECT_NE(r->rejected[0].detail.find("1440 minutes before"), std::string::npos) << r->rejected[0].detail;
  EXPECT_EQ(r->rejected[1].index, 2U);
  EXPECT_EQ(r->rejected[1].reason, "expired_id");
  EXPECT_EQ(r->inserted, 1U);
  EXPECT_EQ(scalar("SELECT count(*) FROM check_ins WHERE ble_uuid = '" + yesterday.toString() + "'"), "0");
}

TEST_F(PrivateIds, AnIdTwoParticipantsDeriveIsRejectedAsAmbiguous) {
  // Bob's stored key is Ada's (sealed for Bob's row): every id of Ada's is Bob's too.
  const auto sealed = core::sealIdentityKey(serverKey, *Uuid::parse(bob.id), adaKey);
  auto hex = [](const auto& bytes) {
    std::string s;
    for (auto b : bytes) s += fmt::format("{:02x}", b);
    return s;
  };
  (void)db.scalar(
      "INSERT INTO participant_identity_keys (user_id, key_version, nonce, ciphertext, created_at) VALUES ('" + bob.id +
      "', 1, decode('" + hex(sealed.nonce) + "', 'hex'), decode('" + hex(sealed.ciphertext) + "', 'hex'), now())");
  auto r = post("ev-p", {{adaIdAt(kT0), kT0}});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->rejected.size(), 1U);
  EXPECT_EQ(r->rejected[0].reason, "ambiguous_id");
  EXPECT_EQ(r->inserted, 0U);
}

TEST_F(PrivateIds, StaticIdsAndStrangersAreAsTodayAndAStaticIdEventIsUnchanged) {
  const Uuid stranger = *Uuid::parse("f0000000-0000-4000-8000-000000000001");
  const Uuid rotated = adaIdAt(kT0);
  auto p = post("ev-p", {{bob.bleUuid, kT0}, {stranger, kT0}});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_TRUE(p->rejected.empty());
  EXPECT_EQ(p->registered, 1U);
  EXPECT_EQ(p->unknownDevices, 1U);
  // The static-id event resolves nothing: a rotated id is an unknown device there.
  auto s = post("ev-s", {{rotated, kT0}, {ada.bleUuid, kT0}});
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->rejected.empty());
  EXPECT_EQ(s->registered, 1U);
  EXPECT_EQ(s->unknownDevices, 1U);
  EXPECT_EQ(
      scalar("SELECT count(*) FROM check_ins WHERE event_id = 'ev-s' AND ble_uuid = '" + rotated.toString() + "'"),
      "1");
}

TEST_F(PrivateIds, AKeyCreatedAfterTheIndexIsUsedByTheNextBatch) {
  ASSERT_TRUE(post("ev-p", {{adaIdAt(kT0), kT0}}));
  auto bobKey = core::participantIdentityKey(*pool, serverKey, bob.id, kNow);
  ASSERT_TRUE(bobKey);
  auto r = post("ev-p", {{bid::bleUuidAt(*bobKey, bleNamespace, {}, kT0).value(), kT0}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->registered, 1U);
  EXPECT_EQ(scalar("SELECT count(*) FROM check_ins WHERE ble_uuid = '" + bob.bleUuid.toString() + "'"), "1");
}

TEST_F(PrivateIds, PrepareBuildsADatedEventsIndexOnceAheadOfItsFirstBatch) {
  core::NewEvent dated{std::string{"ev-d"}, "Dated", "Hall", fromEpochMillis(kT0), fromEpochMillis(kT0 + 3600'000)};
  dated.privateIds = true;
  ASSERT_TRUE(core::createEvent(*pool, dated, kNow));
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-d", kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-d", ada.id, kNow));
  // Undated or static-id events have nothing to build.
  EXPECT_EQ(resolver->prepare(*pool, "ev-p").value(), 0U);
  EXPECT_EQ(resolver->prepare(*pool, "ev-s").value(), 0U);
  EXPECT_EQ(resolver->prepare(*pool, "nope").error(), core::Errc::event_not_found);
  // One participant with a key × the hour's 4 windows ± 1 window (+ the window the end falls on).
  EXPECT_EQ(resolver->prepare(*pool, "ev-d").value(), 7U);
  EXPECT_EQ(resolver->prepare(*pool, "ev-d").value(), 0U);
  auto r = post("ev-d", {{adaIdAt(kT0 + kWindowMs), kT0 + kWindowMs}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->registered, 1U);
  EXPECT_EQ(core::PrivateIdResolver{std::nullopt}.prepare(*pool, "ev-d").error(), core::Errc::beacon_key_missing);
}

// The index depends only on who is registered with which key: an override at the door, an event edit or
// a key made for someone of another event move the versions but must not make the next batch rebuild it.
TEST_F(PrivateIds, AnOverrideOrAnEditOrAnotherEventsKeyReusesTheIndex) {
  core::NewEvent dated{std::string{"ev-d"}, "Dated", "Hall", fromEpochMillis(kT0), fromEpochMillis(kT0 + 3600'000)};
  dated.privateIds = true;
  ASSERT_TRUE(core::createEvent(*pool, dated, kNow));
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-d", kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-d", ada.id, kNow));
  EXPECT_EQ(resolver->prepare(*pool, "ev-d").value(), 7U);
  (void)scalar("UPDATE events SET name = 'Renamed' WHERE id = 'ev-d' RETURNING id");  // report_version + 1
  auto carol =
      core::createUser(*pool, {"carol@example.org", "Carol", std::nullopt}, core::AuthConfig::forTests(), kNow);
  ASSERT_TRUE(carol);
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-p", carol->id, kNow));
  ASSERT_TRUE(core::participantIdentityKey(*pool, serverKey, carol->id, kNow));  // identity_keys_version + 1
  EXPECT_EQ(resolver->prepare(*pool, "ev-d").value(), 0U);
  auto r = post("ev-d", {{adaIdAt(kT0 + kWindowMs), kT0 + kWindowMs}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->registered, 1U);
  // A registration that changes who is indexed does rebuild: Bob, with a key, × 7 windows, and Ada again.
  ASSERT_TRUE(core::participantIdentityKey(*pool, serverKey, bob.id, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-d", bob.id, kNow));
  EXPECT_EQ(resolver->prepare(*pool, "ev-d").value(), 14U);
}

// What `serve` does as it starts (in the background): build the index of every dated private-ids
// event running within a day of now, so no first batch after a restart builds it.
TEST_F(PrivateIds, PrepareCurrentBuildsTheEventsWithinADayOfNowAndNoOthers) {
  constexpr std::int64_t kWeekMs = 7 * 86'400'000LL;
  const auto dated = [&](const std::string& id, std::int64_t from, bool privateIds) {
    core::NewEvent e{id, id, "Hall", fromEpochMillis(from), fromEpochMillis(from + 3600'000)};
    e.privateIds = privateIds;
    ASSERT_TRUE(core::createEvent(*pool, e, kNow));
    ASSERT_TRUE(core::registerForEvent(*pool, id, ada.id, kNow));
  };
  dated("ev-today", kT0, true);                  // ended an hour before kNow
  dated("ev-tomorrow", kT0 + 86'000'000, true);  // starts within a day of kNow
  dated("ev-last-week", kT0 - kWeekMs, true);
  dated("ev-next-week", kT0 + kWeekMs, true);
  dated("ev-static-today", kT0, false);
  const auto prepared = resolver->prepareCurrent(*pool, kNow);
  ASSERT_TRUE(prepared);
  EXPECT_EQ(prepared->events, 2U);
  EXPECT_EQ(prepared->entries, 14U);                               // Ada × 7 windows, twice
  EXPECT_EQ(resolver->prepare(*pool, "ev-today").value(), 0U);     // built already
  EXPECT_EQ(resolver->prepare(*pool, "ev-tomorrow").value(), 0U);  // built already
  EXPECT_EQ(resolver->prepare(*pool, "ev-last-week").value(), 7U);
  EXPECT_EQ(resolver->prepare(*pool, "ev-next-week").value(), 7U);
  EXPECT_EQ(resolver->prepareCurrent(*pool, kNow)->entries, 0U);  // nothing changed: nothing built
  EXPECT_EQ(core::PrivateIdResolver{std::nullopt}.prepareCurrent(*pool, kNow)->events, 0U);
}

// What `serve` runs on a thread of its own (--private-ids-refresh): a current event's index is built at
// once, and after a registration changes who is indexed it is rebuilt by the next round, off any
// request, so the next batch finds it ready instead of building it.
TEST_F(PrivateIds, RefreshRebuildsACurrentEventsIndexAfterARegistrationInTheBackground) {
  core::NewEvent e{std::string{"ev-today"}, "Today", "Hall", fromEpochMillis(kT0), fromEpochMillis(kT0 + 3600'000)};
  e.privateIds = true;
  ASSERT_TRUE(core::createEvent(*pool, e, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-today", ada.id, kNow));
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-today", kNow));
  attendance::support::SimulatedTimeSource clock{kNow};
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::size_t> built;  // entries built per round
  std::jthread refresher{[&](std::stop_token stop) {
    resolver->refreshCurrent(*pool, clock, std::chrono::seconds{60}, stop, [&](const auto& round) {
      std::lock_guard lock{m};
      built.push_back(round ? round->entries : 999'999);
      cv.notify_all();
    });
  }};
  // Moves the simulated clock a round's interval at a time until `rounds` rounds have run.
  const auto runRounds = [&](std::size_t rounds) {
    for (int i = 0; i < 3000; ++i) {
      {
        std::unique_lock lock{m};
        if (cv.wait_for(lock, std::chrono::milliseconds{10}, [&] { return built.size() >= rounds; })) return true;
      }
      clock.advance(std::chrono::seconds{60});
    }
    return false;
  };
  {
    std::unique_lock lock{m};
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds{30}, [&] { return !built.empty(); }));
    EXPECT_EQ(built[0], 7U);  // at once: Ada × the event's 7 windows
  }
  // Bob registers, with a key: the index no longer says who is there.
  ASSERT_TRUE(core::participantIdentityKey(*pool, serverKey, bob.id, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-today", bob.id, kNow));
  ASSERT_TRUE(runRounds(2));
  ASSERT_TRUE(runRounds(3));
  refresher.request_stop();
  refresher.join();
  EXPECT_EQ(built[1], 14U);                                     // rebuilt for Ada and Bob
  EXPECT_EQ(built[2], 0U);                                      // nothing changed since
  EXPECT_EQ(resolver->prepare(*pool, "ev-today").value(), 0U);  // ready: the next batch builds nothing
  auto bobKey = core::participantIdentityKey(*pool, serverKey, bob.id, kNow);
  ASSERT_TRUE(bobKey);
  auto r = post("ev-today", {{bid::bleUuidAt(*bobKey, bleNamespace, {}, kT0 + 60'000).value(), kT0 + 60'000}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->registered, 1U);
}

TEST_F(PrivateIds, WithoutTheServerKeyAPrivateIdsEventRefusesTheBatch) {
  options.privateIds = std::make_shared<core::PrivateIdResolver>(std::nullopt);
  auto r = post("ev-p", {{adaIdAt(kT0), kT0}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::Errc::beacon_key_missing);
  EXPECT_EQ(scalar("SELECT count(*) FROM sync_receipts"), "0");
  options.privateIds.reset();
  EXPECT_FALSE(post("ev-p", {{adaIdAt(kT0), kT0}}));
  EXPECT_TRUE(post("ev-s", {{adaIdAt(kT0), kT0}}));
}

TEST_F(PrivateIds, BeaconSettingsCarryTheKeyOnlyForAPrivateIdsEvent) {
  auto s = core::readBeaconSettings(*pool, &serverKey, ada.id, kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->identityKey);
  EXPECT_EQ(*s->identityKey, adaKey);
  ASSERT_EQ(s->events.size(), 2U);
  EXPECT_EQ(core::readBeaconSettings(*pool, nullptr, ada.id, kNow).error(), core::Errc::beacon_key_missing);
  ASSERT_TRUE(core::unregisterFromEvent(*pool, "ev-p", ada.id));
  s = core::readBeaconSettings(*pool, nullptr, ada.id, kNow);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->identityKey);
  EXPECT_EQ(core::renderBeaconSettingsJson(*s),
            "{\"namespace\":\"" + bleNamespace.toHex() + "\",\"bleUuid\":\"" + ada.bleUuid.toString() +
                "\",\"periodSeconds\":900,\"identityKey\":null,\"events\":[{\"id\":\"ev-s\",\"name\":\"Static\","
                "\"startsAt\":null,\"endsAt\":null,\"privateIds\":false}]}");
}

}  // namespace
