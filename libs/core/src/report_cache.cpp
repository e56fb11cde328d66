#include <attendance/core/report_cache.hpp>

#include <attendance/core/error.hpp>
#include <attendance/support/log.hpp>

#include "report_compute.hpp"

#include <array>
#include <exception>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace attendance::core {

namespace {

constexpr std::size_t kSorts = 7;  // ReportSort's values

// Every part of a version only grows while the event exists (counters, and
// receipts and unreceipted check-ins that are never deleted but with the
// event), so "at least as new" is a componentwise comparison.
bool atLeastAsNew(const ReportVersion& a, const ReportVersion& b) {
  return a.event >= b.event && a.users >= b.users && a.receipts >= b.receipts && a.unreceipted >= b.unreceipted;
}

}  // namespace

// Lazily derived data: each piece computed by the first caller that needs it,
// the others wait for it (std::call_once), then it is read without locking.
struct CachedReport::Derived {
  std::once_flag jsonOnce;
  std::string json;
  std::once_flag csvOnce;
  std::string csv;
  std::array<std::once_flag, kSorts * 2> orderOnce;
  std::array<std::vector<std::uint32_t>, kSorts * 2> orders;
};

CachedReport::CachedReport(EventReport report) : report_{std::move(report)}, derived_{std::make_unique<Derived>()} {}

CachedReport::~CachedReport() = default;

const std::string& CachedReport::json() const {
  std::call_once(derived_->jsonOnce, [this] { derived_->json = renderReportJson(report_); });
  return derived_->json;
}

const std::string& CachedReport::csv() const {
  std::call_once(derived_->csvOnce, [this] { derived_->csv = renderReportCsv(report_); });
  return derived_->csv;
}

ReportSelection CachedReport::select(const ReportQuery& query) const {
  const std::size_t slot = static_cast<std::size_t>(query.sort) * 2 + (query.descending ? 1 : 0);
  std::call_once(derived_->orderOnce.at(slot),
                 [&] { derived_->orders[slot] = sortParticipants(report_, query.sort, query.descending); });
  return selectParticipants(report_, query, derived_->orders[slot]);
}

std::string CachedReport::pageJson(const ReportQuery& query) const {
  return renderReportPageJson(report_, query, select(query));
}

namespace {

// A cached report and the ids of the receipts its snapshot saw (what an
// incremental update must not count twice).
struct Built {
  std::shared_ptr<const CachedReport> report;
  std::shared_ptr<const std::vector<std::int64_t>> receipts;
};
using Loaded = Result<Built>;

// Only new receipts since `have`: the case an incremental update handles.
bool onlyReceiptsMoved(const ReportVersion& have, const ReportVersion& wanted) {
  return have.event == wanted.event && have.users == wanted.users && have.unreceipted == wanted.unreceipted &&
         have.receipts < wanted.receipts;
}

}  // namespace

struct ReportCache::State {
  Options options;
  std::mutex mutex;
  std::list<std::string> recent;  // most recently used first
  struct Entry {
    Built built;
    std::list<std::string>::iterator position;
  };
  std::unordered_map<std::string, Entry> entries;
  // Builds in progress, one per event: later misses wait for it.
  struct Flight {
    std::uint64_t id = 0;
    std::shared_future<Loaded> result;
  };
  std::unordered_map<std::string, Flight> building;
  std::uint64_t nextFlight = 0;
  Stats stats;

  // Under the mutex.
  void land(const std::string& eventId, std::uint64_t flight) {
    if (const auto found = building.find(eventId); found != building.end() && found->second.id == flight) {
      building.erase(found);
    }
  }

  // Under the mutex.
  void forget(const std::string& eventId) {
    if (const auto found = entries.find(eventId); found != entries.end()) {
      recent.erase(found->second.position);
      entries.erase(found);
    }
  }

  // Under the mutex: keep `built` unless a newer one is cached already; drop
  // the least recently used beyond the limit.
  void store(const std::string& eventId, const Built& built) {
    if (options.maxEvents == 0) return;
    if (const auto found = entries.find(eventId); found != entries.end()) {
      recent.splice(recent.begin(), recent, found->second.position);
      if (atLeastAsNew(built.report->version(), found->second.built.report->version())) found->second.built = built;
      return;
    }
    recent.push_front(eventId);
    entries.emplace(eventId, Entry{built, recent.begin()});
    while (entries.size() > options.maxEvents) {
      entries.erase(recent.back());
      recent.pop_back();
    }
  }

  // The new report: `base` updated with the receipts it has not seen when that
  // is possible (detail::updateReport decides in its own snapshot), else a
  // full build. `incremental` tells which.
  Loaded produce(ConnectionPool& pool, const std::string& eventId, TimePoint now, const std::optional<Built>& base,
                 bool& incremental) const {
    incremental = false;
    if (base) {
      auto updated = detail::updateReport(pool, base->report->report(), *base->receipts, now, options.bucketWidth,
                                          options.incrementalMaxCheckIns);
      if (!updated) return updated.error();
      if (*updated) {
        incremental = true;
        return Built{std::make_shared<const CachedReport>(std::move((*updated)->report)),
                     std::make_shared<const std::vector<std::int64_t>>(std::move((*updated)->receiptIds))};
      }
    }
    std::vector<std::int64_t> receipts;
    auto report = detail::buildReportTracked(pool, eventId, now, ReportOptions{options.bucketWidth}, &receipts);
    if (!report) return report.error();
    return Built{std::make_shared<const CachedReport>(std::move(*report)),
                 std::make_shared<const std::vector<std::int64_t>>(std::move(receipts))};
  }

  // Builds the event's report, or waits for the build another caller started.
  // A build started before `wanted` was read may have an older snapshot: then
  // build again. `built` tells whether this call made a report.
  Loaded load(ConnectionPool& pool, const std::string& eventId, TimePoint now, const ReportVersion& wanted,
              bool& built) {
    built = false;
    for (int attempt = 0;; ++attempt) {
      std::unique_lock lock{mutex};
      std::optional<Built> base;
      if (const auto found = entries.find(eventId); found != entries.end()) {
        if (atLeastAsNew(found->second.built.report->version(), wanted)) {
          recent.splice(recent.begin(), recent, found->second.position);
          return found->second.built;
        }
        if (options.incrementalMaxCheckIns > 0 && onlyReceiptsMoved(found->second.built.report->version(), wanted)) {
          base = found->second.built;
        }
      }
      if (const auto flight = building.find(eventId); flight != building.end() && attempt < 2) {
        auto pending = flight->second.result;
        lock.unlock();
        const Loaded& result = pending.get();
        if (!result || atLeastAsNew(result->report->version(), wanted)) return result;
        continue;
      }
      std::promise<Loaded> promise;
      const std::uint64_t flight = ++nextFlight;
      building[eventId] = Flight{flight, promise.get_future().share()};
      ++stats.rebuilds;
      lock.unlock();
      built = true;
      try {
        bool incremental = false;
        Loaded result = produce(pool, eventId, now, base, incremental);
        lock.lock();
        if (result && incremental) ++stats.incremental;
        land(eventId, flight);
        if (result) {
          store(eventId, *result);
        } else if (result.error() == Errc::event_not_found) {
          forget(eventId);
        }
        lock.unlock();
        promise.set_value(result);
        return result;
      } catch (...) {
        if (!lock.owns_lock()) lock.lock();
        land(eventId, flight);
        lock.unlock();
        promise.set_exception(std::current_exception());
        throw;
      }
    }
  }
};

ReportCache::ReportCache() : ReportCache(Options{}) {}

ReportCache::ReportCache(Options options) : state_{std::make_unique<State>()} { state_->options = options; }

ReportCache::~ReportCache() = default;

Result<std::shared_ptr<const CachedReport>> ReportCache::get(ConnectionPool& pool, std::string_view eventId,
                                                             TimePoint now) {
  const std::string id{eventId};
  const auto version = readReportVersion(pool, id);
  if (!version) {
    if (version.error() == Errc::event_not_found) {
      std::lock_guard lock{state_->mutex};
      state_->forget(id);
    }
    return version.error();
  }
  {
    std::lock_guard lock{state_->mutex};
    if (const auto found = state_->entries.find(id);
        found != state_->entries.end() && found->second.built.report->version() == *version) {
      state_->recent.splice(state_->recent.begin(), state_->recent, found->second.position);
      ++state_->stats.hits;
      return found->second.built.report;
    }
    ++state_->stats.misses;
  }
  bool built = false;
  auto loaded = state_->load(pool, id, now, *version, built);
  if (!loaded) return loaded.error();
  return loaded->report;
}

std::size_t ReportCache::refresh(ConnectionPool& pool, TimePoint now) {
  std::vector<std::pair<std::string, ReportVersion>> cached;
  {
    std::lock_guard lock{state_->mutex};
    for (const auto& id : state_->recent) cached.emplace_back(id, state_->entries.at(id).built.report->version());
  }
  std::size_t rebuilt = 0;
  for (const auto& [id, had] : cached) {
    const auto version = readReportVersion(pool, id);
    if (!version) {
      if (version.error() == Errc::event_not_found) {
        std::lock_guard lock{state_->mutex};
        state_->forget(id);
      } else {
        support::log::warn("report.refresh_failed", {{"event_id", id}, {"error", version.error().message()}});
      }
      continue;
    }
    if (*version == had) continue;
    bool built = false;
    const auto loaded = state_->load(pool, id, now, *version, built);
    if (loaded && built) {
      ++rebuilt;
    } else if (!loaded) {
      support::log::warn("report.refresh_failed", {{"event_id", id}, {"error", loaded.error().message()}});
    }
  }
  return rebuilt;
}

ReportCache::Stats ReportCache::stats() const {
  std::lock_guard lock{state_->mutex};
  return state_->stats;
}

}  // namespace attendance::core
