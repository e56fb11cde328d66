#pragma once

// Helpers the report's database tests share (version, cache, incremental update).
#include "core/test_database.hpp"

#include <attendance/core/batch.hpp>
#include <attendance/core/core.hpp>
#include <attendance/core/report_cache.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/uuid.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <cstdint>
#include <cstdio>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace attendance::core::testing {

// The report tests' clock: "now" and the morning the check-ins happened.
inline const TimePoint kNow = support::fromEpochMillis(1721480000000);  // 2024-07-20T12:53:20Z
inline constexpr std::int64_t kT0 = 1721469600000;                      // 2024-07-20T10:00:00Z

struct SeedEvent {
  std::string id;
  std::string name;
  std::string venue;
};

// The events, created at kNow, and scanner S1 assigned to each of them. Fatal failures
// stop the caller through ASSERT_NO_FATAL_FAILURE.
inline void createEventsWithScannerS1(ConnectionPool& pool, const std::vector<SeedEvent>& events) {
  ASSERT_TRUE(createScanner(pool, "S1", kNow));
  for (const SeedEvent& e : events) {
    ASSERT_TRUE(createEvent(pool, {e.id, e.name, e.venue, std::nullopt, std::nullopt}, kNow));
    ASSERT_TRUE(assignScanner(pool, "S1", e.id, kNow));
  }
}

// 00000000-0000-4000-8000-<n as 12 digits>: distinct, readable in failures.
inline support::Uuid numberedUuid(unsigned n) {
  char text[64];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012u", n);
  return *support::Uuid::parse(text);
}

// A batch from scanner S1, records in the given order.
inline IngestRequest scannerBatch(const std::string& eventId,
                                  const std::vector<std::pair<support::Uuid, std::int64_t>>& rows) {
  IngestRequest r;
  r.eventId = eventId;
  r.scannerId = "S1";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CheckInRecord rec;
    rec.index = i;
    rec.bleUuid = rows[i].first;
    rec.checkInTimeMs = rows[i].second;
    rec.scannerId = "S1";
    r.records.push_back(rec);
  }
  return r;
}

// One statement (or several separated by ';') in its own committed transaction.
inline void execSql(const TestDatabase& db, const std::string& sql) {
  pqxx::connection c{db.conninfo()};
  pqxx::work tx{c};
  tx.exec(sql);
  tx.commit();
}

// `threads` gets of one event released at the same moment; what each one got (null on error).
inline std::vector<std::shared_ptr<const CachedReport>> concurrentGets(ReportCache& cache, ConnectionPool& pool,
                                                                       const std::string& eventId, TimePoint now,
                                                                       int threads) {
  std::latch start{threads};
  std::vector<std::shared_ptr<const CachedReport>> got(static_cast<std::size_t>(threads));
  std::vector<std::thread> running;
  for (int i = 0; i < threads; ++i) {
    running.emplace_back([&, i] {
      start.arrive_and_wait();
      auto r = cache.get(pool, eventId, now);
      if (r) got[static_cast<std::size_t>(i)] = *r;
    });
  }
  for (auto& t : running) t.join();
  return got;
}

}  // namespace attendance::core::testing
