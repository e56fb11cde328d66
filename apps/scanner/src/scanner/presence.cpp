#include "scanner/presence.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace attendance::scanner {
namespace {

// Radios report RSSI within int8 (BlueZ: -127..20); clamping keeps a wrong value from wrapping.
std::int8_t reading(int rssi) noexcept { return static_cast<std::int8_t>(std::clamp(rssi, -128, 127)); }

}  // namespace

PresenceFilter::PresenceFilter(const support::TimeSource& time, PresenceOptions options)
    : time_(&time), options_(options) {
  if (options_.capacity == 0 || options_.capacity >= kNoSlot) {
    throw std::invalid_argument("presence capacity must be between 1 and 2^32 - 2");
  }
  if (options_.minSightings == 0) throw std::invalid_argument("min-sightings must be at least 1");
  // Everything is allocated here; afterwards only the index's nodes come and go, never beyond capacity.
  entries_.resize(options_.capacity);
  free_.reserve(options_.capacity);
  for (std::size_t i = options_.capacity; i > 0; --i) free_.push_back(static_cast<std::uint32_t>(i - 1));
  index_.reserve(options_.capacity);
}

void PresenceFilter::startRun(Entry& e, std::chrono::system_clock::time_point wall,
                              std::chrono::steady_clock::time_point now) {
  e.firstWall = wall;
  e.first = now;
  e.sightings = 0;
  e.readingCount = 0;
  e.next = 0;
  e.present = false;
  ++pending_;
}

void PresenceFilter::stayEnded(const Entry& e, bool left) const {
  if (e.present && onStayEnded_) onStayEnded_(Stay{e.id, e.firstWall, e.lastWall, e.sightings, left});
}

void PresenceFilter::forEachPresent(const std::function<void(const Stay&)>& visit) const {
  for (const Entry& e : entries_) {
    if (e.used && e.present) visit(Stay{e.id, e.firstWall, e.lastWall, e.sightings, false});
  }
}

void PresenceFilter::unlink(std::uint32_t slot) noexcept {
  Entry& e = entries_[slot];
  (e.newer == kNoSlot ? newest_ : entries_[e.newer].older) = e.older;
  (e.older == kNoSlot ? oldest_ : entries_[e.older].newer) = e.newer;
  e.newer = e.older = kNoSlot;
}

void PresenceFilter::pushNewest(std::uint32_t slot) noexcept {
  Entry& e = entries_[slot];
  e.newer = kNoSlot;
  e.older = newest_;
  (newest_ == kNoSlot ? oldest_ : entries_[newest_].newer) = slot;
  newest_ = slot;
}

void PresenceFilter::release(std::uint32_t slot) {
  Entry& e = entries_[slot];
  if (!e.present) --pending_;
  index_.erase(e.id);
  unlink(slot);
  e.used = false;
  free_.push_back(slot);
}

std::uint32_t PresenceFilter::acquire() {
  if (free_.empty()) {
    // Full (a flood of distinct ids): the tail of the recency list is the one heard longest ago.
    const std::uint32_t oldest = oldest_;
    ++counters_.evicted;
    stayEnded(entries_[oldest], false);
    release(oldest);
  }
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

std::optional<int> PresenceFilter::smoothed(const Entry& e) const noexcept {
  if (e.readingCount == 0) return std::nullopt;
  // The newest reading sits just before `next` in the ring.
  const auto at = [&e](int back) { return e.readings[(e.next + 3 - back) % 3]; };
  if (options_.minSightings == 1) return at(1);
  if (e.readingCount == 1) return at(1);
  if (e.readingCount == 2) return std::min(at(1), at(2));  // lower middle: a lone spike cannot lift it
  const int a = at(1), b = at(2), c = at(3);
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

std::optional<Presence> PresenceFilter::onSighting(const support::Uuid& id, std::optional<int> rssi,
                                                   std::chrono::system_clock::time_point seenAt) {
  const auto now = time_->monotonicTime();
  std::uint32_t slot = 0;
  if (const auto it = index_.find(id); it != index_.end()) {
    slot = it->second;
    Entry& e = entries_[slot];
    if (now - e.last > options_.maxGap) {
      // Silent for too long: whatever this run was, it is over.
      stayEnded(e, true);
      if (!e.present) {
        ++counters_.expired;
        --pending_;
      }
      startRun(e, seenAt, now);
    }
  } else {
    slot = acquire();
    Entry& e = entries_[slot];
    e.id = id;
    e.used = true;
    index_.emplace(id, slot);
    pushNewest(slot);
    startRun(e, seenAt, now);
  }
  if (newest_ != slot) {
    unlink(slot);
    pushNewest(slot);
  }
  Entry& e = entries_[slot];
  if (!e.present && options_.minSightings == 1 && options_.minDwell == std::chrono::milliseconds::zero()) {
    // Single-packet mode: every packet is a run of its own and decides alone, so the
    // check-in time is that packet's, exactly as before the presence rule.
    --pending_;
    startRun(e, seenAt, now);
  }
  e.last = now;
  e.lastWall = seenAt;
  if (e.sightings < std::numeric_limits<std::uint32_t>::max()) ++e.sightings;
  if (rssi) {
    e.readings[e.next] = reading(*rssi);
    e.next = static_cast<std::uint8_t>((e.next + 1) % 3);
    if (e.readingCount < 3) ++e.readingCount;
  }
  const auto level = smoothed(e);
  if (e.present) return Presence{seenAt, now, level};
  if (e.sightings < options_.minSightings || now - e.first < options_.minDwell) return std::nullopt;
  if (options_.rssiMin && level && *level < *options_.rssiMin) return std::nullopt;
  e.present = true;
  --pending_;
  ++counters_.qualified;
  return Presence{e.firstWall, e.first, level};
}

void PresenceFilter::expire() {
  const auto now = time_->monotonicTime();
  if (lastSweep_ && now - *lastSweep_ < std::chrono::seconds{1}) return;
  lastSweep_ = now;
  // The list is in order of sightings, and so of `last` (monotonic): stop at the first one still there.
  while (oldest_ != kNoSlot && now - entries_[oldest_].last > options_.maxGap) {
    const std::uint32_t slot = oldest_;
    if (!entries_[slot].present) ++counters_.expired;
    stayEnded(entries_[slot], true);
    release(slot);
  }
}

}  // namespace attendance::scanner
