// Manual check-ins and revocations by door staff (migration 0010) against a
// real database: the effective state is the scanner's check-ins and the latest
// override; the report shows who was checked in by hand, by whom, when and why;
// the trail is append-only; a second check-in or a revoke of someone not checked
// in writes nothing.
#include "core/report_test_support.hpp"
#include "core/test_database.hpp"

#include <attendance/core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <string>

namespace core = attendance::core;
using namespace core::testing;  // the report tests' helpers and clock (report_test_support.hpp)

namespace {

class CheckInOverridesTest : public ::testing::Test {
protected:
  void SetUp() override {
    pool = db.pool();
    ASSERT_NO_FATAL_FAILURE(createEventsWithScannerS1(*pool, {{"ev-1", "Meetup", "Hall"}}));
    for (const char* name : {"Ada", "Bob", "Cy"}) {
      auto u = core::createUser(*pool, {std::string{name} + "@example.org", name, std::nullopt},
                                core::AuthConfig::forTests(), kNow);
      ASSERT_TRUE(u);
      ble.push_back(u->bleUuid);
      if (std::string{name} != "Cy") {
        ASSERT_TRUE(core::registerForEvent(*pool, "ev-1", u->id, kNow));
      }
    }
    // The scanner saw Ada; Bob (registered) and Cy (not registered) were not seen.
    ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{ble[0], kT0}}), kNow));
  }

  attendance::Result<core::OverrideEntry> record(const std::string& email, core::OverrideAction action,
                                                 const std::string& reason = "at the door", int minutes = 0) {
    return core::recordOverride(*pool, {"ev-1", email, action, "door@example.org", reason},
                                kNow + std::chrono::minutes{minutes});
  }

  core::EventReport report() {
    auto r = core::buildReport(*pool, "ev-1", kNow + std::chrono::hours{1});
    EXPECT_TRUE(r);
    return r ? *r : core::EventReport{};
  }

  static const core::ParticipantRow* row(const core::EventReport& r, const std::string& email) {
    const auto it = std::find_if(r.participants.begin(), r.participants.end(),
                                 [&](const core::ParticipantRow& p) { return p.email == email; });
    return it == r.participants.end() ? nullptr : &*it;
  }

  std::string count() const { return db.scalar("SELECT count(*) FROM check_in_overrides"); }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
  std::vector<attendance::support::Uuid> ble;
};

TEST_F(CheckInOverridesTest, ManualCheckInMakesANoShowAttendedAndIsShownAsManual) {
  auto before = report();
  ASSERT_NE(row(before, "Bob@example.org"), nullptr);
  EXPECT_EQ(row(before, "Bob@example.org")->status, core::ParticipantStatus::no_show);
  EXPECT_EQ(core::sourceOf(*row(before, "Ada@example.org")), "scanner");

  auto entry = record("bob@EXAMPLE.org", core::OverrideAction::check_in, "  phone battery dead  ", 5);
  ASSERT_TRUE(entry) << entry.error().message();
  EXPECT_EQ(entry->email, "Bob@example.org");
  EXPECT_EQ(entry->reason, "phone battery dead");
  EXPECT_EQ(entry->adminEmail, "door@example.org");
  EXPECT_EQ(entry->at, kNow + std::chrono::minutes{5});

  const auto r = report();
  const auto* bob = row(r, "Bob@example.org");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->status, core::ParticipantStatus::attended);
  EXPECT_EQ(core::sourceOf(*bob), "manual");
  ASSERT_TRUE(bob->manual);
  EXPECT_EQ(bob->manual->at, kNow + std::chrono::minutes{5});
  EXPECT_EQ(bob->seen.count, 0);
  EXPECT_EQ(r.attended, 2);
  EXPECT_EQ(r.noShows, 0);
  EXPECT_EQ(r.manualCheckIns, 1);
  EXPECT_EQ(r.revoked, 0);
  ASSERT_EQ(r.audit.size(), 1U);
  EXPECT_EQ(r.audit[0].reason, "phone battery dead");
  // The arrival counts at the time of the manual check-in.
  std::int64_t arrivals = 0;
  for (const auto& b : r.arrivals) arrivals += b.arrivals;
  EXPECT_EQ(arrivals, 2);

  const std::string json = core::renderReportJson(r);
  EXPECT_NE(json.find("\"status\":\"attended\",\"source\":\"manual\",\"manualAt\":\"2024-07-20T12:58:20.000Z\""),
            std::string::npos);
  EXPECT_NE(json.find("\"manualCheckIns\":1,\"revoked\":0"), std::string::npos);
  EXPECT_NE(json.find("\"audit\":[{\"userId\":"), std::string::npos);
  EXPECT_NE(json.find("\"action\":\"check_in\",\"by\":\"door@example.org\",\"reason\":\"phone battery dead\","
                      "\"at\":\"2024-07-20T12:58:20.000Z\"}]"),
            std::string::npos);
}

TEST_F(CheckInOverridesTest, SecondCheckInIsAConflictAndWritesNothing) {
  // Ada was seen by the scanner: already checked in.
  auto seen = record("ada@example.org", core::OverrideAction::check_in);
  ASSERT_FALSE(seen);
  EXPECT_EQ(seen.error(), core::make_error_code(core::Errc::conflict));
  ASSERT_TRUE(record("bob@example.org", core::OverrideAction::check_in));
  auto again = record("bob@example.org", core::OverrideAction::check_in);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), core::make_error_code(core::Errc::conflict));
  EXPECT_EQ(count(), "1");
  EXPECT_EQ(report().audit.size(), 1U);
}

TEST_F(CheckInOverridesTest, RevokeThenCheckInAgainFollowsTheLatestOverride) {
  // Nobody checked Bob in: nothing to revoke.
  auto none = record("bob@example.org", core::OverrideAction::revoke);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), core::make_error_code(core::Errc::conflict));

  ASSERT_TRUE(record("ada@example.org", core::OverrideAction::revoke, "badge given to a friend", 1));
  auto r = report();
  const auto* ada = row(r, "Ada@example.org");
  ASSERT_NE(ada, nullptr);
  EXPECT_EQ(ada->status, core::ParticipantStatus::no_show);
  EXPECT_EQ(core::sourceOf(*ada), "manual");
  EXPECT_EQ(ada->seen.count, 1);  // the scanner's sighting stays visible
  EXPECT_EQ(r.attended, 0);
  EXPECT_EQ(r.revoked, 1);
  EXPECT_EQ(r.manualCheckIns, 0);
  EXPECT_TRUE(r.arrivals.empty());
  // A later sync of the same person does not undo the revocation.
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{ble[0], kT0 + 60'000}}), kNow));
  EXPECT_EQ(row(report(), "Ada@example.org")->status, core::ParticipantStatus::no_show);
  auto twice = record("ada@example.org", core::OverrideAction::revoke);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error(), core::make_error_code(core::Errc::conflict));

  ASSERT_TRUE(record("ada@example.org", core::OverrideAction::check_in, "it was her after all", 2));
  r = report();
  ada = row(r, "Ada@example.org");
  EXPECT_EQ(ada->status, core::ParticipantStatus::attended);
  EXPECT_EQ(ada->manual->action, core::OverrideAction::check_in);
  EXPECT_EQ(r.revoked, 0);
  EXPECT_EQ(r.manualCheckIns, 1);
  ASSERT_EQ(r.audit.size(), 2U);
  EXPECT_EQ(r.audit[0].action, core::OverrideAction::revoke);
  EXPECT_EQ(r.audit[1].action, core::OverrideAction::check_in);
  auto listed = core::listOverrides(*pool, "ev-1");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 2U);
}

TEST_F(CheckInOverridesTest, UnregisteredParticipantCheckedInByHandIsAWalkInUntilRevoked) {
  ASSERT_TRUE(record("cy@example.org", core::OverrideAction::check_in, "registered on paper"));
  auto r = report();
  ASSERT_NE(row(r, "Cy@example.org"), nullptr);
  EXPECT_EQ(row(r, "Cy@example.org")->status, core::ParticipantStatus::walk_in);
  EXPECT_EQ(r.walkIns, 1);
  ASSERT_TRUE(record("cy@example.org", core::OverrideAction::revoke, "wrong person", 1));
  r = report();
  EXPECT_EQ(row(r, "Cy@example.org"), nullptr);
  EXPECT_EQ(r.walkIns, 0);
  EXPECT_EQ(r.revoked, 1);
  EXPECT_EQ(r.audit.size(), 2U);
}

TEST_F(CheckInOverridesTest, RefusedInputWritesNothing) {
  auto expectRefused = [&](const std::string& email, const std::string& reason, core::Errc errc) {
    SCOPED_TRACE(email + " / " + reason);
    auto r = record(email, core::OverrideAction::check_in, reason);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::make_error_code(errc));
  };
  expectRefused("bob@example.org", "", core::Errc::invalid_argument);
  expectRefused("bob@example.org", "   ", core::Errc::invalid_argument);
  expectRefused("bob@example.org", std::string(501, 'x'), core::Errc::invalid_argument);
  expectRefused("bob@example.org", "bad \xC3\x28 bytes", core::Errc::invalid_argument);
  expectRefused("bob@example.org", "two\nlines", core::Errc::invalid_argument);
  expectRefused("nobody@example.org", "ok", core::Errc::user_not_found);
  EXPECT_TRUE(core::validateOverrideReason(std::string(500, 'x')) == std::nullopt);
  EXPECT_TRUE(core::validateOverrideReason("Zoë ✓") == std::nullopt);
  auto noEvent = core::recordOverride(
      *pool, {"ev-none", "bob@example.org", core::OverrideAction::check_in, "door@example.org", "ok"}, kNow);
  ASSERT_FALSE(noEvent);
  EXPECT_EQ(noEvent.error(), core::make_error_code(core::Errc::event_not_found));
  EXPECT_EQ(count(), "0");
}

TEST_F(CheckInOverridesTest, TheTrailIsAppendOnly) {
  ASSERT_TRUE(record("bob@example.org", core::OverrideAction::check_in, "original reason"));
  EXPECT_THROW(execSql(db, "UPDATE check_in_overrides SET reason = 'rewritten'"), pqxx::sql_error);
  EXPECT_THROW(execSql(db, "UPDATE check_in_overrides SET action = 'revoke'"), pqxx::sql_error);
  EXPECT_THROW(execSql(db, "DELETE FROM check_in_overrides"), pqxx::sql_error);
  EXPECT_EQ(db.scalar("SELECT reason FROM check_in_overrides"), "original reason");
  // Rows leave with their event.
  execSql(db, "DELETE FROM check_ins WHERE event_id = 'ev-1'; DELETE FROM events WHERE id = 'ev-1'");
  EXPECT_EQ(count(), "0");
}

TEST_F(CheckInOverridesTest, CsvAppendsTheManualColumnsAtTheEnd) {
  ASSERT_TRUE(record("bob@example.org", core::OverrideAction::check_in, "no phone, \"paper\" ticket"));
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{numberedUuid(9), kT0}}), kNow));  // an unknown device
  const std::string csv = core::renderReportCsv(report());
  EXPECT_EQ(csv.rfind("status,name,email,bleUuid,firstSeen,lastSeen,scanners,sightings,source,manualAt,manualBy,"
                      "manualReason\r\n",
                      0),
            0U);
  EXPECT_NE(csv.find("attended,Ada,Ada@example.org," + ble[0].toString() +
                     ",2024-07-20T10:00:00.000Z,2024-07-20T10:00:00.000Z,S1,1,scanner,,,\r\n"),
            std::string::npos);
  EXPECT_NE(csv.find("attended,Bob,Bob@example.org," + ble[1].toString() +
                     ",,,,0,manual,2024-07-20T12:53:20.000Z,door@example.org,\"no phone, \"\"paper\"\" ticket\"\r\n"),
            std::string::npos);
  EXPECT_NE(csv.find("unknown-device,,," + numberedUuid(9).toString() +
                     ",2024-07-20T10:00:00.000Z,2024-07-20T10:00:00.000Z,S1,1,scanner,,,\r\n"),
            std::string::npos);
}

TEST_F(CheckInOverridesTest, TheCachedReportShowsAnOverrideAtOnce) {
  core::ReportCache cache;
  auto first = cache.get(*pool, "ev-1", kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)->report().manualCheckIns, 0);
  ASSERT_TRUE(record("bob@example.org", core::OverrideAction::check_in));
  auto second = cache.get(*pool, "ev-1", kNow);
  ASSERT_TRUE(second);
  EXPECT_EQ((*second)->report().manualCheckIns, 1);
  // A sync after an override: the cache builds in full (the incremental merge does not apply overrides).
  ASSERT_TRUE(record("ada@example.org", core::OverrideAction::revoke));
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{ble[0], kT0 + 5}}), kNow));
  auto third = cache.get(*pool, "ev-1", kNow);
  ASSERT_TRUE(third);
  auto fresh = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(core::renderReportCsv((*third)->report()), core::renderReportCsv(*fresh));
  EXPECT_EQ((*third)->report().revoked, 1);
}

}  // namespace
