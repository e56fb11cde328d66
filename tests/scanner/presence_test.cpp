// The presence rule (ADR 0025) on simulated time: no radio, no log.
#include <gtest/gtest.h>

#include <vector>

#include "scanner/presence.hpp"

using namespace std::chrono_literals;
using attendance::scanner::PresenceFilter;
using attendance::scanner::PresenceOptions;
using attendance::support::SimulatedTimeSource;
using attendance::support::Uuid;

namespace {

const Uuid kAlice = *Uuid::parse("a1b2c3d4-e5f6-4711-8899-aabbccddeeff");
const Uuid kBob = *Uuid::parse("b0b0b0b0-0000-4000-8000-000000000001");
const Uuid kEve = *Uuid::parse("eeeeeeee-0000-4000-8000-000000000002");

}  // namespace

TEST(Presence, APasserByWithOneWeakAdvertisementIsNotCheckedIn) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {});
  EXPECT_FALSE(f.onSighting(kEve, -89, clock.systemTime()));
  EXPECT_EQ(f.pending(), 1u);
  clock.advance(11s);  // gone: longer than maxGap without a sighting
  f.expire();
  EXPECT_EQ(f.pending(), 0u);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.counters().expired, 1u);
  EXPECT_EQ(f.counters().qualified, 0u);
}

TEST(Presence, OneStrongPacketAloneIsNotEnoughEither) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {});
  EXPECT_FALSE(f.onSighting(kEve, -50, clock.systemTime()));
  clock.advance(1499ms);
  EXPECT_FALSE(f.onSighting(kEve, -50, clock.systemTime())) << "two sightings, but only 1.499 s apart";
}

TEST(Presence, SeenTwiceTwoSecondsApartAtMinus70IsCheckedInAtTheFirstSighting) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {});
  const auto first = clock.systemTime();
  const auto firstMono = clock.monotonicTime();
  EXPECT_FALSE(f.onSighting(kAlice, -70, clock.systemTime()));
  clock.advance(2s);
  const auto p = f.onSighting(kAlice, -70, clock.systemTime());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->checkInTime, first);
  EXPECT_EQ(p->since, firstMono);
  EXPECT_EQ(p->rssi, -70);
  EXPECT_EQ(f.pending(), 0u);
  EXPECT_EQ(f.counters().qualified, 1u);

  // Still there: every further sighting is handed on (dedup decides), with its own time.
  clock.advance(1s);
  const auto again = f.onSighting(kAlice, -72, clock.systemTime());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->checkInTime, clock.systemTime());
  EXPECT_EQ(f.counters().qualified, 1u);
}

TEST(Presence, ARunBrokenByALongGapStartsOver) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {});
  EXPECT_FALSE(f.onSighting(kBob, -70, clock.systemTime()));
  clock.advance(10s + 1ms);  // more than maxGap: the first sighting no longer counts
  const auto restart = clock.systemTime();
  EXPECT_FALSE(f.onSighting(kBob, -70, clock.systemTime()));
  EXPECT_EQ(f.counters().expired, 1u);
  EXPECT_EQ(f.pending(), 1u);
  clock.advance(2s);
  const auto p = f.onSighting(kBob, -70, clock.systemTime());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->checkInTime, restart);

  // A present participant who leaves and comes back has to qualify again.
  clock.advance(30s);
  EXPECT_FALSE(f.onSighting(kBob, -70, clock.systemTime()));
  EXPECT_EQ(f.counters().expired, 1u) << "a run that qualified is not counted as expired";
}

TEST(Presence, GapsUpToMaxGapKeepTheRun) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.minSightings = 3, .minDwell = 15s});
  const auto first = clock.systemTime();
  EXPECT_FALSE(f.onSighting(kBob, -70, clock.systemTime()));
  clock.advance(10s);
  EXPECT_FALSE(f.onSighting(kBob, -70, clock.systemTime()));
  clock.advance(6s);
  const auto p = f.onSighting(kBob, -70, clock.systemTime());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->checkInTime, first);
}

TEST(Presence, OneNoisyPacketDoesNotDecideTheMedianOfTheLastThreeDoes) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {});
  // A passer-by far away, with one reflection spike: the spike alone cannot lift the median.
  EXPECT_FALSE(f.onSighting(kEve, -97, clock.systemTime()));
  clock.advance(2s);
  EXPECT_FALSE(f.onSighting(kEve, -55, clock.systemTime()));
  clock.advance(500ms);
  EXPECT_FALSE(f.onSighting(kEve, -96, clock.systemTime()));

  // Someone standing at the door whose phone dips once (a body in the way): still checked in.
  const auto first = clock.systemTime();
  EXPECT_FALSE(f.onSighting(kAlice, -70, clock.systemTime()));
  clock.advance(1s);
  EXPECT_FALSE(f.onSighting(kAlice, -71, clock.systemTime()));
  clock.advance(1s);
  const auto p = f.onSighting(kAlice, -104, clock.systemTime());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->checkInTime, first);
  EXPECT_EQ(p->rssi, -71);  // median of -70, -71, -104
}

TEST(Presence, SinglePacketModeIsTheOldBehaviour) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.minSightings = 1, .minDwell = 0ms});
  EXPECT_FALSE(f.onSighting(kEve, -91, clock.systemTime()));
  clock.advance(100ms);
  const auto p = f.onSighting(kEve, -90, clock.systemTime());  // the floor is inclusive
  ASSERT_TRUE(p);
  EXPECT_EQ(p->checkInTime, clock.systemTime()) << "each packet decides alone";
  EXPECT_EQ(p->rssi, -90);
  EXPECT_TRUE(f.onSighting(kAlice, -40, clock.systemTime()));
}

TEST(Presence, WithoutAnRssiFloorOrAnRssiOnlyCountAndDwellDecide) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.rssiMin = std::nullopt});
  EXPECT_FALSE(f.onSighting(kEve, -120, clock.systemTime()));
  clock.advance(2s);
  EXPECT_TRUE(f.onSighting(kEve, -120, clock.systemTime()));

  PresenceFilter g(clock, {});
  EXPECT_FALSE(g.onSighting(kBob, std::nullopt, clock.systemTime()));
  clock.advance(2s);
  const auto p = g.onSighting(kBob, std::nullopt, clock.systemTime());
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->rssi);
}

TEST(Presence, AFullTableForgetsTheLeastRecentlySeenCandidate) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.capacity = 2});
  EXPECT_FALSE(f.onSighting(kAlice, -70, clock.systemTime()));
  clock.advance(100ms);
  EXPECT_FALSE(f.onSighting(kBob, -70, clock.systemTime()));
  clock.advance(100ms);
  EXPECT_FALSE(f.onSighting(kAlice, -70, clock.systemTime()));  // Bob is now the least recently seen
  clock.advance(100ms);
  EXPECT_FALSE(f.onSighting(kEve, -70, clock.systemTime()));  // table full: Bob goes
  EXPECT_EQ(f.size(), 2u);
  EXPECT_EQ(f.counters().evicted, 1u);
  EXPECT_EQ(f.pending(), 2u);
  clock.advance(2s);
  EXPECT_TRUE(f.onSighting(kAlice, -70, clock.systemTime()));
  EXPECT_FALSE(f.onSighting(kBob, -70, clock.systemTime())) << "Bob's run started over";
}

// Last seen (issue 13 §2, ADR 0026): how long a present participant stayed, and when they left.
namespace {
using attendance::scanner::Stay;
}  // namespace

TEST(Presence, APresentRunThatGoesSilentEndsAsAStayFromItsFirstToItsLastSighting) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {});
  std::vector<Stay> ended;
  f.onStayEnded([&ended](const Stay& s) { ended.push_back(s); });
  const auto arrived = clock.systemTime();
  EXPECT_FALSE(f.onSighting(kAlice, -60, arrived));
  EXPECT_FALSE(f.onSighting(kEve, -85, arrived));  // a passer-by: never present, never a stay
  clock.advance(2s);
  ASSERT_TRUE(f.onSighting(kAlice, -60, clock.systemTime()));
  for (int i = 0; i < 12; ++i) {
    clock.advance(5s);
    ASSERT_TRUE(f.onSighting(kAlice, -61, clock.systemTime()));
  }
  const auto last = clock.systemTime();  // arrived + 62 s, 14 sightings

  std::vector<Stay> present;
  f.forEachPresent([&present](const Stay& s) { present.push_back(s); });
  ASSERT_EQ(present.size(), 1U);
  EXPECT_EQ(present[0].id, kAlice);
  EXPECT_EQ(present[0].firstSeen, arrived);
  EXPECT_EQ(present[0].lastSeen, last);
  EXPECT_EQ(present[0].sightings, 14U);
  EXPECT_FALSE(present[0].left);
  EXPECT_TRUE(ended.empty());

  clock.advance(10s);
  f.expire();
  EXPECT_TRUE(ended.empty()) << "silent for exactly maxGap: still there";
  clock.advance(1s);
  f.expire();
  ASSERT_EQ(ended.size(), 1U);
  EXPECT_EQ(ended[0].id, kAlice);
  EXPECT_EQ(ended[0].firstSeen, arrived);
  EXPECT_EQ(ended[0].lastSeen, last);
  EXPECT_EQ(ended[0].sightings, 14U);
  EXPECT_TRUE(ended[0].left);
}

TEST(Presence, AReturnAfterTheGapEndsTheOldStayBeforeTheSweepNotices) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.minSightings = 1, .minDwell = 0ms});
  std::vector<Stay> ended;
  f.onStayEnded([&ended](const Stay& s) { ended.push_back(s); });
  const auto first = clock.systemTime();
  ASSERT_TRUE(f.onSighting(kBob, -60, first));
  clock.advance(15s);  // out for a coffee, back before any expire()
  const auto back = clock.systemTime();
  ASSERT_TRUE(f.onSighting(kBob, -60, back));
  ASSERT_EQ(ended.size(), 1U);
  EXPECT_EQ(ended[0].lastSeen, first);
  EXPECT_TRUE(ended[0].left);
  std::vector<Stay> present;
  f.forEachPresent([&present](const Stay& s) { present.push_back(s); });
  ASSERT_EQ(present.size(), 1U);
  EXPECT_EQ(present[0].firstSeen, back);
}

TEST(Presence, AnEvictedPresentParticipantIsReportedAsNotKnownToHaveLeft) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.minSightings = 1, .minDwell = 0ms, .capacity = 1});
  std::vector<Stay> ended;
  f.onStayEnded([&ended](const Stay& s) { ended.push_back(s); });
  ASSERT_TRUE(f.onSighting(kAlice, -60, clock.systemTime()));
  clock.advance(1s);
  ASSERT_TRUE(f.onSighting(kBob, -60, clock.systemTime()));
  ASSERT_EQ(ended.size(), 1U);
  EXPECT_EQ(ended[0].id, kAlice);
  EXPECT_FALSE(ended[0].left);
}

// Eviction order is the order of sightings, not of clock readings: many sightings share one
// reading of the clock (a batch of D-Bus messages is handled at one `now`), and the table must
// still forget the one heard longest ago, never one just heard. The table never holds more than
// its capacity, and expiry frees the silent ones oldest first.
TEST(Presence, AFullTableEvictsInTheOrderOfSightingsEvenWithinOneClockReading) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.minSightings = 1, .minDwell = 0ms, .capacity = 3});
  std::vector<Uuid> evicted;
  f.onStayEnded([&evicted](const Stay& s) {
    EXPECT_FALSE(s.left);
    evicted.push_back(s.id);
  });
  std::vector<Uuid> ids;
  for (std::uint8_t i = 1; i <= 8; ++i) {
    Uuid u = kAlice;
    u.bytes[15] = i;
    ids.push_back(u);
  }
  // 1 2 3 heard, then 1 again: all at the same instant.
  for (int i : {0, 1, 2, 0}) ASSERT_TRUE(f.onSighting(ids[i], -60, clock.systemTime()));
  ASSERT_TRUE(f.onSighting(ids[3], -60, clock.systemTime()));  // full: 2 goes, not 1
  ASSERT_TRUE(f.onSighting(ids[2], -60, clock.systemTime()));  // 3 refreshed
  ASSERT_TRUE(f.onSighting(ids[4], -60, clock.systemTime()));  // 1 goes
  ASSERT_TRUE(f.onSighting(ids[5], -60, clock.systemTime()));  // 4 goes
  EXPECT_EQ(evicted, (std::vector<Uuid>{ids[1], ids[0], ids[3]}));
  EXPECT_EQ(f.size(), 3U);
  EXPECT_EQ(f.counters().evicted, 3U);

  // A flood of new ids never grows the table: each one pushes out the oldest.
  for (int round = 0; round < 100; ++round) {
    Uuid u = kBob;
    u.bytes[14] = static_cast<std::uint8_t>(round);
    ASSERT_TRUE(f.onSighting(u, -60, clock.systemTime()));
    ASSERT_LE(f.size(), 3U);
  }
  EXPECT_EQ(f.counters().evicted, 103U);
}

TEST(Presence, ExpiryEndsTheSilentRunsOldestFirstAndKeepsTheOthers) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.minSightings = 1, .minDwell = 0ms});
  std::vector<Uuid> ended;
  f.onStayEnded([&ended](const Stay& s) {
    EXPECT_TRUE(s.left);
    ended.push_back(s.id);
  });
  ASSERT_TRUE(f.onSighting(kEve, -60, clock.systemTime()));
  clock.advance(1s);
  ASSERT_TRUE(f.onSighting(kAlice, -60, clock.systemTime()));
  ASSERT_TRUE(f.onSighting(kBob, -60, clock.systemTime()));
  ASSERT_TRUE(f.onSighting(kEve, -60, clock.systemTime()));  // Eve is now the most recent
  clock.advance(6s);
  ASSERT_TRUE(f.onSighting(kEve, -60, clock.systemTime()));
  clock.advance(4500ms);
  ASSERT_TRUE(f.onSighting(kEve, -60, clock.systemTime()));
  f.expire();  // Alice and Bob silent for 10.5 s > maxGap
  EXPECT_EQ(ended, (std::vector<Uuid>{kAlice, kBob}));
  EXPECT_EQ(f.size(), 1U);
}

// The table grows with the candidates actually seen (nothing is allocated up front) and its index
// (open addressing, backward-shift deletion) must find every candidate still there after others
// were freed around it: 6 000 pending runs (past several chunks and index doublings), the
// even-numbered ones seen again 1 s later, and after 10.5 s the odd ones expire. Each of the
// 3 000 left is still its own run: seen again it qualifies at its own first sighting.
TEST(Presence, ThousandsOfCandidatesComeAndGoAndEveryOneLeftIsStillFound) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {});
  const auto t0 = clock.systemTime();
  std::vector<Uuid> ids;
  for (std::uint32_t i = 0; i < 6000; ++i) {
    Uuid u = kAlice;
    u.bytes[12] = static_cast<std::uint8_t>(i >> 8);
    u.bytes[13] = static_cast<std::uint8_t>(i);
    ids.push_back(u);
    EXPECT_FALSE(f.onSighting(u, -60, t0));
  }
  EXPECT_EQ(f.size(), 6000u);
  clock.advance(1s);
  for (std::size_t i = 0; i < ids.size(); i += 2) EXPECT_FALSE(f.onSighting(ids[i], -60, clock.systemTime()));
  clock.advance(9500ms);  // odd ones silent for 10.5 s (> maxGap), even ones for 9.5 s
  f.expire();
  EXPECT_EQ(f.size(), 3000u);
  EXPECT_EQ(f.counters().expired, 3000u);
  for (std::size_t i = 0; i < ids.size(); i += 2) {
    const auto p = f.onSighting(ids[i], -60, clock.systemTime());
    ASSERT_TRUE(p) << i;
    EXPECT_EQ(p->checkInTime, t0) << i;
  }
  EXPECT_EQ(f.counters().qualified, 3000u);
  EXPECT_EQ(f.pending(), 0u);
}

// Released entries are handed out again (the free list runs through the entries themselves,
// ADR 0079): rounds of candidates that come and go never evict anyone and each id keeps its own
// run, whatever slot it lands in.
TEST(Presence, EntriesFreedByExpiryAreReusedWithoutMixingUpTheIds) {
  SimulatedTimeSource clock;
  PresenceFilter f(clock, {.minSightings = 2, .minDwell = 1s, .capacity = 4});
  for (std::uint8_t round = 0; round < 20; ++round) {
    std::vector<Uuid> ids;
    for (std::uint8_t i = 0; i < 4; ++i) {
      Uuid u = kBob;
      u.bytes[14] = round;
      u.bytes[15] = i;
      ids.push_back(u);
      EXPECT_FALSE(f.onSighting(u, -60, clock.systemTime()));
    }
    EXPECT_EQ(f.pending(), 4U);
    clock.advance(1s);
    // Only the first two come back: they qualify, the others stay pending.
    EXPECT_TRUE(f.onSighting(ids[0], -60, clock.systemTime()));
    EXPECT_TRUE(f.onSighting(ids[1], -60, clock.systemTime()));
    EXPECT_EQ(f.pending(), 2U);
    EXPECT_EQ(f.size(), 4U);
    clock.advance(11s);
    f.expire();
    ASSERT_EQ(f.size(), 0U) << "round " << int{round};
  }
  EXPECT_EQ(f.counters().evicted, 0U);
  EXPECT_EQ(f.counters().qualified, 40U);
  EXPECT_EQ(f.counters().expired, 40U);
}
