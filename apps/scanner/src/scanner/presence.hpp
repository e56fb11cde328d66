#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <attendance/support/clock.hpp>
#include <attendance/support/uuid.hpp>

namespace attendance::scanner {

// The presence rule (issue 13 §2, ADR 0025): one advertisement is not a check-in,
// because people walking past the door are heard too. A participant is *present*
// once one run of sightings (no gap longer than maxGap) has at least minSightings
// sightings, spans at least minDwell, and its smoothed RSSI is at or above rssiMin.
// The check-in time is the first sighting of that run.
//
// Smoothed RSSI: the median of the run's last three RSSI readings (the lower middle
// value while there are only two). A median, not an EWMA: one reflection spike or
// one body-blocked dip cannot move it at all, and it has no smoothing constant to
// tune. With minSightings 1 it is the packet's own RSSI, so `minSightings 1, minDwell
// 0` is exactly the old single-packet behaviour. Sightings without an RSSI count as
// sightings but not as readings; a run without any reading passes the RSSI test (as
// the per-packet floor always let them through).
//
// Dwell and gaps are measured on the monotonic clock (ADR 0010); the check-in time
// is the sighting's wall time, as before.
//
// Memory is bounded: at most `capacity` candidates (pending and present ones) are
// tracked. Nothing is allocated up front: entries (56 B) come in chunks of 1024 as
// candidates arrive, the index is an open-addressing table of 4-byte slot numbers that
// doubles at half load, and nothing shrinks (the high-water mark is what a venue needs;
// docs/benchmarks-scanner.md, "Memory"). Times are kept to the millisecond (monotonic
// ones as 32-bit offsets, compared modulo 2^32: a run may last up to 49 days). When the table is full, the least
// recently seen candidate is forgotten (counted in `evicted`): a pending run starts over, a present participant has to
// qualify again. "Least recently seen" is the order of sightings (an intrusive list, most recent first, moved on each
// sighting): eviction and expiry take the list's tail in O(1) per entry, whatever the table's size, instead of a scan
// of the whole table. Not thread-safe: one pipeline owns it.
struct PresenceOptions {
  std::size_t minSightings = 2;
  std::chrono::milliseconds minDwell{1500};  // ADR 0025: why 1.5 s
  std::optional<std::int16_t> rssiMin = std::int16_t{-90};
  // Longer than any silence of a phone that is still there (1 s advertising with
  // missed packets, BlueZ restarting its scan every ~10 s), shorter than a walk out
  // and back in.
  std::chrono::milliseconds maxGap{std::chrono::seconds{10}};
  std::size_t capacity = 16384;
};

struct PresenceCounters {
  std::uint64_t qualified = 0;  // runs that became present
  std::uint64_t expired = 0;    // runs that ended (gap > maxGap) without qualifying
  std::uint64_t evicted = 0;    // candidates forgotten because the table was full
};

// What a sighting of a present participant hands on to dedup.
struct Presence {
  std::chrono::system_clock::time_point checkInTime;  // first sighting of the run on its first pass, else this one
  std::chrono::steady_clock::time_point since;        // the same instant on the monotonic clock
  std::optional<int> rssi;                            // smoothed
};

// A present participant's run, as a last-seen line reports it (ADR 0026).
struct Stay {
  support::Uuid id;
  std::chrono::system_clock::time_point firstSeen;  // the run's first sighting (its check-in time)
  std::chrono::system_clock::time_point lastSeen;   // its latest sighting
  std::uint32_t sightings = 0;
  bool left = false;  // the run ended by silence (> maxGap); false while present or when evicted
};

class PresenceFilter {
public:
  // Throws std::invalid_argument for a zero capacity or zero minSightings (start-up only).
  PresenceFilter(const support::TimeSource& time, PresenceOptions options);

  // Set once the participant is present; std::nullopt while the run does not qualify yet.
  [[nodiscard]] std::optional<Presence> onSighting(const support::Uuid& id, std::optional<int> rssi,
                                                   std::chrono::system_clock::time_point seenAt);

  // Ends runs silent for longer than maxGap (counted as expired when they never
  // qualified) and frees their entries, the longest silent first. Cheap to call often:
  // it looks at most once per second, and then only at the entries it frees (+ one).
  void expire();

  // Called when a present run ends: silent for longer than maxGap (left, found by expire() or by
  // the participant's next sighting) or forgotten because the table was full (not known to have
  // left). Runs that never qualified are not stays. One callback; it must not call back in.
  void onStayEnded(std::function<void(const Stay&)> callback) { onStayEnded_ = std::move(callback); }
  // Every present run as it stands (left = false), in table order.
  void forEachPresent(const std::function<void(const Stay&)>& visit) const;

  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }  // candidates not (yet) present
  [[nodiscard]] std::size_t size() const noexcept { return indexed_; }
  [[nodiscard]] const PresenceCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const PresenceOptions& options() const noexcept { return options_; }

private:
  struct Entry {
    support::Uuid id;
    std::int64_t firstWallMs = 0;  // Unix ms of the run's first sighting
    std::int64_t lastWallMs = 0;   // Unix ms of its latest sighting
    std::uint32_t firstMs = 0;     // monotonic ms (since origin_, modulo 2^32) of the first sighting
    std::uint32_t lastMs = 0;      // and of the latest
    std::uint32_t sightings = 0;
    std::int8_t readings[3] = {0, 0, 0};  // ring of the last three RSSI readings
    std::uint8_t readingCount : 2 = 0;    // saturates at 3
    std::uint8_t next : 2 = 0;            // ring position of the next reading
    bool present : 1 = false;
    bool used : 1 = false;
    // Neighbours in the recency list (kNoSlot at its ends).
    std::uint32_t newer = kNoSlot;
    std::uint32_t older = kNoSlot;
  };
  static constexpr std::uint32_t kNoSlot = 0xFFFFFFFF;
  static constexpr std::uint32_t kChunk = 1024;  // entries per allocation

  [[nodiscard]] Entry& entry(std::uint32_t slot) noexcept { return chunks_[slot / kChunk][slot % kChunk]; }
  [[nodiscard]] const Entry& entry(std::uint32_t slot) const noexcept { return chunks_[slot / kChunk][slot % kChunk]; }
  [[nodiscard]] std::uint32_t nowMs(std::chrono::steady_clock::time_point now) const noexcept;
  [[nodiscard]] static std::chrono::milliseconds since(std::uint32_t laterMs, std::uint32_t earlierMs) noexcept {
    return std::chrono::milliseconds{static_cast<std::uint32_t>(laterMs - earlierMs)};
  }
  void startRun(Entry& e, std::chrono::system_clock::time_point wall, std::uint32_t nowMs);
  void release(std::uint32_t slot);
  void unlink(std::uint32_t slot) noexcept;
  void pushNewest(std::uint32_t slot) noexcept;
  [[nodiscard]] std::uint32_t acquire();
  [[nodiscard]] std::uint32_t popFree() noexcept;
  [[nodiscard]] std::optional<int> smoothed(const Entry& e) const noexcept;
  void stayEnded(const Entry& e, bool left) const;
  [[nodiscard]] static Stay stayOf(const Entry& e, bool left);
  // The index: slot numbers by id, linear probing, kNoSlot = empty bucket.
  [[nodiscard]] std::size_t home(const support::Uuid& id) const noexcept;
  [[nodiscard]] std::optional<std::size_t> findBucket(const support::Uuid& id) const noexcept;
  void indexInsert(std::uint32_t slot);
  void indexErase(std::size_t bucket) noexcept;

  const support::TimeSource* time_;
  PresenceOptions options_;
  std::chrono::steady_clock::time_point origin_;  // monotonic ms are counted from here
  std::vector<std::unique_ptr<Entry[]>> chunks_;  // grown on demand, kChunk entries each
  std::uint32_t allocated_ = 0;                   // slots handed out at least once
  std::uint32_t freeHead_ = kNoSlot;              // released slots, linked through Entry::older
  std::uint32_t newest_ = kNoSlot;                // the recency list: newest_ … oldest_, only used entries
  std::uint32_t oldest_ = kNoSlot;
  std::vector<std::uint32_t> buckets_;  // the index (a power of two in size, at most half full)
  std::size_t indexed_ = 0;
  std::size_t pending_ = 0;
  std::optional<std::chrono::steady_clock::time_point> lastSweep_;
  PresenceCounters counters_;
  std::function<void(const Stay&)> onStayEnded_;
};

}  // namespace attendance::scanner
