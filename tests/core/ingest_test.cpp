#include "core/test_database.hpp"

#include <attendance/core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace core = attendance::core;
using attendance::support::fromEpochMillis;
using attendance::support::Uuid;
using core::testing::TestDatabase;

namespace {

const auto kNow = fromEpochMillis(1721480000000);  // 2024-07-20T12:53:20Z
constexpr std::int64_t kT0 = 1721471400000;        // 2024-07-20T10:30:00Z

std::string uuidText(int n) {
  char text[64];
  std::snprintf(text, sizeof text, "%08x-0000-4000-8000-00000000abcd", n);
  return text;
}

std::string body(const std::string& eventId, const std::string& scanner,
                 const std::vector<std::pair<std::string, std::int64_t>>& rows) {
  std::string b = "{\"eventId\":\"" + eventId + "\",\"records\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i != 0) b += ',';
    b += "{\"bleUuid\":\"" + rows[i].first + "\",\"checkInTime\":" + std::to_string(rows[i].second) +
         ",\"scannerId\":\"" + scanner + "\"}";
  }
  return b + "]}";
}

// What the backend does for one POST: parse, then ingest as the key's scanner.
attendance::Result<core::IngestResult> post(core::ConnectionPool& pool, const std::string& scannerId,
                                            const std::string& b, std::chrono::system_clock::time_point now = kNow) {
  auto parsed = core::parseBatchBody(b);
  EXPECT_TRUE(parsed.ok()) << parsed.message;
  return core::ingestBatch(pool, core::IngestRequest::fromParsed(std::move(parsed.batch), scannerId), now);
}

class Ingest : public ::testing::Test {
protected:
  void SetUp() override {
    pool = db.pool();
    ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev-1"}, "Meetup", "Hall", std::nullopt, std::nullopt}, kNow));
    for (const char* s : {"S1", "S2", "S3"}) {
      ASSERT_TRUE(core::createScanner(*pool, s, kNow));
      ASSERT_TRUE(core::assignScanner(*pool, s, "ev-1", kNow));
    }
    auto a = core::createUser(*pool, {"ada@example.org", "Ada", std::nullopt}, core::AuthConfig::forTests(), kNow);
    auto b = core::createUser(*pool, {"bob@example.org", "Bob", std::nullopt}, core::AuthConfig::forTests(), kNow);
    auto c = core::createUser(*pool, {"cy@example.org", "Cy", std::nullopt}, core::AuthConfig::forTests(), kNow);
    ASSERT_TRUE(a && b && c);
    ada = *a;
    bob = *b;
    cy = *c;
    ASSERT_TRUE(core::registerForEvent(*pool, "ev-1", ada.id, kNow));
    ASSERT_TRUE(core::registerForEvent(*pool, "ev-1", bob.id, kNow));
  }

  std::string count(const std::string& table) { return db.scalar("SELECT count(*) FROM " + table); }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
  core::User ada, bob, cy;
};

TEST_F(Ingest, RepostingTheSameBodyInsertsNothing) {
  const auto b = body("ev-1", "S1", {{ada.bleUuid.toString(), kT0}, {uuidText(7), kT0 + 5000}});
  auto first = post(*pool, "S1", b);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->received, 2U);
  EXPECT_EQ(first->inserted, 2U);
  EXPECT_EQ(first->duplicates, 0U);
  EXPECT_TRUE(first->rejected.empty());
  auto second = post(*pool, "S1", b);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->inserted, 0U);
  EXPECT_EQ(second->duplicates, 2U);
  EXPECT_NE(second->receiptId, first->receiptId);
  EXPECT_EQ(count("check_ins"), "2");
  EXPECT_EQ(count("sync_receipts"), "2");
}

TEST_F(Ingest, PartlyOverlappingBatchStoresOnlyTheNewRecords) {
  // The first batch takes the direct COPY path, the overlapping one the idempotent path.
  ASSERT_TRUE(post(*pool, "S1", body("ev-1", "S1", {{uuidText(1), kT0}, {uuidText(2), kT0}})));
  auto r = post(*pool, "S1", body("ev-1", "S1", {{uuidText(3), kT0}, {uuidText(2), kT0}, {uuidText(1), kT0 + 1}}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->inserted, 2U);
  EXPECT_EQ(r->duplicates, 1U);
  EXPECT_EQ(r->unknownDevices, 3U);
  EXPECT_EQ(count("check_ins"), "4");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM check_ins WHERE receipt_id = " + std::to_string(r->receiptId)), "2");
}

// A scanner's log as the sync reads it: in time order, people arriving and
// being seen again. Resending it, whole or in part, in any batch split, must
// store each record once and never abort a direct COPY on a stored row (each
// abort is an ERROR line in the PostgreSQL log).
class IngestResend : public Ingest {
protected:
  using Log = std::vector<std::pair<std::string, std::int64_t>>;
  static Log scannerLog() {
    Log log;
    // 40 people; person p arrives at minute p and is seen every minute for 10 minutes.
    for (int minute = 0; minute < 50; ++minute) {
      for (int p = std::max(0, minute - 9); p <= std::min(minute, 39); ++p) {
        // bleUuids are random, so arrival order says nothing about uuid order.
        log.push_back({uuidText(1000 + (p * 7 + 3) % 40), kT0 + minute * 60'000 + p});
      }
    }
    return log;
  }
  // Sends log[from, to) in batches of `size`; returns what was inserted and whether any COPY aborted.
  std::pair<std::size_t, bool> send(const Log& log, std::size_t from, std::size_t to, std::size_t size) {
    std::size_t inserted = 0;
    bool conflicted = false;
    for (std::size_t at = from; at < to; at += size) {
      const Log part(log.begin() + static_cast<std::ptrdiff_t>(at),
                     log.begin() + static_cast<std::ptrdiff_t>(std::min(to, at + size)));
      auto r = post(*pool, "S1", body("ev-1", "S1", part));
      EXPECT_TRUE(r) << r.error().message();
      if (!r) continue;
      EXPECT_EQ(r->inserted + r->duplicates, part.size());
      inserted += r->inserted;
      conflicted = conflicted || r->copyConflicted;
    }
    return {inserted, conflicted};
  }
};

TEST_F(IngestResend, WholeLogResentInOtherSplitsStoresNothingAndNeverConflicts) {
  const Log log = scannerLog();
  ASSERT_EQ(log.size(), 400U);
  auto first = send(log, 0, log.size(), 100);
  EXPECT_EQ(first.first, log.size());
  EXPECT_FALSE(first.second);
  for (std::size_t size : {400U, 7U, 150U, 1U, 399U}) {
    SCOPED_TRACE(size);
    auto again = send(log, 0, log.size(), size);
    EXPECT_EQ(again.first, 0U);
    EXPECT_FALSE(again.second);
  }
  EXPECT_EQ(count("check_ins"), "400");
}

TEST_F(IngestResend, LogThatGrewSinceTheLastSyncIsResentWithoutConflict) {
  // The first sync ran while the event was still going (or --all after more lines):
  // the resend holds everything sent before plus what came after, in one batch or
  // several, and its first, middle and last rows (by bleUuid) may all be new.
  const Log log = scannerLog();
  for (std::size_t sentBefore : {50U, 120U, 200U, 333U}) {
    SCOPED_TRACE(sentBefore);
    (void)db.scalar("DELETE FROM check_ins RETURNING 1");
    (void)db.scalar("DELETE FROM sync_receipts RETURNING 1");
    auto first = send(log, 0, sentBefore, 5000);
    EXPECT_EQ(first.first, sentBefore);
    auto all = send(log, 0, log.size(), 5000);
    EXPECT_EQ(all.first, log.size() - sentBefore);
    EXPECT_FALSE(all.second) << "the resend aborted a COPY on a stored row";
    auto split = send(log, 0, log.size(), 64);
    EXPECT_EQ(split.first, 0U);
    EXPECT_FALSE(split.second);
    EXPECT_EQ(count("check_ins"), "400");
  }
}

TEST_F(IngestResend, FreshBatchesOfTheSameScannerStillTakeTheDirectCopy) {
  // Consecutive syncs of a growing log: no overlap, so no batch pays the idempotent path.
  const Log log = scannerLog();
  std::size_t total = 0;
  for (std::size_t at = 0; at < log.size(); at += 80) {
    auto r = post(
        *pool, "S1",
        body("ev-1", "S1",
             Log(log.begin() + static_cast<std::ptrdiff_t>(at), log.begin() + static_cast<std::ptrdiff_t>(at + 80))));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->inserted, 80U);
    EXPECT_FALSE(r->copyConflicted);
    total += r->inserted;
  }
  EXPECT_EQ(total, log.size());
  // Receipts remember the range of check-in times each batch covered.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sync_receipts WHERE min_check_in_time IS NOT NULL"), "5");
}

TEST_F(Ingest, DuplicatesWithinOneBatchAreStoredOnce) {
  const auto u = ada.bleUuid.toString();
  auto r = post(*pool, "S1", body("ev-1", "S1", {{u, kT0}, {u, kT0}, {u, kT0}, {u, kT0 + 1}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->received, 4U);
  EXPECT_EQ(r->inserted, 2U);
  EXPECT_EQ(r->duplicates, 2U);
  EXPECT_EQ(count("check_ins"), "2");
}

TEST_F(Ingest, PerRecordRejectionsKeepTheGoodRecords) {
  const std::string b = R"({"eventId":"ev-1","records":[
    {"bleUuid":")" + ada.bleUuid.toString() +
                        R"(","checkInTime":1721471400000,"scannerId":"S1"},
    {"bleUuid":"zzz","checkInTime":1721471400000,"scannerId":"S1"},
    {"bleUuid":")" + bob.bleUuid.toString() +
                        R"(","checkInTime":1721471400000,"scannerId":"S2"},
    {"bleUuid":")" + bob.bleUuid.toString() +
                        R"(","checkInTime":1500000000000,"scannerId":"S1"},
    {"bleUuid":")" + bob.bleUuid.toString() +
                        R"(","checkInTime":1821471400000,"scannerId":"S1"},
    {"bleUuid":")" + bob.bleUuid.toString() +
                        R"(","checkInTime":1721471401000,"scannerId":"S1"}
  ]})";
  auto r = post(*pool, "S1", b);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->received, 6U);
  EXPECT_EQ(r->inserted, 2U);
  ASSERT_EQ(r->rejected.size(), 4U);
  EXPECT_EQ(r->rejected[0].index, 1U);
  EXPECT_EQ(r->rejected[1].index, 2U);
  EXPECT_EQ(r->rejected[1].reason, "scannerId does not match the API key's scanner");
  EXPECT_EQ(r->rejected[2].index, 3U);
  EXPECT_EQ(r->rejected[2].reason, "checkInTime is before 2020-01-01T00:00:00.000Z");
  EXPECT_EQ(r->rejected[3].index, 4U);
  EXPECT_EQ(r->rejected[3].reason, "checkInTime is more than 1440 minutes in the future");
  EXPECT_EQ(db.scalar("SELECT rejected FROM sync_receipts"), "4");
}

// Answered like an event the scanner is not assigned to (403), so a scanner key
// cannot probe which event ids exist (docs/adr/0046-scanners-are-assigned-to-events.md).
TEST_F(Ingest, UnknownEventIsRefusedLikeAnUnassignedOneAndCommitsNothing) {
  auto r = post(*pool, "S1", body("no-such-event", "S1", {{ada.bleUuid.toString(), kT0}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::Errc::scanner_not_assigned);
  EXPECT_EQ(core::httpStatusFor(r.error()), 403);
  EXPECT_EQ(count("check_ins"), "0");
  EXPECT_EQ(count("sync_receipts"), "0");
}

TEST_F(Ingest, CountsRegisteredWalkInsAndUnknownDevices) {
  auto r = post(*pool, "S1",
                body("ev-1", "S1",
                     {{ada.bleUuid.toString(), kT0},
                      {ada.bleUuid.toString(), kT0 + 1000},
                      {cy.bleUuid.toString(), kT0},
                      {uuidText(1), kT0},
                      {uuidText(2), kT0}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registered, 1U);
  EXPECT_EQ(r->walkIns, 1U);
  EXPECT_EQ(r->unknownDevices, 2U);
  auto rep = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->registered, 2);
  EXPECT_EQ(rep->attended, 1);
  EXPECT_EQ(rep->noShows, 1);
  EXPECT_EQ(rep->walkIns, 1);
  EXPECT_EQ(rep->unknownDevices, 2);
  EXPECT_DOUBLE_EQ(rep->attendanceRate, 0.5);
  // Unknown devices are kept for audit.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM check_ins WHERE ble_uuid = '" + uuidText(1) + "'"), "1");
}

TEST_F(Ingest, NotSyncedDiffersFromSyncedNobodyCame) {
  auto before = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->synced);
  auto empty = post(*pool, "S1", body("ev-1", "S1", {}));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->received, 0U);
  auto after = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->synced);
  EXPECT_EQ(after->attended, 0);
  EXPECT_EQ(after->noShows, 2);
  ASSERT_EQ(after->scanners.size(), 1U);
  EXPECT_EQ(after->scanners[0].scannerId, "S1");
  EXPECT_EQ(after->scanners[0].syncs, 1);
  EXPECT_EQ(after->scanners[0].lastSyncAt, kNow);
}

TEST_F(Ingest, AttendanceIsTheEarliestCheckInAcrossScanners) {
  const auto u = ada.bleUuid.toString();
  ASSERT_TRUE(post(*pool, "S2", body("ev-1", "S2", {{u, kT0 + 60'000}, {u, kT0 + 3'600'000}})));
  ASSERT_TRUE(post(*pool, "S1", body("ev-1", "S1", {{u, kT0}})));
  auto rep = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(rep);
  const auto it = std::find_if(rep->participants.begin(), rep->participants.end(),
                               [&](const core::ParticipantRow& p) { return p.userId == ada.id; });
  ASSERT_NE(it, rep->participants.end());
  EXPECT_EQ(it->status, core::ParticipantStatus::attended);
  EXPECT_EQ(*it->seen.firstSeen, fromEpochMillis(kT0));
  EXPECT_EQ(*it->seen.lastSeen, fromEpochMillis(kT0 + 3'600'000));
  EXPECT_EQ(it->seen.scanners, (std::vector<std::string>{"S1", "S2"}));
  EXPECT_EQ(it->seen.count, 3);
}

TEST_F(Ingest, RegeneratedBleUuidKeepsPastCheckInsWithTheUser) {
  ASSERT_TRUE(post(*pool, "S1", body("ev-1", "S1", {{ada.bleUuid.toString(), kT0}})));
  auto fresh = core::regenerateBleUuid(*pool, ada.id);
  ASSERT_TRUE(fresh);
  EXPECT_NE(*fresh, ada.bleUuid);
  auto rep = core::buildReport(*pool, "ev-1", kNow);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->attended, 1);
  EXPECT_EQ(rep->unknownDevices, 0);
  auto roster = core::roster(*pool, "ev-1");
  ASSERT_TRUE(roster);
  EXPECT_NE(std::find(roster->begin(), roster->end(), *fresh), roster->end());
  EXPECT_EQ(std::find(roster->begin(), roster->end(), ada.bleUuid), roster->end());
}

// Three scanners with overlapping sightings, posted in every order and
// concurrently: the report is identical.
TEST(IngestOrder, EveryOrderGivesTheSameReport) {
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::int64_t>>>> batches = {
      {"S1", {{uuidText(1), kT0}, {uuidText(2), kT0 + 10}, {uuidText(3), kT0 + 20}}},
      {"S2", {{uuidText(2), kT0 - 5}, {uuidText(3), kT0 + 30}, {uuidText(4), kT0 + 40}}},
      {"S3", {{uuidText(1), kT0 + 100}, {uuidText(4), kT0 - 100}, {uuidText(5), kT0}}},
  };
  auto reportFor = [&](const std::vector<int>& order, bool concurrent) {
    TestDatabase db;
    auto pool = db.pool(true, 4);
    EXPECT_TRUE(core::createEvent(*pool, {std::string{"ev-o"}, "Order", "", std::nullopt, std::nullopt}, kNow));
    for (const char* s : {"S1", "S2", "S3"}) {
      EXPECT_TRUE(core::createScanner(*pool, s, kNow));
      EXPECT_TRUE(core::assignScanner(*pool, s, "ev-o", kNow));
    }
    auto u1 = core::createUser(*pool, {"u1@example.org", "U1", std::nullopt}, core::AuthConfig::forTests(), kNow);
    EXPECT_TRUE(u1);
    EXPECT_TRUE(core::registerForEvent(*pool, "ev-o", u1->id, kNow));
    std::vector<std::thread> threads;
    for (int i : order) {
      const std::string scanner = batches[static_cast<std::size_t>(i)].first;
      // Each scanner posts its batch twice (a retry); u1's bleUuid joins S2's batch.
      auto rowsWithUser = batches[static_cast<std::size_t>(i)].second;
      if (scanner == "S2") rowsWithUser.push_back({u1->bleUuid.toString(), kT0 + 7});
      auto send = [&pool, scanner, b = body("ev-o", scanner, rowsWithUser)] {
        EXPECT_TRUE(post(*pool, scanner, b));
        EXPECT_TRUE(post(*pool, scanner, b));
      };
      if (concurrent) {
        threads.emplace_back(send);
      } else {
        send();
      }
    }
    for (auto& t : threads) t.join();
    auto rep = core::buildReport(*pool, "ev-o", kNow);
    EXPECT_TRUE(rep);
    // Users get random ids per database: compare everything else.
    for (auto& p : rep->participants) p.userId.clear(), p.bleUuid = Uuid{};
    return core::renderReportJson(*rep);
  };
  std::vector<int> order{0, 1, 2};
  const std::string reference = reportFor(order, false);
  EXPECT_NE(reference.find("\"unknownDevices\":5"), std::string::npos) << reference;
  EXPECT_NE(reference.find("\"attended\":1"), std::string::npos) << reference;
  while (std::next_permutation(order.begin(), order.end())) EXPECT_EQ(reportFor(order, false), reference);
  EXPECT_EQ(reportFor({0, 1, 2}, true), reference);
  EXPECT_EQ(reportFor({2, 1, 0}, true), reference);
}

TEST_F(Ingest, ConcurrentIdenticalPostsStoreEveryRecordOnce) {
  // Four retries of one batch racing each other: exactly one stores the rows.
  std::vector<std::pair<std::string, std::int64_t>> rows;
  for (int i = 0; i < 2000; ++i) rows.push_back({uuidText(i), kT0 + i});
  rows.push_back({ada.bleUuid.toString(), kT0});
  const auto b = body("ev-1", "S1", rows);
  std::vector<attendance::Result<core::IngestResult>> results(4, core::IngestResult{});
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] { results[t] = post(*pool, "S1", b); });
  }
  for (auto& th : threads) th.join();
  std::size_t inserted = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->inserted + r->duplicates, rows.size());
    EXPECT_EQ(r->registered, 1U);
    EXPECT_EQ(r->unknownDevices, 2000U);
    inserted += r->inserted;
  }
  EXPECT_EQ(inserted, rows.size());
  EXPECT_EQ(count("check_ins"), std::to_string(rows.size()));
  EXPECT_EQ(count("sync_receipts"), "4");
}

TEST_F(Ingest, OneRoundTripPerRecordGivesTheSameStoredRows) {
  // The original design's performCheckIn loop and ingestBatch agree on what is stored.
  std::vector<std::pair<std::string, std::int64_t>> rows;
  for (int i = 0; i < 50; ++i) rows.push_back({uuidText(i % 20), kT0 + (i % 7)});
  ASSERT_TRUE(post(*pool, "S1", body("ev-1", "S1", rows)));
  const auto batched = db.scalar(
      "SELECT string_agg(ble_uuid::text || '@' || check_in_time, ',' ORDER BY ble_uuid, check_in_time) FROM check_ins");
  (void)db.scalar("DELETE FROM check_ins RETURNING 1");
  for (const auto& [u, t] : rows) {
    core::CheckInRecord rec;
    rec.bleUuid = *Uuid::parse(u);
    rec.checkInTimeMs = t;
    rec.scannerId = "S1";
    ASSERT_TRUE(core::performCheckIn(*pool, "ev-1", rec));
  }
  EXPECT_EQ(db.scalar("SELECT string_agg(ble_uuid::text || '@' || check_in_time, ',' ORDER BY ble_uuid, check_in_time) "
                      "FROM check_ins"),
            batched);
}

TEST_F(Ingest, HundredThousandRecordsInOneRequest) {
  std::vector<std::pair<std::string, std::int64_t>> rows;
  rows.reserve(100000);
  for (int i = 0; i < 100000; ++i) rows.push_back({uuidText(i), kT0 + i});
  const auto b = body("ev-1", "S1", rows);
  auto first = post(*pool, "S1", b);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->inserted, 100000U);
  EXPECT_EQ(first->unknownDevices, 100000U);
  auto again = post(*pool, "S1", b);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->inserted, 0U);
  EXPECT_EQ(again->duplicates, 100000U);
  EXPECT_EQ(count("check_ins"), "100000");
}

}  // namespace
