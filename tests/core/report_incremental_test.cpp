// The report cache's incremental update (report_incremental.cpp): when only
// new sync receipts arrived, ReportCache merges their check-ins into the cached
// report instead of building it again. Whatever the batches hold (registered
// people seen for the first time or again, under current or retired bleUuids,
// walk-ins, unknown devices old and new, several scanners, resent and empty
// batches, times that widen the arrival buckets), the cached report must render
// exactly the JSON and CSV of a fresh buildReport of the same data. Anything
// else that changed (users, registrations, the event, rows without a receipt)
// is a full build.
#include "core/report_test_support.hpp"
#include "core/test_database.hpp"

#include <attendance/core/core.hpp>
#include <attendance/core/report_cache.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <cstdio>
#include <functional>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace core = attendance::core;
using attendance::support::fromEpochMillis;
using attendance::support::Uuid;
using core::testing::execSql;
using core::testing::TestDatabase;

namespace {

constexpr std::int64_t kT0 = 1721469600000;                  // 2024-07-20T10:00:00Z
const auto kNow = fromEpochMillis(kT0 + 40LL * 86'400'000);  // 40 days later: every time below is in the past
constexpr std::int64_t kDay = 86'400'000;
const char* const kScanners[] = {"S1", "S2", "S3", "Zeta-Long-Scanner-Name"};

Uuid uuid(unsigned prefix, unsigned n) {
  char text[64];
  std::snprintf(text, sizeof text, "%08x-0000-4000-8000-%012x", prefix, n * 2654435761U);
  return *Uuid::parse(text);
}
Uuid userId(unsigned n) { return uuid(0x11110000U + n, n); }
Uuid currentBle(unsigned n) { return uuid(0x22220000U + n, n); }
Uuid retiredBle(unsigned n) { return uuid(0x33330000U + n, n); }
Uuid unknownBle(unsigned n) { return uuid(0x44440000U + n, n); }
Uuid erasedBle(unsigned n) { return uuid(0x55550000U + n, n); }

constexpr unsigned kRegistered = 60;  // users 0..59 registered for "ev"
constexpr unsigned kUsers = 90;       // 60..89 can only be walk-ins
constexpr unsigned kUnknown = 30;

bool hasRetired(unsigned n) { return n % 5 == 2; }

std::string displayName(unsigned n) {
  switch (n % 6) {
    case 0: return "Same Name";  // ties broken by email
    case 1: return "Zoë <b>" + std::to_string(n) + "</b>";
    case 2: return "=cmd, \"quoted\" " + std::to_string(n);
    default: return "User " + std::to_string(100 - n);
  }
}

struct Lcg {
  std::uint64_t state;
  unsigned next(unsigned bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>((state >> 33) % bound);
  }
};

struct Record {
  Uuid ble;
  std::int64_t ms;
};

core::IngestRequest request(const std::string& eventId, const std::string& scanner, const std::vector<Record>& rows) {
  core::IngestRequest r;
  r.eventId = eventId;
  r.scannerId = scanner;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    core::CheckInRecord rec;
    rec.index = i;
    rec.bleUuid = rows[i].ble;
    rec.checkInTimeMs = rows[i].ms;
    rec.scannerId = scanner;
    r.records.push_back(rec);
  }
  return r;
}

class ReportIncrementalTest : public ::testing::Test {
protected:
  void SetUp() override {
    pool = db.pool(true, 4);
    for (const char* s : kScanners) ASSERT_TRUE(core::createScanner(*pool, s, kNow));
    pqxx::connection c{db.conninfo()};
    pqxx::work tx{c};
    tx.exec(
        "INSERT INTO events (id, name, venue, starts_at, ends_at, created_at) VALUES "
        "('ev', 'Incremental <Event>', 'Hall', '2024-07-20T09:00:00Z', '2024-07-20T18:00:00Z', "
        "'2024-07-01T00:00:00Z'), ('ev-other', 'Other', '', NULL, NULL, '2024-07-01T00:00:00Z')");
    tx.exec("INSERT INTO scanner_assignments SELECT s.scanner_id, e.id, now() FROM scanners s CROSS JOIN events e");
    for (unsigned n = 0; n < kUsers; ++n) {
      tx.exec_params(
          "INSERT INTO users (id, email, display_name, ble_uuid, created_at) VALUES ($1::uuid, $2, $3, $4::uuid, "
          "now())",
          userId(n).toString(), "user" + std::to_string(n) + "@example.org", displayName(n), currentBle(n).toString());
      if (hasRetired(n)) {
        tx.exec_params("INSERT INTO retired_ble_uuids VALUES ($1::uuid, $2::uuid, now())", retiredBle(n).toString(),
                       userId(n).toString());
      }
      if (n < kRegistered)
        tx.exec_params("INSERT INTO registrations VALUES ('ev', $1::uuid, now())", userId(n).toString());
      if (n % 4 == 0) {
        tx.exec_params("INSERT INTO registrations VALUES ('ev-other', $1::uuid, now())", userId(n).toString());
      }
    }
    // A bleUuid that is one user's current and another's retired one: the
    // current owner (user 88, a walk-in) wins over registered user 12.
    tx.exec_params("INSERT INTO retired_ble_uuids VALUES ($1::uuid, $2::uuid, now())", currentBle(88).toString(),
                   userId(12).toString());
    tx.commit();
    // Rows without a receipt (performCheckIn), before any report: part of every snapshot.
    for (unsigned n = 0; n < 5; ++n) {
      core::CheckInRecord rec;
      rec.bleUuid = n == 4 ? unknownBle(0) : currentBle(n * 7);
      rec.checkInTimeMs = kT0 + n * 60'000;
      rec.scannerId = "S3";
      ASSERT_TRUE(core::performCheckIn(*pool, "ev", rec));
    }
  }

  // A random sighting: registered (current or retired bleUuid), walk-in
  // (current or retired), a known unknown device or a brand new one.
  Record randomRecord(Lcg& rng, bool farTimes) {
    Record r{};
    const unsigned kind = rng.next(100);
    if (kind < 40) {
      r.ble = currentBle(rng.next(kRegistered));
    } else if (kind < 50) {
      unsigned n = rng.next(kRegistered);
      while (!hasRetired(n)) n = rng.next(kRegistered);
      r.ble = retiredBle(n);
    } else if (kind < 62) {
      r.ble = currentBle(kRegistered + rng.next(kUsers - kRegistered));
    } else if (kind < 68) {
      unsigned n = kRegistered + rng.next(kUsers - kRegistered);
      while (!hasRetired(n)) n = kRegistered + rng.next(kUsers - kRegistered);
      r.ble = retiredBle(n);
    } else if (kind < 90) {
      r.ble = unknownBle(rng.next(kUnknown));
    } else {
      r.ble = unknownBle(1000 + rng.next(100000));
    }
    r.ms = kT0 + static_cast<std::int64_t>(rng.next(8 * 3600)) * 1000 + rng.next(1000);
    if (farTimes && rng.next(20) == 0) {
      // Days before or after: a first sighting there widens the arrival buckets.
      r.ms += (static_cast<std::int64_t>(rng.next(60)) - 25) * kDay;
    }
    return r;
  }

  // The cached report equals a fresh build of the same data, byte for byte
  // (generatedAt aside: an updated report carries the time of its update).
  void expectSameAsFresh(core::ReportCache& cache, std::chrono::minutes width, const std::string& step) {
    SCOPED_TRACE(step);
    auto cached = cache.get(*pool, "ev", kNow);
    ASSERT_TRUE(cached) << cached.error().message();
    auto fresh = core::buildReport(*pool, "ev", kNow, core::ReportOptions{width});
    ASSERT_TRUE(fresh);
    core::EventReport mine = (*cached)->report();
    mine.generatedAt = fresh->generatedAt;
    EXPECT_EQ((*cached)->version(), fresh->version);
    const std::string expected = core::renderReportJson(*fresh);
    const std::string actual = core::renderReportJson(mine);
    if (actual != expected) {
      std::size_t at = 0;
      while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
      const std::size_t from = at < 120 ? 0 : at - 120;
      ADD_FAILURE() << "JSON differs at byte " << at << "\n  cached: " << actual.substr(from, 300)
                    << "\n  fresh:  " << expected.substr(from, 300);
    }
    EXPECT_EQ(core::renderReportCsv(mine), core::renderReportCsv(*fresh));
    EXPECT_EQ((*cached)->json(), core::renderReportJson((*cached)->report()));
  }

  // A random sequence of ingests (fixed seed); after each step the cache must
  // answer what a fresh build answers, by an incremental update.
  void runRandomSequence(std::uint64_t seed, std::chrono::minutes width, int steps, bool expectWidened) {
    core::ReportCache::Options options;
    options.bucketWidth = width;
    core::ReportCache cache{options};
    Lcg rng{seed};
    std::vector<std::pair<std::string, std::vector<Record>>> sent;
    // Sightings weeks away from the event's dates must be stored here (they widen the
    // buckets), so the event window is opened far enough for them.
    core::IngestOptions farWindow;
    farWindow.eventWindowSlack = 90 * std::chrono::hours{24};
    auto ingest = [&](const std::string& scanner, const std::vector<Record>& rows) {
      auto r = core::ingestBatch(*pool, request("ev", scanner, rows), kNow, farWindow);
      ASSERT_TRUE(r) << r.error().message();
      sent.emplace_back(scanner, rows);
    };
    ingest("S1", {{currentBle(1), kT0 + 5'000}, {unknownBle(2), kT0 + 6'000}});
    expectSameAsFresh(cache, width, "first build");
    EXPECT_EQ(cache.stats().incremental, 0U);
    std::uint64_t receiptSteps = 0;
    for (int step = 0; step < steps; ++step) {
      const unsigned what = rng.next(100);
      std::string label;
      const int batches = rng.next(5) == 0 ? 2 : 1;  // sometimes two syncs before the next request
      for (int b = 0; b < batches; ++b) {
        if (what < 12 && !sent.empty()) {
          const auto& previous = sent[rng.next(static_cast<unsigned>(sent.size()))];
          label += "resend(" + std::to_string(previous.second.size()) + ") ";
          ingest(previous.first, previous.second);  // all duplicates
        } else if (what < 18) {
          label += "empty ";
          ingest(kScanners[rng.next(4)], {});
        } else if (what < 28 && !sent.empty()) {
          // A partial resend: some rows stored already, some new.
          auto rows = sent[rng.next(static_cast<unsigned>(sent.size()))].second;
          const std::string scanner = kScanners[rng.next(4)];
          for (int k = 0; k < 4; ++k) rows.push_back(randomRecord(rng, true));
          label += "partial(" + std::to_string(rows.size()) + ") ";
          ingest(scanner, rows);
        } else {
          std::vector<Record> rows;
          const unsigned n = 1 + rng.next(25);
          for (unsigned k = 0; k < n; ++k) rows.push_back(randomRecord(rng, true));
          if (rng.next(4) == 0) rows.push_back(rows.front());  // a duplicate inside the batch
          label += "batch(" + std::to_string(rows.size()) + ") ";
          ingest(kScanners[rng.next(4)], rows);
        }
      }
      if (rng.next(6) == 0) {
        // Another event's sync must change nothing here.
        ASSERT_TRUE(core::ingestBatch(*pool, request("ev-other", "S2", {randomRecord(rng, false)}), kNow));
      }
      ++receiptSteps;
      expectSameAsFresh(cache, width, "step " + std::to_string(step) + ": " + label);
      if (HasFailure()) return;
      EXPECT_EQ(cache.stats().incremental, receiptSteps) << "step " << step << " was not an incremental update";
    }
    const auto stats = cache.stats();
    EXPECT_EQ(stats.rebuilds, receiptSteps + 1);  // one full build, then only updates
    EXPECT_EQ(stats.incremental, receiptSteps);
    // The sequence covered what it is meant to cover.
    const auto final = cache.get(*pool, "ev", kNow);
    ASSERT_TRUE(final);
    const auto& r = (*final)->report();
    EXPECT_GT(r.attended, 0);
    EXPECT_GT(r.noShows, 0);
    EXPECT_GT(r.walkIns, 0);
    EXPECT_GT(r.unknownDevices, static_cast<std::int64_t>(kUnknown) / 2);
    EXPECT_EQ(r.scanners.size(), 4U);
    if (expectWidened) {
      EXPECT_GT(r.bucketWidth, width);  // first sightings weeks apart widened the buckets past 2,000
    }
  }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
};

TEST_F(ReportIncrementalTest, RandomIngestsKeepTheCachedReportEqualToAFreshBuild) {
  runRandomSequence(1, std::chrono::minutes{15}, 40, true);
}

TEST_F(ReportIncrementalTest, RandomIngestsWithOneMinuteBuckets) {
  runRandomSequence(20261124, std::chrono::minutes{1}, 40, true);
}

TEST_F(ReportIncrementalTest, RandomIngestsAnotherSeed) { runRandomSequence(777, std::chrono::minutes{15}, 30, false); }

TEST_F(ReportIncrementalTest, ANewReceiptIsMergedWithoutABuild) {
  core::ReportCache cache;
  const auto first = cache.get(*pool, "ev", kNow);
  ASSERT_TRUE(first);
  const auto noShowsBefore = (*first)->report().noShows;
  // A no-show arrives (under a retired bleUuid), a new walk-in, a new unknown device.
  ASSERT_TRUE(core::ingestBatch(
      *pool, request("ev", "S2", {{retiredBle(2), kT0 + 1}, {currentBle(70), kT0 + 2}, {unknownBle(555), kT0 + 3}}),
      kNow));
  const auto later = kNow + std::chrono::minutes{1};
  const auto second = cache.get(*pool, "ev", later);
  ASSERT_TRUE(second);
  EXPECT_NE(second->get(), first->get());
  auto stats = cache.stats();
  EXPECT_EQ(stats.misses, 2U);  // the empty cache, then the new receipt
  EXPECT_EQ(stats.rebuilds, 2U);
  EXPECT_EQ(stats.incremental, 1U);
  EXPECT_EQ((*second)->report().generatedAt, later);
  EXPECT_EQ((*second)->report().noShows, noShowsBefore - 1);
  expectSameAsFresh(cache, std::chrono::minutes{15}, "after the merge");
  EXPECT_EQ(cache.stats().hits, 1U);

  // The background refresh takes the same path.
  ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S3", {{currentBle(3), kT0 + 4}}), kNow));
  EXPECT_EQ(cache.refresh(*pool, kNow), 1U);
  stats = cache.stats();
  EXPECT_EQ(stats.rebuilds, 3U);
  EXPECT_EQ(stats.incremental, 2U);
  expectSameAsFresh(cache, std::chrono::minutes{15}, "after the refresh");
  EXPECT_EQ(cache.stats().rebuilds, 3U);  // that get was a hit
}

// Deleted participants' bleUuids (migration 0012, ADR 0076) are counted, never
// listed, by the full build and by the merge of new receipts alike.
TEST_F(ReportIncrementalTest, ErasedIdsAreOnlyCountedInFullBuildsAndMerges) {
  execSql(db, "INSERT INTO erased_ble_uuids VALUES ('" + erasedBle(0).toString() + "'), ('" + erasedBle(1).toString() +
                  "')");
  ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S1", {{erasedBle(0), kT0 + 1}}), kNow));
  core::ReportCache cache;
  const auto first = cache.get(*pool, "ev", kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)->report().erasedIds, 1);
  const auto unknownBefore = (*first)->report().unknownDevices;
  // Seen again, the other one for the first time, next to a new unknown device: a merge, no build.
  ASSERT_TRUE(core::ingestBatch(
      *pool, request("ev", "S2", {{erasedBle(0), kT0 + 2}, {erasedBle(1), kT0 + 3}, {unknownBle(777), kT0 + 4}}),
      kNow));
  const auto second = cache.get(*pool, "ev", kNow);
  ASSERT_TRUE(second);
  EXPECT_EQ(cache.stats().incremental, 1U);
  const auto& r = (*second)->report();
  EXPECT_EQ(r.erasedIds, 2);
  EXPECT_EQ(r.unknownDevices, unknownBefore + 1);
  for (const std::string& rendered :
       {(*second)->json(), core::renderReportCsv(r), core::renderUnknownDevicesCsv(r), core::renderReportTable(r)}) {
    for (unsigned n = 0; n < 2; ++n) EXPECT_EQ(rendered.find(erasedBle(n).toString()), std::string::npos);
  }
  EXPECT_NE((*second)->json().find("\"erasedIds\":2"), std::string::npos);
  expectSameAsFresh(cache, std::chrono::minutes{15}, "after the merge");
}

TEST_F(ReportIncrementalTest, ConcurrentGetsAfterASyncUpdateOnce) {
  core::ReportCache cache;
  ASSERT_TRUE(cache.get(*pool, "ev", kNow));
  ASSERT_TRUE(
      core::ingestBatch(*pool, request("ev", "S1", {{currentBle(5), kT0 + 21}, {unknownBle(7), kT0 + 22}}), kNow));
  constexpr int kThreads = 6;
  const auto got = core::testing::concurrentGets(cache, *pool, "ev", kNow, kThreads);
  for (const auto& g : got) {
    ASSERT_TRUE(g);
    EXPECT_EQ(g.get(), got[0].get());
  }
  EXPECT_EQ(cache.stats().rebuilds, 2U);
  EXPECT_EQ(cache.stats().incremental, 1U);
  expectSameAsFresh(cache, std::chrono::minutes{15}, "after the concurrent update");
}

TEST_F(ReportIncrementalTest, AnyOtherChangeIsAFullBuild) {
  core::ReportCache cache;
  ASSERT_TRUE(cache.get(*pool, "ev", kNow));
  const std::string newUser = "00000000-0000-4000-8000-0000000000aa";
  const std::vector<std::pair<const char*, std::function<void()>>> changes = {
      // A batch and, before the next request, a user who owns one of its unknown devices.
      {"a new user owning a just-synced unknown device",
       [&] {
         ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S1", {{unknownBle(900), kT0 + 11}}), kNow));
         execSql(db, "INSERT INTO users (id, email, display_name, ble_uuid, created_at) VALUES ('" + newUser +
                         "', 'new@example.org', 'New', '" + unknownBle(900).toString() + "', now())");
       }},
      {"a rename", [&] { execSql(db, "UPDATE users SET display_name = 'Renamed' WHERE email = 'user3@example.org'"); }},
      {"a registration",
       [&] {
         ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S1", {{currentBle(71), kT0 + 12}}), kNow));
         execSql(db, "INSERT INTO registrations VALUES ('ev', '" + userId(71).toString() + "', now())");
       }},
      {"an event edit", [&] { execSql(db, "UPDATE events SET venue = 'Room 2' WHERE id = 'ev'"); }},
      {"a check-in without a receipt",
       [&] {
         ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S1", {{currentBle(8), kT0 + 13}}), kNow));
         core::CheckInRecord rec;
         rec.bleUuid = currentBle(9);
         rec.checkInTimeMs = kT0 + 14;
         rec.scannerId = "S3";
         ASSERT_TRUE(core::performCheckIn(*pool, "ev", rec));
       }},
  };
  std::uint64_t rebuilds = cache.stats().rebuilds;
  for (const auto& [what, change] : changes) {
    change();
    expectSameAsFresh(cache, std::chrono::minutes{15}, what);
    EXPECT_EQ(cache.stats().rebuilds, ++rebuilds) << what;
    EXPECT_EQ(cache.stats().incremental, 0U) << what;
  }
  // The new user's device is a walk-in now, the renamed user shows the new name.
  const auto r = cache.get(*pool, "ev", kNow);
  ASSERT_TRUE(r);
  EXPECT_NE((*r)->json().find("\"New\""), std::string::npos);
  EXPECT_NE((*r)->json().find("\"Renamed\""), std::string::npos);
  // And then only receipts again: incremental.
  ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S2", {{currentBle(10), kT0 + 15}}), kNow));
  expectSameAsFresh(cache, std::chrono::minutes{15}, "receipts only");
  EXPECT_EQ(cache.stats().incremental, 1U);
}

TEST_F(ReportIncrementalTest, ManyNewRowsAreAFullBuild) {
  core::ReportCache::Options options;
  options.incrementalMaxCheckIns = 5;
  core::ReportCache cache{options};
  ASSERT_TRUE(cache.get(*pool, "ev", kNow));
  std::vector<Record> rows;
  for (unsigned n = 0; n < 6; ++n) rows.push_back({currentBle(n), kT0 + 100 + n});
  ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S1", rows), kNow));
  expectSameAsFresh(cache, std::chrono::minutes{15}, "6 rows > 5");
  EXPECT_EQ(cache.stats().incremental, 0U);
  EXPECT_EQ(cache.stats().rebuilds, 2U);
  rows.resize(5);
  for (auto& row : rows) row.ms += 1000;
  ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S1", rows), kNow));
  expectSameAsFresh(cache, std::chrono::minutes{15}, "5 rows");
  EXPECT_EQ(cache.stats().incremental, 1U);

  core::ReportCache::Options never;
  never.incrementalMaxCheckIns = 0;
  core::ReportCache full{never};
  ASSERT_TRUE(full.get(*pool, "ev", kNow));
  ASSERT_TRUE(core::ingestBatch(*pool, request("ev", "S1", {{currentBle(20), kT0 + 7}}), kNow));
  ASSERT_TRUE(full.get(*pool, "ev", kNow));
  EXPECT_EQ(full.stats().incremental, 0U);
  EXPECT_EQ(full.stats().rebuilds, 2U);
}

TEST_F(ReportIncrementalTest, BucketWidthOption) {
  ASSERT_TRUE(
      core::ingestBatch(*pool, request("ev", "S1", {{currentBle(1), kT0}, {currentBle(2), kT0 + 150'000}}), kNow));
  core::ReportCache::Options options;
  options.bucketWidth = std::chrono::minutes{1};
  core::ReportCache fine{options};
  const auto r = fine.get(*pool, "ev", kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->report().bucketWidth, std::chrono::minutes{1});
  auto fresh = core::buildReport(*pool, "ev", kNow, core::ReportOptions{std::chrono::minutes{1}});
  ASSERT_TRUE(fresh);
  EXPECT_EQ((*r)->json(), core::renderReportJson(*fresh));
  // The default stays buildReport's default (what `attendance-admin report` prints).
  core::ReportCache standard;
  const auto s = standard.get(*pool, "ev", kNow);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->report().bucketWidth, std::chrono::minutes{15});
  auto plain = core::buildReport(*pool, "ev", kNow);
  ASSERT_TRUE(plain);
  EXPECT_EQ((*s)->json(), core::renderReportJson(*plain));
}

}  // namespace
