#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <attendance/dedup_cache/dedup_cache.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/uuid.hpp>
#include "scanner/boot_clock.hpp"
#include "scanner/presence.hpp"
#include "scanner/roster.hpp"

namespace attendance::scanner {

struct PipelineOptions {
  std::string scannerId;
  std::string eventId;
  std::chrono::milliseconds dedupWindow{std::chrono::minutes{5}};
  std::size_t dedupCapacity = 16384;
  bool recordRssi = true;
  // Check-ins kept in memory while the log cannot be written (disk full, I/O error).
  std::size_t maxPending = 100'000;
  std::chrono::milliseconds retryInterval{std::chrono::seconds{1}};
  // Who counts as arrived at all (ADR 0025); {.minSightings = 1, .minDwell = 0ms} is one packet.
  PresenceOptions presence{};
  // Without a roster: only ids inside it are logged. With one: says why an id was ignored.
  std::optional<support::BleNamespace> bleNamespace{};
  // Last-seen lines (ADR 0026): when a present participant leaves, every interval for everyone
  // present, and at shutdown. Unset: none at all (the scanner's default is 5 min, its config).
  std::optional<std::chrono::milliseconds> lastSeenInterval{};
};

struct PipelineCounters {
  std::uint64_t sightings = 0;         // participant ids offered to the pipeline
  std::uint64_t logged = 0;            // lines appended this run
  std::uint64_t duplicates = 0;        // suppressed inside the dedup window
  std::uint64_t notOnRoster = 0;       // ids of this deployment (or unknown origin) that are not on the roster
  std::uint64_t outsideNamespace = 0;  // ids outside the deployment's namespace: other people's devices
  std::uint64_t notYetPresent = 0;     // sightings of candidates that do not meet the presence rule (yet)
  std::uint64_t writeFailures = 0;     // failed append attempts
  std::uint64_t dropped = 0;           // check-ins lost because the pending buffer was full
  std::uint64_t seeded = 0;            // log records re-seeded into the dedup cache at start
  std::uint64_t uniqueIds = 0;         // distinct bleUuids logged for this event (log included)
  std::uint64_t rosterArrivals = 0;    // distinct roster ids logged for this event (log included)
  std::uint64_t lastSeenWritten = 0;   // last-seen lines appended this run
  std::uint64_t lastSeenDropped = 0;   // not written because the log could not take them (not retried)
};

struct SeedReport {
  std::uint64_t records = 0;         // records of this event in the log
  std::uint64_t withoutEventId = 0;  // of those, lines of the original three-key format
  std::uint64_t otherEvents = 0;     // records of other events (ignored)
  std::uint64_t badLines = 0;        // reported by the reader
  std::uint64_t seeded = 0;          // inside the window, now in the dedup cache
};

enum class Verdict { logged, duplicate, not_on_roster, outside_namespace, candidate, pending, dropped };

// sighting → roster / namespace filter → presence rule → dedup → line → append, with group commit, a bounded
// in-memory queue while the log cannot be written, and the bookkeeping behind the
// status line. Pure of D-Bus: tests feed it sightings and a SimulatedTimeSource.
// Not thread-safe.
class Pipeline {
public:
  Pipeline(PipelineOptions options, const support::TimeSource& time, const BootClock& boot, jsonl_log::Writer& writer,
           const Roster* roster = nullptr);

  // Reads the log (after the writer's recovery) and re-seeds the dedup cache with
  // this event's records inside the window. Age of a record: from bootMs when it
  // was written during the current boot (exact, immune to wall-clock jumps), else
  // from checkInTime against the wall clock (clamped at 0 when it lies in the future).
  [[nodiscard]] jsonl_log::Outcome<SeedReport> seedFromLog(const std::filesystem::path& log);

  Verdict onSighting(const support::Uuid& id, std::optional<int> rssi, std::chrono::system_clock::time_point seenAt);

  // Retries pending lines when due and group-commits per the fsync policy. An
  // error is fatal (fsync failed or the log is broken): stop and exit non-zero.
  [[nodiscard]] jsonl_log::Outcome<void> tick();
  // Shutdown: one last retry of pending lines and a sync.
  [[nodiscard]] jsonl_log::Outcome<void> flush();

  // Earliest time tick() has work (sync due or retry due).
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> nextDeadline() const noexcept;

  [[nodiscard]] const PipelineCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t pendingCount() const noexcept { return pending_.size(); }
  [[nodiscard]] const std::deque<jsonl_log::CheckIn>& pending() const noexcept { return pending_; }
  [[nodiscard]] const dedup_cache::DedupCache& dedup() const noexcept { return dedup_; }
  [[nodiscard]] const PresenceFilter& presence() const noexcept { return presence_; }

private:
  void noteLogged(const support::Uuid& id);
  bool retryPending();
  void enqueue(jsonl_log::CheckIn&& record);
  void writeLastSeen(const Stay& stay);

  PipelineOptions options_;
  const support::TimeSource* time_;
  const BootClock* boot_;
  jsonl_log::Writer* writer_;
  const Roster* roster_;
  PresenceFilter presence_;
  dedup_cache::DedupCache dedup_;
  jsonl_log::CheckIn scratch_;
  std::deque<jsonl_log::CheckIn> pending_;
  std::optional<std::chrono::steady_clock::time_point> nextRetry_;
  std::optional<jsonl_log::Failure> fatal_;
  std::unordered_set<support::Uuid, support::UuidHash> logged_;  // bounded by kMaxUniqueTracked
  std::vector<bool> rosterSeen_;
  jsonl_log::LastSeen lastSeenScratch_;
  std::optional<std::chrono::steady_clock::time_point> nextLastSeen_;
  bool lastSeenFlushed_ = false;
  PipelineCounters counters_;
};

}  // namespace attendance::scanner
