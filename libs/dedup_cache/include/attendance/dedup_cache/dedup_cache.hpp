#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <attendance/support/clock.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

namespace attendance::dedup_cache {

// "Have I logged this bleUuid within the window?"
//
// Time is the injected TimeSource's *monotonic* clock: a Raspberry Pi has no RTC
// and its wall clock may jump when NTP or an operator sets it, which must neither
// flood the log (backward jump) nor make old sightings look fresh. Entries that
// come from a previous process (re-seeding from the log) are converted by the
// caller to a monotonic time point (see seed()).
//
// Memory is reserved at construction: a node pool of `capacity` entries (40 B each,
// resident only once used), an open-addressing index (linear probing, backward-shift
// deletion, no tombstones) and an intrusive LRU list. Lookups are O(1) expected and
// never allocate.
// When the pool is full the least recently *seen* entry is evicted, which can at
// worst cause one extra log line for that participant (harmless: the backend is
// idempotent per participant and event).
//
// Not thread-safe: one scanner pipeline owns it.
class DedupCache {
public:
  struct Options {
    std::chrono::milliseconds window{std::chrono::minutes{5}};
    std::size_t capacity = 16384;
  };

  struct Stats {
    std::uint64_t admitted = 0;    // admit() returned true
    std::uint64_t suppressed = 0;  // admit() returned false
    std::uint64_t evictions = 0;   // live (unexpired) entries evicted because the pool was full
  };

  // errc::invalid_argument for a window that is not positive or a capacity
  // outside 1..2^30 (no exceptions in libraries: docs/adr/0003-errors-as-values.md).
  [[nodiscard]] static Result<DedupCache> create(const support::TimeSource& clock, Options options);
  ~DedupCache();
  DedupCache(const DedupCache&) = delete;
  DedupCache& operator=(const DedupCache&) = delete;
  DedupCache(DedupCache&&) noexcept;
  DedupCache& operator=(DedupCache&&) noexcept;

  // True when `id` was not logged within the window (the caller logs it now and the
  // cache remembers "logged now"); false for a duplicate inside the window. Either
  // way the entry becomes the most recently seen. Never allocates.
  [[nodiscard]] bool admit(const support::Uuid& id) noexcept;

  // True when `id` was logged within the window; changes nothing.
  [[nodiscard]] bool contains(const support::Uuid& id) const noexcept;

  // Remembers that `id` was logged at `loggedAt` (a point on the clock's monotonic
  // timeline, possibly before this process started). Used after a restart to
  // re-seed from the log so a crash loop does not spam it. A later time wins over
  // an earlier one; entries already outside the window are ignored.
  void seed(const support::Uuid& id, std::chrono::steady_clock::time_point loggedAt) noexcept;

  // Entries currently held (expired ones are dropped lazily, so this is an upper bound
  // on the ids inside the window).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::chrono::milliseconds window() const noexcept { return window_; }
  [[nodiscard]] const Stats& stats() const noexcept { return stats_; }

private:
  DedupCache(const support::TimeSource& clock, Options options);  // options already checked

  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  struct Node {
    support::Uuid key;
    std::int64_t loggedAtNs = 0;
    std::uint32_t prev = kNone;  // towards most recently seen
    std::uint32_t next = kNone;  // towards least recently seen
    std::uint32_t slot = kNone;  // position in the index
  };

  [[nodiscard]] std::int64_t nowNs() const noexcept;
  [[nodiscard]] bool expired(const Node& n, std::int64_t now) const noexcept;
  [[nodiscard]] std::uint32_t find(const support::Uuid& id) const noexcept;  // node index or kNone
  std::uint32_t insert(const support::Uuid& id, std::int64_t loggedAtNs) noexcept;
  void eraseFromIndex(std::uint32_t slot) noexcept;
  void unlink(std::uint32_t node) noexcept;
  void pushFront(std::uint32_t node) noexcept;
  void touch(std::uint32_t node) noexcept;

  [[nodiscard]] std::size_t home(const support::Uuid& id) const noexcept;

  const support::TimeSource* clock_;
  std::uint64_t hashKey0_ = 0;  // per-instance random keys: bleUuids are attacker-chosen
  std::uint64_t hashKey1_ = 0;
  std::chrono::milliseconds window_;
  std::int64_t windowNs_;
  std::size_t capacity_;
  std::size_t mask_;                        // index size - 1 (power of two >= 2 * capacity)
  std::vector<Node> nodes_;                 // capacity_ reserved at construction, grows to it without reallocating
  std::unique_ptr<std::uint32_t[]> index_;  // node index per slot, kNone when empty
  std::uint32_t head_ = kNone;              // most recently seen
  std::uint32_t tail_ = kNone;              // least recently seen
  std::uint32_t used_ = 0;                  // nodes handed out from the pool so far
  std::size_t size_ = 0;
  Stats stats_;
};

}  // namespace attendance::dedup_cache
