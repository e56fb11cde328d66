// Scanners assigned to events (migration 0006, assignments.hpp): the CRUD, the
// cascades, the upgrade that keeps what existing scanners could do, and ingest
// refusing an unassigned scanner and records far outside the event's window.
#include "core/test_database.hpp"

#include <attendance/core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include <pqxx/pqxx>

namespace core = attendance::core;
using attendance::support::fromEpochMillis;
using core::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

const auto kNow = fromEpochMillis(1721480000000);  // 2024-07-20T12:53:20Z
constexpr std::int64_t kT0 = 1721471400000;        // 2024-07-20T10:30:00Z
constexpr std::int64_t kHourMs = 3'600'000;

std::vector<std::string> eventsOf(const std::vector<core::ScannerAssignment>& list) {
  std::vector<std::string> out;
  for (const auto& a : list) out.push_back(a.eventId);
  return out;
}

std::vector<std::string> scannersOf(const std::vector<core::ScannerAssignment>& list) {
  std::vector<std::string> out;
  for (const auto& a : list) out.push_back(a.scannerId);
  return out;
}

core::IngestRequest request(const std::string& eventId, const std::string& scanner,
                            const std::vector<std::int64_t>& times) {
  core::IngestRequest r;
  r.eventId = eventId;
  r.scannerId = scanner;
  for (std::size_t i = 0; i < times.size(); ++i) {
    char text[64];
    std::snprintf(text, sizeof text, "%08zx-0000-4000-8000-00000000abcd", i + 1);
    r.records.push_back({i, *attendance::support::Uuid::parse(text), times[i], scanner});
  }
  return r;
}

class Assignments : public ::testing::Test {
protected:
  void SetUp() override {
    pool = db.pool();
    // ev-1 runs 10:30-12:30 UTC; ev-2 is undated.
    ASSERT_TRUE(core::createEvent(
        *pool, {std::string{"ev-1"}, "Meetup", "Hall", fromEpochMillis(kT0), fromEpochMillis(kT0 + 2 * kHourMs)},
        kNow));
    ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev-2"}, "Other", "", std::nullopt, std::nullopt}, kNow));
    for (const char* s : {"S1", "S2"}) ASSERT_TRUE(core::createScanner(*pool, s, kNow));
  }

  std::string count(const std::string& table) { return db.scalar("SELECT count(*) FROM " + table); }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
};

TEST_F(Assignments, AssignListAndUnassign) {
  auto first = core::assignScanner(*pool, "S1", "ev-1", kNow);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(*first);
  auto again = core::assignScanner(*pool, "S1", "ev-1", kNow + 1h);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // already assigned; the first time stays
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-2", kNow));
  ASSERT_TRUE(core::assignScanner(*pool, "S2", "ev-1", kNow));

  auto s1 = core::listScannerEvents(*pool, "S1");
  ASSERT_TRUE(s1);
  EXPECT_EQ(eventsOf(*s1), (std::vector<std::string>{"ev-1", "ev-2"}));
  EXPECT_EQ((*s1)[0].assignedAt, kNow);
  auto ev1 = core::listEventScanners(*pool, "ev-1");
  ASSERT_TRUE(ev1);
  EXPECT_EQ(scannersOf(*ev1), (std::vector<std::string>{"S1", "S2"}));
  auto all = core::listAssignments(*pool);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3U);

  EXPECT_TRUE(*core::isAssigned(*pool, "S1", "ev-1"));
  EXPECT_FALSE(*core::isAssigned(*pool, "S2", "ev-2"));
  EXPECT_FALSE(*core::isAssigned(*pool, "S1", "no-such-event"));
  EXPECT_FALSE(*core::isAssigned(*pool, "no-such-scanner", "ev-1"));

  auto removed = core::unassignScanner(*pool, "S1", "ev-1");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(*core::isAssigned(*pool, "S1", "ev-1"));
  EXPECT_FALSE(*core::unassignScanner(*pool, "S1", "ev-1"));  // nothing left to remove
}

TEST_F(Assignments, UnknownScannerOrEventIsNamed) {
  EXPECT_EQ(core::assignScanner(*pool, "nope", "ev-1", kNow).error(), core::Errc::scanner_not_found);
  EXPECT_EQ(core::assignScanner(*pool, "S1", "nope", kNow).error(), core::Errc::event_not_found);
  EXPECT_EQ(core::unassignScanner(*pool, "nope", "ev-1").error(), core::Errc::scanner_not_found);
  EXPECT_EQ(core::unassignScanner(*pool, "S1", "nope").error(), core::Errc::event_not_found);
  EXPECT_EQ(core::listScannerEvents(*pool, "nope").error(), core::Errc::scanner_not_found);
  EXPECT_EQ(core::listEventScanners(*pool, "nope").error(), core::Errc::event_not_found);
  EXPECT_EQ(count("scanner_assignments"), "0");
}

TEST_F(Assignments, DeletingAnEventOrAScannerDeletesItsAssignments) {
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-1", kNow));
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-2", kNow));
  ASSERT_TRUE(core::assignScanner(*pool, "S2", "ev-2", kNow));
  ASSERT_TRUE(core::deleteEvent(*pool, "ev-2", false));
  EXPECT_EQ(count("scanner_assignments"), "1");
  // Scanners are never deleted by the tools (revoked instead), but the cascade holds.
  (void)db.scalar("DELETE FROM scanners WHERE scanner_id = 'S1'");
  EXPECT_EQ(count("scanner_assignments"), "0");
}

TEST_F(Assignments, UnassignedScannerIsRefusedAndNothingIsStored) {
  auto r = core::ingestBatch(*pool, request("ev-1", "S1", {kT0 + 60'000}), kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::Errc::scanner_not_assigned);
  EXPECT_EQ(core::httpStatusFor(r.error()), 403);
  // An empty batch too: no receipt.
  EXPECT_EQ(core::ingestBatch(*pool, request("ev-1", "S1", {}), kNow).error(), core::Errc::scanner_not_assigned);
  // An unknown event answers the same: a scanner learns nothing about events it is not assigned to.
  EXPECT_EQ(core::ingestBatch(*pool, request("no-such-event", "S1", {kT0}), kNow).error(),
            core::Errc::scanner_not_assigned);
  EXPECT_EQ(count("check_ins"), "0");
  EXPECT_EQ(count("sync_receipts"), "0");

  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-1", kNow));
  auto ok = core::ingestBatch(*pool, request("ev-1", "S1", {kT0 + 60'000}), kNow);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->inserted, 1U);
  // Another scanner's assignment does not cover S2, and S1's does not cover ev-2.
  EXPECT_EQ(core::ingestBatch(*pool, request("ev-1", "S2", {kT0}), kNow).error(), core::Errc::scanner_not_assigned);
  EXPECT_EQ(core::ingestBatch(*pool, request("ev-2", "S1", {kT0}), kNow).error(), core::Errc::scanner_not_assigned);

  ASSERT_TRUE(core::unassignScanner(*pool, "S1", "ev-1"));
  EXPECT_EQ(core::ingestBatch(*pool, request("ev-1", "S1", {kT0 + 120'000}), kNow).error(),
            core::Errc::scanner_not_assigned);
  EXPECT_EQ(count("check_ins"), "1");
  EXPECT_EQ(count("sync_receipts"), "1");
}

TEST_F(Assignments, RecordsFarOutsideTheEventWindowAreRejectedOneByOne) {
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-1", kNow));
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-2", kNow));
  const std::int64_t day = 24 * kHourMs;
  const std::int64_t ends = kT0 + 2 * kHourMs;
  // Window with the default slack: [10:30 - 24 h, 12:30 + 24 h].
  auto r = core::ingestBatch(
      *pool, request("ev-1", "S1", {kT0 - day - 1, kT0 - day, kT0 + 5, ends + day, ends + day + 1}), kNow + 48h);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->inserted, 3U);
  ASSERT_EQ(r->rejected.size(), 2U);
  EXPECT_EQ(r->rejected[0].index, 0U);
  EXPECT_EQ(r->rejected[0].reason, "outside_event_window");
  EXPECT_EQ(r->rejected[0].detail,
            "checkInTime 2024-07-19T10:29:59.999Z is more than 1440 minutes before the event's window "
            "[2024-07-20T10:30:00.000Z, 2024-07-20T12:30:00.000Z]");
  EXPECT_EQ(r->rejected[1].index, 4U);
  EXPECT_EQ(r->rejected[1].reason, "outside_event_window");
  EXPECT_NE(r->rejected[1].detail.find("after the event's window"), std::string::npos);
  const std::string json = core::renderIngestResultJson(*r);
  EXPECT_NE(json.find(R"({"index":0,"reason":"outside_event_window","detail":"checkInTime 2024-07-19T10:29:59.999Z)"),
            std::string::npos)
      << json;

  // A smaller slack narrows it.
  core::IngestOptions narrow;
  narrow.eventWindowSlack = 1h;
  auto n = core::ingestBatch(*pool, request("ev-1", "S1", {kT0 - kHourMs - 1, kT0 - kHourMs}), kNow, narrow);
  ASSERT_TRUE(n);
  ASSERT_EQ(n->rejected.size(), 1U);
  EXPECT_EQ(n->rejected[0].index, 0U);
  EXPECT_NE(n->rejected[0].detail.find("more than 60 minutes before"), std::string::npos) << n->rejected[0].detail;

  // An undated event has no window.
  auto u = core::ingestBatch(*pool, request("ev-2", "S1", {kT0 - 30 * day}), kNow);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->rejected.empty());
  EXPECT_EQ(u->inserted, 1U);
}

// An unassign that is in flight while a batch arrives: the batch's assignment
// lookup waits for it (FOR KEY SHARE against the DELETE) and is then refused; it
// never stores rows for an assignment that is already gone.
TEST_F(Assignments, ABatchWaitsForAnUnassignInFlightAndIsThenRefused) {
  ASSERT_TRUE(core::assignScanner(*pool, "S1", "ev-1", kNow));
  pqxx::connection admin{db.conninfo()};
  pqxx::work unassign{admin};
  unassign.exec("DELETE FROM scanner_assignments WHERE scanner_id = 'S1' AND event_id = 'ev-1'");
  auto batch = std::async(std::launch::async,
                          [&] { return core::ingestBatch(*pool, request("ev-1", "S1", {kT0 + 60'000}), kNow); });
  // Poll until the batch waits on the uncommitted DELETE's row lock.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (db.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted") == "0") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the batch did not wait for the unassign";
    ASSERT_EQ(batch.wait_for(10ms), std::future_status::timeout) << "the batch finished before the unassign";
  }
  unassign.commit();
  auto r = batch.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::Errc::scanner_not_assigned);
  EXPECT_EQ(count("check_ins"), "0");
  EXPECT_EQ(count("sync_receipts"), "0");
}

// The upgrade to migration 0006: every existing non-revoked scanner keeps every
// existing event; what comes later needs an explicit assignment.
TEST(AssignmentsMigration, ExistingScannersKeepEveryExistingEvent) {
  TestDatabase db;
  auto pool = db.pool();
  // Back to the schema before 0006, with data in it.
  (void)db.scalar("DROP TABLE scanner_assignments");
  (void)db.scalar("DELETE FROM attendance_schema_migrations WHERE version = 6");
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"old-1"}, "Old", "", std::nullopt, std::nullopt}, kNow));
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"old-2"}, "Old 2", "", std::nullopt, std::nullopt}, kNow));
  for (const char* s : {"A", "B", "Gone"}) ASSERT_TRUE(core::createScanner(*pool, s, kNow));
  ASSERT_TRUE(core::revokeScanner(*pool, "Gone", kNow));

  auto m = core::migrate(*pool);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->applied(), 1);
  auto all = core::listAssignments(*pool);
  ASSERT_TRUE(all);
  std::vector<std::string> pairs;
  for (const auto& a : *all) pairs.push_back(a.scannerId + "/" + a.eventId);
  EXPECT_EQ(pairs, (std::vector<std::string>{"A/old-1", "A/old-2", "B/old-1", "B/old-2"}));
  // The grandfathered scanner still writes where it wrote before.
  EXPECT_TRUE(core::ingestBatch(*pool, request("old-1", "A", {kT0}), kNow));

  // New events and new scanners start unassigned.
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"new"}, "New", "", std::nullopt, std::nullopt}, kNow));
  ASSERT_TRUE(core::createScanner(*pool, "C", kNow));
  EXPECT_FALSE(*core::isAssigned(*pool, "A", "new"));
  EXPECT_FALSE(*core::isAssigned(*pool, "C", "old-1"));
  EXPECT_EQ(core::ingestBatch(*pool, request("new", "A", {kT0}), kNow).error(), core::Errc::scanner_not_assigned);
}

}  // namespace
