// The report's data version (migration 0003) against a real database: every
// change that can alter a report moves it, read-only actions do not, the
// version buildReport stores is the one of its snapshot, and a registration's
// bump does not block a concurrent ingest of the same event.
#include "core/report_test_support.hpp"
#include "core/test_database.hpp"

#include <attendance/core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <future>
#include <string>

namespace core = attendance::core;
using attendance::support::Uuid;
using namespace core::testing;  // the report tests' helpers and clock (report_test_support.hpp)

namespace {

class ReportVersionTest : public ::testing::Test {
protected:
  void SetUp() override {
    pool = db.pool();
    ASSERT_NO_FATAL_FAILURE(createEventsWithScannerS1(*pool, {{"ev-1", "Meetup", "Hall"}, {"ev-2", "Other", ""}}));
    auto ada = core::createUser(*pool, {"ada@example.org", "Ada", std::string{"correct horse"}},
                                core::AuthConfig::forTests(), kNow);
    ASSERT_TRUE(ada);
    adaId = ada->id;
    adaBle = ada->bleUuid;
    ASSERT_TRUE(core::registerForEvent(*pool, "ev-1", adaId, kNow));
  }

  core::ReportVersion version(const std::string& eventId = "ev-1") {
    auto v = core::readReportVersion(*pool, eventId);
    EXPECT_TRUE(v) << v.error().message();
    return v ? *v : core::ReportVersion{};
  }

  // The version moves across `change`, and a report built afterwards carries the new one.
  void expectChanges(const char* what, const std::function<void()>& change) {
    SCOPED_TRACE(what);
    const auto before = version();
    change();
    const auto after = version();
    EXPECT_NE(before, after);
    auto report = core::buildReport(*pool, "ev-1", kNow);
    ASSERT_TRUE(report);
    EXPECT_EQ(report->version, after);
  }

  void expectUnchanged(const char* what, const std::function<void()>& action) {
    SCOPED_TRACE(what);
    const auto before = version();
    action();
    EXPECT_EQ(before, version());
  }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
  std::string adaId;
  Uuid adaBle;
};

TEST_F(ReportVersionTest, UnknownEventIsNotFound) {
  auto v = core::readReportVersion(*pool, "no-such-event");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error(), core::make_error_code(core::Errc::event_not_found));
}

TEST_F(ReportVersionTest, EveryChangeThatAltersTheReportMovesTheVersion) {
  expectChanges("ingest of a new batch", [&] {
    auto r = core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0}, {numberedUuid(7), kT0 + 1}}), kNow);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->inserted, 2U);
  });
  expectChanges("ingest of an all-duplicate batch (a new receipt: one more sync)", [&] {
    auto r = core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0}}), kNow);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->inserted, 0U);
  });
  expectChanges("ingest of an empty batch (synced, nobody came)",
                [&] { ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {}), kNow)); });
  expectChanges("performCheckIn without a receipt", [&] {
    core::CheckInRecord rec;
    rec.bleUuid = numberedUuid(8);
    rec.checkInTimeMs = kT0 + 5;
    rec.scannerId = "S1";
    auto r = core::performCheckIn(*pool, "ev-1", rec);
    ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
  });
  std::string bobId;
  expectChanges("a new user (an unknown device becomes a walk-in)", [&] {
    auto bob = core::createUser(*pool, {"bob@example.org", "Bob", std::nullopt}, core::AuthConfig::forTests(), kNow);
    ASSERT_TRUE(bob);
    bobId = bob->id;
  });
  expectChanges("register", [&] {
    auto r = core::registerForEvent(*pool, "ev-1", bobId, kNow);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, core::RegistrationOutcome::created);
  });
  expectChanges("unregister", [&] {
    auto r = core::unregisterFromEvent(*pool, "ev-1", bobId);
    ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
  });
  expectChanges("rename a user",
                [&] { execSql(db, "UPDATE users SET display_name = 'Ada L.' WHERE email = 'ada@example.org'"); });
  expectChanges("change a user's email",
                [&] { execSql(db, "UPDATE users SET email = 'ada@example.net' WHERE email = 'ada@example.org'"); });
  expectChanges("regenerate a bleUuid", [&] { ASSERT_TRUE(core::regenerateBleUuid(*pool, adaId)); });
  expectChanges("edit the event", [&] { execSql(db, "UPDATE events SET venue = 'Room 2' WHERE id = 'ev-1'"); });
  expectChanges("delete a user", [&] { execSql(db, "DELETE FROM users WHERE email = 'bob@example.org'"); });
  expectChanges("revoke by door staff (migration 0010)", [&] {
    ASSERT_TRUE(core::recordOverride(
        *pool, {"ev-1", "ada@example.net", core::OverrideAction::revoke, "door@example.org", "left early"}, kNow));
  });
  expectChanges("manual check-in by door staff", [&] {
    ASSERT_TRUE(core::recordOverride(
        *pool, {"ev-1", "ada@example.net", core::OverrideAction::check_in, "door@example.org", "came back"}, kNow));
  });

  // The report itself shows these changes under the new versions.
  auto report = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->event.venue, "Room 2");
  ASSERT_EQ(report->participants.size(), 1U);
  EXPECT_EQ(report->participants[0].displayName, "Ada L.");
  ASSERT_EQ(report->scanners.size(), 1U);
  EXPECT_EQ(report->scanners[0].syncs, 3);
  EXPECT_EQ(core::sourceOf(report->participants[0]), "manual");
  EXPECT_EQ(report->audit.size(), 2U);
}

TEST_F(ReportVersionTest, ReadOnlyActionsAndOtherEventsLeaveTheVersion) {
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0}}), kNow));
  expectUnchanged("building a report (folds receipts into report_seen)",
                  [&] { ASSERT_TRUE(core::buildReport(*pool, "ev-1", kNow)); });
  expectUnchanged("a login and a token check", [&] {
    auto s = core::createSession(*pool, "ada@example.org", "correct horse", core::AuthConfig::forTests(), kNow);
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE(core::authenticateToken(*pool, s->token, kNow));
    ASSERT_TRUE(core::revokeSession(*pool, s->token));
  });
  expectUnchanged("reading lists and the roster", [&] {
    ASSERT_TRUE(core::listEvents(*pool));
    ASSERT_TRUE(core::listUsers(*pool));
    ASSERT_TRUE(core::roster(*pool, "ev-1"));
  });
  expectUnchanged("registering for, syncing and editing another event", [&] {
    ASSERT_TRUE(core::registerForEvent(*pool, "ev-2", adaId, kNow));
    ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-2", {{adaBle, kT0}}), kNow));
    execSql(db, "UPDATE events SET name = 'Renamed' WHERE id = 'ev-2'");
  });
  expectUnchanged("registering someone already registered", [&] {
    auto r = core::registerForEvent(*pool, "ev-1", adaId, kNow);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, core::RegistrationOutcome::already_registered);
  });
  expectUnchanged("disabling a user (the report does not show it)",
                  [&] { execSql(db, "UPDATE users SET disabled = true WHERE email = 'ada@example.org'"); });
}

// The pair buildReport stores is consistent: a report built in a snapshot
// taken before a change carries the version from before it.
TEST_F(ReportVersionTest, ReportCarriesTheVersionOfItsOwnSnapshot) {
  auto first = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->version, version());
  EXPECT_EQ(first->attended, 0);
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0}}), kNow));
  auto second = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(second);
  EXPECT_NE(second->version, first->version);
  EXPECT_EQ(second->version, version());
  EXPECT_EQ(second->attended, 1);
}

// A registration holds the event row's FOR NO KEY UPDATE lock until it
// commits; ingest only takes FOR KEY SHARE, so it must finish meanwhile.
TEST_F(ReportVersionTest, OpenRegistrationDoesNotBlockIngestOfTheSameEvent) {
  auto bob = core::createUser(*pool, {"bob@example.org", "Bob", std::nullopt}, core::AuthConfig::forTests(), kNow);
  ASSERT_TRUE(bob);
  pqxx::connection holder{db.conninfo()};
  pqxx::work open{holder};
  open.exec_params("INSERT INTO registrations (event_id, user_id, created_at) VALUES ('ev-1', $1::uuid, now())",
                   bob->id);
  // The bump is really pending on the event row.
  EXPECT_EQ(open.exec("SELECT report_version FROM events WHERE id = 'ev-1'")[0][0].as<std::int64_t>(),
            version().event + 1);

  const auto before = version();
  auto ingest = std::async(std::launch::async, [&] {
    return core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0}, {numberedUuid(9), kT0 + 2}}), kNow);
  });
  const bool finished = ingest.wait_for(std::chrono::seconds{20}) == std::future_status::ready;
  if (!finished) open.abort();  // unblock it so the test ends; then fail
  ASSERT_TRUE(finished) << "ingestBatch waited for an uncommitted registration";
  auto result = ingest.get();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->inserted, 2U);
  const auto afterIngest = version();
  EXPECT_EQ(afterIngest.receipts, before.receipts + 1);
  EXPECT_EQ(afterIngest.event, before.event);  // the registration is not committed yet
  EXPECT_EQ(afterIngest.users, before.users);

  open.commit();
  EXPECT_EQ(version().event, before.event + 1);
  auto report = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->registered, 2);
  EXPECT_EQ(report->attended, 1);
}

// Ingest stays a plain COPY: no trigger of ours on the tables it writes, and
// a batch moves only the receipt count (no trigger fired on events or users).
TEST_F(ReportVersionTest, IngestFiresNoTrigger) {
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
                      "('check_ins'::regclass, 'sync_receipts'::regclass)"),
            "0");
  const auto before = version();
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0}, {numberedUuid(3), kT0}}), kNow));
  auto after = version();
  EXPECT_EQ(after.event, before.event);
  EXPECT_EQ(after.users, before.users);
  EXPECT_EQ(after.receipts, before.receipts + 1);
  EXPECT_EQ(after.unreceipted, before.unreceipted);
}

// Deleting an event (its registrations cascade, whose trigger finds the event
// row gone) works, and its version then answers event_not_found.
TEST_F(ReportVersionTest, DeletingAnEventWithRegistrations) {
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0}}), kNow));
  execSql(db, "DELETE FROM check_ins WHERE event_id = 'ev-1'; DELETE FROM events WHERE id = 'ev-1'");
  auto v = core::readReportVersion(*pool, "ev-1");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error(), core::make_error_code(core::Errc::event_not_found));
  // Deleting a user registered for several events bumps each of them once.
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev-3"}, "Third", "", std::nullopt, std::nullopt}, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-2", adaId, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev-3", adaId, kNow));
  const auto v2 = version("ev-2");
  const auto v3 = version("ev-3");
  execSql(db, "DELETE FROM users WHERE email = 'ada@example.org'");
  EXPECT_EQ(version("ev-2").event, v2.event + 1);
  EXPECT_EQ(version("ev-3").event, v3.event + 1);
  EXPECT_GT(version("ev-2").users, v2.users);  // users and the cascade to retired_ble_uuids
}

}  // namespace
