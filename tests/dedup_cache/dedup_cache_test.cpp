#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>

#include <attendance/dedup_cache/dedup_cache.hpp>

using namespace std::chrono_literals;
using attendance::dedup_cache::DedupCache;
using attendance::support::SimulatedTimeSource;
using attendance::support::Uuid;

namespace {

Uuid idOf(std::uint32_t n) {
  Uuid u;
  u.bytes[0] = 0xa1;
  u.bytes[12] = static_cast<std::uint8_t>(n >> 24);
  u.bytes[13] = static_cast<std::uint8_t>(n >> 16);
  u.bytes[14] = static_cast<std::uint8_t>(n >> 8);
  u.bytes[15] = static_cast<std::uint8_t>(n);
  return u;
}

}  // namespace

TEST(DedupCache, FirstSightingIsAdmittedRepeatsInsideWindowAreNot) {
  SimulatedTimeSource clock;
  auto cache = DedupCache::create(clock, {.window = 5min, .capacity = 8}).value();
  EXPECT_TRUE(cache.admit(idOf(1)));
  clock.advance(4min + 59s);
  EXPECT_FALSE(cache.admit(idOf(1)));
  EXPECT_TRUE(cache.contains(idOf(1)));
  EXPECT_TRUE(cache.admit(idOf(2)));
  EXPECT_EQ(cache.stats().admitted, 2u);
  EXPECT_EQ(cache.stats().suppressed, 1u);
}

TEST(DedupCache, WindowCountsFromTheLoggedSightingNotTheLastOne) {
  SimulatedTimeSource clock;
  auto cache = DedupCache::create(clock, {.window = 5min, .capacity = 8}).value();
  ASSERT_TRUE(cache.admit(idOf(7)));
  for (int i = 0; i < 4; ++i) {
    clock.advance(1min);
    EXPECT_FALSE(cache.admit(idOf(7))) << i;
  }
  clock.advance(1min);  // exactly 5 min after the logged sighting
  EXPECT_TRUE(cache.admit(idOf(7)));
  clock.advance(4min);
  EXPECT_FALSE(cache.admit(idOf(7)));
}

TEST(DedupCache, WallClockJumpsDoNotMatter) {
  SimulatedTimeSource clock;
  auto cache = DedupCache::create(clock, {.window = 5min, .capacity = 8}).value();
  ASSERT_TRUE(cache.admit(idOf(1)));
  clock.setSystemTime(clock.systemTime() + 24h);  // NTP fixes a wrong boot clock
  EXPECT_FALSE(cache.admit(idOf(1)));
  clock.setSystemTime(clock.systemTime() - 48h);
  EXPECT_FALSE(cache.admit(idOf(1)));
}

TEST(DedupCache, FullCacheEvictsLeastRecentlySeen) {
  SimulatedTimeSource clock;
  auto cache = DedupCache::create(clock, {.window = 1h, .capacity = 3}).value();
  ASSERT_TRUE(cache.admit(idOf(1)));
  ASSERT_TRUE(cache.admit(idOf(2)));
  ASSERT_TRUE(cache.admit(idOf(3)));
  EXPECT_FALSE(cache.admit(idOf(1)));  // 1 becomes most recently seen; 2 is now the LRU
  ASSERT_TRUE(cache.admit(idOf(4)));   // evicts 2
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_TRUE(cache.contains(idOf(1)));
  EXPECT_FALSE(cache.contains(idOf(2)));
  EXPECT_TRUE(cache.contains(idOf(3)));
  EXPECT_TRUE(cache.contains(idOf(4)));
  EXPECT_TRUE(cache.admit(idOf(2)));  // forgotten, so logged again
}

TEST(DedupCache, EvictingExpiredEntriesIsNotCountedAsEviction) {
  SimulatedTimeSource clock;
  auto cache = DedupCache::create(clock, {.window = 1s, .capacity = 2}).value();
  ASSERT_TRUE(cache.admit(idOf(1)));
  ASSERT_TRUE(cache.admit(idOf(2)));
  clock.advance(2s);
  ASSERT_TRUE(cache.admit(idOf(3)));
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST(DedupCache, SeedingRemembersRecentLogLinesAndIgnoresOldOnes) {
  SimulatedTimeSource clock;
  clock.advance(1h);
  auto cache = DedupCache::create(clock, {.window = 5min, .capacity = 8}).value();
  const auto now = clock.monotonicTime();
  cache.seed(idOf(1), now - 4min);
  cache.seed(idOf(2), now - 6min);
  cache.seed(idOf(3), now - 1min);
  cache.seed(idOf(3), now - 3min);  // an earlier time never wins over a later one
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.admit(idOf(1)));
  EXPECT_TRUE(cache.admit(idOf(2)));
  clock.advance(1min + 1s);
  EXPECT_TRUE(cache.admit(idOf(1)));   // 5 min after its seeded time
  EXPECT_FALSE(cache.admit(idOf(3)));  // only 2 min after its latest seeded time
  clock.advance(3min);                 // now 5 min 1 s after its latest seeded time
  EXPECT_TRUE(cache.admit(idOf(3)));
}

// Model check against a straightforward reference over a long random workload,
// with capacity pressure so eviction, index deletion and reinsertion all happen.
TEST(DedupCache, MatchesReferenceModelUnderRandomWorkload) {
  SimulatedTimeSource clock;
  constexpr std::size_t kCapacity = 64;
  auto cache = DedupCache::create(clock, {.window = 10s, .capacity = kCapacity}).value();
  struct Entry {
    std::uint32_t id;
    std::chrono::steady_clock::time_point logged;
    std::uint64_t seenSeq;
  };
  std::vector<Entry> model;
  std::uint64_t seq = 0;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::uint32_t> pick(0, 150);
  std::uniform_int_distribution<int> step(0, 400);
  for (int i = 0; i < 200000; ++i) {
    clock.advance(std::chrono::milliseconds(step(rng)));
    const std::uint32_t id = pick(rng);
    const auto now = clock.monotonicTime();
    bool expected = true;
    auto it = std::find_if(model.begin(), model.end(), [&](const Entry& e) { return e.id == id; });
    if (it != model.end()) {
      it->seenSeq = ++seq;
      if (now - it->logged < 10s)
        expected = false;
      else
        it->logged = now;
    } else {
      if (model.size() == kCapacity) {
        auto lru = std::min_element(model.begin(), model.end(),
                                    [](const Entry& a, const Entry& b) { return a.seenSeq < b.seenSeq; });
        model.erase(lru);
      }
      model.push_back({id, now, ++seq});
    }
    ASSERT_EQ(cache.admit(idOf(id)), expected) << "step " << i << " id " << id;
  }
  EXPECT_EQ(cache.size(), kCapacity);
  for (std::uint32_t id = 0; id <= 150; ++id) {
    auto it = std::find_if(model.begin(), model.end(), [&](const Entry& e) { return e.id == id; });
    const bool inModel = it != model.end() && clock.monotonicTime() - it->logged < 10s;
    EXPECT_EQ(cache.contains(idOf(id)), inModel) << id;
  }
}

TEST(DedupCache, RejectsNonsenseOptions) {
  SimulatedTimeSource clock;
  EXPECT_EQ(DedupCache::create(clock, {.window = 0s, .capacity = 8}).error(), boost::system::errc::invalid_argument);
  EXPECT_EQ(DedupCache::create(clock, {.window = 1s, .capacity = 0}).error(), boost::system::errc::invalid_argument);
  EXPECT_EQ(DedupCache::create(clock, {.window = 1s, .capacity = (std::size_t{1} << 30) + 1}).error(),
            boost::system::errc::invalid_argument);
  EXPECT_TRUE(DedupCache::create(clock, {.window = 1s, .capacity = 1}).has_value());
}
