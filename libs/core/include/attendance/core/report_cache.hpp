#pragma once

// A per-event cache of built reports, validated by the database's data version
// (ReportVersion, migration 0003): reused while the version is unchanged,
// rebuilt when it moved (docs/adr/0035-report-cache-validated-by-a-transactional-data-version.md).
#include <attendance/core/database.hpp>
#include <attendance/core/report.hpp>
#include <attendance/core/report_query.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace attendance::core {

// An immutable built report plus what is derived from it lazily and kept. All
// members are safe to call from several threads at once.
class CachedReport {
  struct Derived;

public:
  explicit CachedReport(EventReport report);
  ~CachedReport();
  CachedReport(const CachedReport&) = delete;
  CachedReport& operator=(const CachedReport&) = delete;

  [[nodiscard]] const EventReport& report() const noexcept { return report_; }
  [[nodiscard]] const ReportVersion& version() const noexcept { return report_.version; }
  [[nodiscard]] const std::string& json() const;  // renderReportJson, rendered once
  [[nodiscard]] const std::string& csv() const;   // renderReportCsv, rendered once
  // Each (sort, direction) order is computed once and kept.
  [[nodiscard]] ReportSelection select(const ReportQuery& query) const;
  [[nodiscard]] std::string pageJson(const ReportQuery& query) const;  // renderReportPageJson(select(query))

private:
  EventReport report_;
  std::unique_ptr<Derived> derived_;
};

class ReportCache {
  struct State;

public:
  struct Options {
    std::size_t maxEvents = 4;  // least recently used event dropped first; 0 = no cache
    // The arrival buckets' width (ReportOptions::bucketWidth; widened past
    // 2,000 buckets as in buildReport). The default gives the same report as
    // buildReport's default and `attendance-admin report`.
    std::chrono::minutes bucketWidth{15};
    // When only new sync receipts arrived since the cached report (nothing else
    // in its data version moved), merge their check-ins into a copy of it
    // instead of building it again, unless they stored more rows than this.
    // An update was 7-9x cheaper than a full build at every size measured (a
    // full build must fold the same rows into the summary table); the bound
    // caps one update's work and lets an exceptional backlog take the full
    // build, which folds it (docs/benchmarks-core.md). 0 = always build in full.
    std::int64_t incrementalMaxCheckIns = 200'000;
  };
  ReportCache();  // default Options (a default argument `= {}` trips GCC on a nested struct)
  explicit ReportCache(Options options);
  ~ReportCache();
  ReportCache(const ReportCache&) = delete;
  ReportCache& operator=(const ReportCache&) = delete;

  // One cheap version query; on a match the cached report; when only new sync
  // receipts arrived, the cached report updated with their check-ins (one
  // snapshot, docs/storage.md "Report cache"); else buildReport. Concurrent
  // misses of one event build once; the others wait for it.
  // Errc::event_not_found, or buildReport's errors.
  [[nodiscard]] Result<std::shared_ptr<const CachedReport>> get(ConnectionPool& pool, std::string_view eventId,
                                                                TimePoint now);
  // Re-checks the versions of the cached events and rebuilds (or updates, as
  // get does) the changed ones (for a background timer, so the first view after
  // a sync is warm too); drops deleted events. Returns how many were rebuilt.
  std::size_t refresh(ConnectionPool& pool, TimePoint now);

  struct Stats {
    std::uint64_t hits = 0;         // get answered from the cache
    std::uint64_t misses = 0;       // get had to build (or wait for another get's build)
    std::uint64_t rebuilds = 0;     // new reports made by get and refresh: full builds + incremental updates
    std::uint64_t incremental = 0;  // of those, incremental updates (new receipts merged into the cached report)
  };
  [[nodiscard]] Stats stats() const;

private:
  std::unique_ptr<State> state_;
};

}  // namespace attendance::core
