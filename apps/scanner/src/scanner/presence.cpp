#include "scanner/presence.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace attendance::scanner {
namespace {

// Radios report RSSI within int8 (BlueZ: -127..20); clamping keeps a wrong value from wrapping.
std::int8_t reading(int rssi) noexcept { return static_cast<std::int8_t>(std::clamp(rssi, -128, 127)); }

std::int64_t wallMs(std::chrono::system_clock::time_point t) noexcept {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point wallOf(std::int64_t ms) noexcept {
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

constexpr std::size_t kMinBuckets = 64;

}  // namespace

PresenceFilter::PresenceFilter(const support::TimeSource& time, PresenceOptions options)
    : time_(&time), options_(options), origin_(time.monotonicTime()) {
  if (options_.capacity == 0 || options_.capacity >= kNoSlot) {
    throw std::invalid_argument("presence capacity must be between 1 and 2^32 - 2");
  }
  if (options_.minSightings == 0) throw std::invalid_argument("min-sightings must be at least 1");
  // Nothing else here: entries and index grow with the candidates actually seen, up to capacity.
}

std::uint32_t PresenceFilter::nowMs(std::chrono::steady_clock::time_point now) const noexcept {
  return static_cast<std::uint32_t>(std::chrono::floor<std::chrono::milliseconds>(now - origin_).count());
}

std::size_t PresenceFilter::home(const support::Uuid& id) const noexcept {
  // Fibonacci hashing on top of UuidHash: the top bits of the product pick the bucket.
  const auto h = static_cast<std::uint64_t>(support::UuidHash{}(id)) * 0x9E3779B97F4A7C15ULL;
  return static_cast<std::size_t>(h >> 32) & (buckets_.size() - 1);
}

std::optional<std::size_t> PresenceFilter::findBucket(const support::Uuid& id) const noexcept {
  if (buckets_.empty()) return std::nullopt;
  const std::size_t mask = buckets_.size() - 1;
  for (std::size_t b = home(id);; b = (b + 1) & mask) {
    const std::uint32_t slot = buckets_[b];
    if (slot == kNoSlot) return std::nullopt;
    if (entry(slot).id == id) return b;
  }
}

void PresenceFilter::indexInsert(std::uint32_t slot) {
  if ((indexed_ + 1) * 2 > buckets_.size()) {
    std::vector<std::uint32_t> old(std::max(kMinBuckets, buckets_.size() * 2), kNoSlot);
    old.swap(buckets_);
    indexed_ = 0;
    for (const std::uint32_t s : old) {
      if (s != kNoSlot) indexInsert(s);
    }
  }
  const std::size_t mask = buckets_.size() - 1;
  std::size_t b = home(entry(slot).id);
  while (buckets_[b] != kNoSlot) b = (b + 1) & mask;
  buckets_[b] = slot;
  ++indexed_;
}

void PresenceFilter::indexErase(std::size_t bucket) noexcept {
  // Backward-shift deletion: later members of the probe run move up, so no tombstones.
  const std::size_t mask = buckets_.size() - 1;
  buckets_[bucket] = kNoSlot;
  --indexed_;
  for (std::size_t j = (bucket + 1) & mask; buckets_[j] != kNoSlot; j = (j + 1) & mask) {
    const std::size_t k = home(entry(buckets_[j]).id);
    // The member at j may fill the hole unless its home lies cyclically in (bucket, j].
    const bool homeBetween = bucket <= j ? (bucket < k && k <= j) : (bucket < k || k <= j);
    if (homeBetween) continue;
    buckets_[bucket] = buckets_[j];
    buckets_[j] = kNoSlot;
    bucket = j;
  }
}

void PresenceFilter::startRun(Entry& e, std::chrono::system_clock::time_point wall, std::uint32_t now) {
  e.firstWallMs = wallMs(wall);
  e.firstMs = now;
  e.sightings = 0;
  e.readingCount = 0;
  e.next = 0;
  e.present = false;
  ++pending_;
}

Stay PresenceFilter::stayOf(const Entry& e, bool left) {
  return Stay{e.id, wallOf(e.firstWallMs), wallOf(e.lastWallMs), e.sightings, left};
}

void PresenceFilter::stayEnded(const Entry& e, bool left) const {
  if (e.present && onStayEnded_) onStayEnded_(stayOf(e, left));
}

void PresenceFilter::forEachPresent(const std::function<void(const Stay&)>& visit) const {
  for (std::uint32_t slot = 0; slot < allocated_; ++slot) {
    const Entry& e = entry(slot);
    if (e.used && e.present) visit(stayOf(e, false));
  }
}

void PresenceFilter::unlink(std::uint32_t slot) noexcept {
  Entry& e = entry(slot);
  (e.newer == kNoSlot ? newest_ : entry(e.newer).older) = e.older;
  (e.older == kNoSlot ? oldest_ : entry(e.older).newer) = e.newer;
  e.newer = e.older = kNoSlot;
}

void PresenceFilter::pushNewest(std::uint32_t slot) noexcept {
  Entry& e = entry(slot);
  e.newer = kNoSlot;
  e.older = newest_;
  (newest_ == kNoSlot ? oldest_ : entry(newest_).newer) = slot;
  newest_ = slot;
}

void PresenceFilter::release(std::uint32_t slot) {
  Entry& e = entry(slot);
  if (!e.present) --pending_;
  if (const auto b = findBucket(e.id)) indexErase(*b);
  unlink(slot);
  e.used = false;
  e.older = freeHead_;  // a released entry links the free list through `older`: no separate vector
  freeHead_ = slot;
}

std::uint32_t PresenceFilter::popFree() noexcept {
  const std::uint32_t slot = freeHead_;
  freeHead_ = entry(slot).older;
  entry(slot).older = kNoSlot;
  return slot;
}

std::uint32_t PresenceFilter::acquire() {
  if (freeHead_ != kNoSlot) return popFree();
  if (allocated_ < options_.capacity) {
    if (allocated_ % kChunk == 0) chunks_.push_back(std::make_unique<Entry[]>(kChunk));
    return allocated_++;
  }
  // Full (a flood of distinct ids): the tail of the recency list is the one heard longest ago.
  const std::uint32_t oldest = oldest_;
  ++counters_.evicted;
  stayEnded(entry(oldest), false);
  release(oldest);
  return popFree();
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
  const auto mono = time_->monotonicTime();
  const std::uint32_t now = nowMs(mono);
  std::uint32_t slot = 0;
  if (const auto b = findBucket(id)) {
    slot = buckets_[*b];
    Entry& e = entry(slot);
    if (since(now, e.lastMs) > options_.maxGap) {
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
    Entry& e = entry(slot);
    e.id = id;
    e.used = true;
    indexInsert(slot);
    pushNewest(slot);
    startRun(e, seenAt, now);
  }
  if (newest_ != slot) {
    unlink(slot);
    pushNewest(slot);
  }
  Entry& e = entry(slot);
  if (!e.present && options_.minSightings == 1 && options_.minDwell == std::chrono::milliseconds::zero()) {
    // Single-packet mode: every packet is a run of its own and decides alone, so the
    // check-in time is that packet's, exactly as before the presence rule.
    --pending_;
    startRun(e, seenAt, now);
  }
  e.lastMs = now;
  e.lastWallMs = wallMs(seenAt);
  if (e.sightings < std::numeric_limits<std::uint32_t>::max()) ++e.sightings;
  if (rssi) {
    e.readings[e.next] = reading(*rssi);
    e.next = static_cast<std::uint8_t>((e.next + 1) % 3);
    if (e.readingCount < 3) ++e.readingCount;
  }
  const auto level = smoothed(e);
  if (e.present) return Presence{seenAt, mono, level};
  if (e.sightings < options_.minSightings || since(now, e.firstMs) < options_.minDwell) return std::nullopt;
  if (options_.rssiMin && level && *level < *options_.rssiMin) return std::nullopt;
  e.present = true;
  --pending_;
  ++counters_.qualified;
  return Presence{wallOf(e.firstWallMs), mono - since(now, e.firstMs), level};
}

void PresenceFilter::expire() {
  const auto mono = time_->monotonicTime();
  if (lastSweep_ && mono - *lastSweep_ < std::chrono::seconds{1}) return;
  lastSweep_ = mono;
  const std::uint32_t now = nowMs(mono);
  // The list is in order of sightings, and so of their monotonic times: stop at the first one still there.
  while (oldest_ != kNoSlot && since(now, entry(oldest_).lastMs) > options_.maxGap) {
    const std::uint32_t slot = oldest_;
    if (!entry(slot).present) ++counters_.expired;
    stayEnded(entry(slot), true);
    release(slot);
  }
}

}  // namespace attendance::scanner
