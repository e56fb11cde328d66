#include <attendance/beacon_id/resolver.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <vector>

namespace {

using namespace attendance;
using namespace attendance::beacon_id;

constexpr std::int64_t kEventStartMs = 1721471400000;  // 2024-07-20T10:30:00Z, window 1912746
constexpr Window kEventStart = 1912746;
constexpr std::int64_t kPeriodMs = 900'000;
constexpr std::int64_t kDayMs = 86'400'000;
constexpr Window kWindowsPerDay = 96;

support::BleNamespace ns() { return *support::BleNamespace::parseHex("edd1ebeac04e5defa017"); }

std::vector<IdentityKey> threeKeys() {
  std::vector<IdentityKey> keys(3);
  for (std::size_t p = 0; p < keys.size(); ++p) {
    for (std::size_t i = 0; i < kKeyBytes; ++i) keys[p].bytes[i] = static_cast<std::uint8_t>(31 * p + i);
  }
  return keys;
}

// A 12-hour event, plus a day of look-back so yesterday's ids are recognised as replays.
ResolverOptions twelveHoursWithADayBack() {
  ResolverOptions o;
  o.firstWindow = kEventStart - kWindowsPerDay;
  o.lastWindow = kEventStart + 48;
  return o;
}

Resolver resolver(const std::vector<IdentityKey>& keys, const ResolverOptions& o = twelveHoursWithADayBack()) {
  auto r = Resolver::create(ns(), keys, o);
  EXPECT_TRUE(r) << r.error().message();
  return std::move(r).value();
}

TEST(Resolver, IndexesEveryKeyForEveryWindow) {
  const auto keys = threeKeys();
  const auto r = resolver(keys);
  EXPECT_EQ(r.participants(), 3U);
  EXPECT_EQ(r.entries(), 3U * (kWindowsPerDay + 48 + 1));
}

// A backend may compute the instances its own (faster) way; the index is built from what it gives.
void reversedInstances(const IdentityKey& key, const support::BleNamespace& space, Window first,
                       std::span<Instance> out) noexcept {
  instancesFor(key, space, first, out);
  for (auto& i : out) std::reverse(i.begin(), i.end());
}

TEST(Resolver, IsBuiltFromTheInstancesTheGivenDeriverComputes) {
  const auto keys = threeKeys();
  const auto r = Resolver::create(ns(), keys, twelveHoursWithADayBack(), &reversedInstances);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries(), 3U * (kWindowsPerDay + 48 + 1));
  auto reversed = instanceFor(keys[1], ns(), kEventStart + 3);
  std::reverse(reversed.begin(), reversed.end());
  const auto hit = r->resolve(ns().withInstance(reversed), kEventStartMs + 3 * kPeriodMs);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->verdict, Verdict::matched);
  EXPECT_EQ(hit->participant, 1U);
  const auto miss = r->resolve(bleUuidFor(keys[1], ns(), kEventStart + 3), kEventStartMs + 3 * kPeriodMs);
  ASSERT_TRUE(miss);
  EXPECT_EQ(miss->verdict, Verdict::unknown);
}

TEST(Resolver, AnIdSeenInItsOwnWindowIsItsParticipant) {
  const auto keys = threeKeys();
  const auto r = resolver(keys);
  for (std::size_t p = 0; p < keys.size(); ++p) {
    for (const std::int64_t at : {kEventStartMs, kEventStartMs + 899'999, kEventStartMs + 11 * 3'600'000}) {
      const auto id = bleUuidAt(keys[p], ns(), RotationPeriod{}, at).value();
      const auto got = r.resolve(id, at).value();
      EXPECT_EQ(got.verdict, Verdict::matched) << verdictName(got.verdict);
      EXPECT_EQ(got.participant, p);
      EXPECT_EQ(got.offset, 0);
      EXPECT_EQ(got.window, windowAt(at, RotationPeriod{}).value());
    }
  }
}

// The phone's clock and the scanner's disagree, or the phone switched ids a little late: the id of
// the window before or after the check-in's still counts, one further does not.
TEST(Resolver, OneWindowOfClockSkewEitherWayIsAccepted) {
  const auto keys = threeKeys();
  const auto r = resolver(keys);
  const auto seenAt = kEventStartMs + 10 * kPeriodMs + 1;
  const auto seenWindow = kEventStart + 10;
  const auto late = r.resolve(bleUuidFor(keys[1], ns(), seenWindow - 1), seenAt).value();
  EXPECT_EQ(late, (Resolution{Verdict::matched, 1, seenWindow - 1, -1}));
  const auto early = r.resolve(bleUuidFor(keys[1], ns(), seenWindow + 1), seenAt).value();
  EXPECT_EQ(early, (Resolution{Verdict::matched, 1, seenWindow + 1, 1}));
  const auto twoBehind = r.resolve(bleUuidFor(keys[1], ns(), seenWindow - 2), seenAt).value();
  EXPECT_EQ(twoBehind, (Resolution{Verdict::expired, 1, seenWindow - 2, -2}));
  const auto twoAhead = r.resolve(bleUuidFor(keys[1], ns(), seenWindow + 2), seenAt).value();
  EXPECT_EQ(twoAhead, (Resolution{Verdict::expired, 1, seenWindow + 2, 2}));
}

TEST(Resolver, SkewIsConfigurable) {
  const auto keys = threeKeys();
  auto o = twelveHoursWithADayBack();
  o.skewWindows = 0;
  const auto strict = resolver(keys, o);
  const auto seenAt = kEventStartMs + 10 * kPeriodMs;
  EXPECT_EQ(strict.resolve(bleUuidFor(keys[0], ns(), kEventStart + 9), seenAt)->verdict, Verdict::expired);
  o.skewWindows = 2;
  const auto lenient = resolver(keys, o);
  EXPECT_EQ(lenient.resolve(bleUuidFor(keys[0], ns(), kEventStart + 8), seenAt)->verdict, Verdict::matched);
}

// Someone heard a participant's phone yesterday and broadcasts that id today to check them in.
TEST(Resolver, YesterdaysIdReplayedTodayIsExpired) {
  const auto keys = threeKeys();
  const auto r = resolver(keys);
  const auto heardYesterday =
      bleUuidAt(keys[2], ns(), RotationPeriod{}, kEventStartMs + 3 * kPeriodMs - kDayMs).value();
  const auto replayedAt = kEventStartMs + 3 * kPeriodMs + 5'000;
  const auto got = r.resolve(heardYesterday, replayedAt).value();
  EXPECT_EQ(got.verdict, Verdict::expired);
  EXPECT_EQ(got.participant, 2U);
  EXPECT_EQ(got.offset, -static_cast<std::int64_t>(kWindowsPerDay));
  // The same id in its own window, yesterday, was a check-in.
  EXPECT_EQ(r.resolve(heardYesterday, kEventStartMs + 3 * kPeriodMs - kDayMs)->verdict, Verdict::matched);
}

// Without the look-back the replay is still refused; it is only not recognised as one.
TEST(Resolver, AReplayFromBeforeTheIndexedWindowsIsUnknownNotAccepted) {
  const auto keys = threeKeys();
  ResolverOptions o;
  o.firstWindow = kEventStart - 1;
  o.lastWindow = kEventStart + 48;
  const auto r = resolver(keys, o);
  const auto heardYesterday = bleUuidAt(keys[2], ns(), RotationPeriod{}, kEventStartMs - kDayMs).value();
  EXPECT_EQ(r.resolve(heardYesterday, kEventStartMs)->verdict, Verdict::unknown);
}

TEST(Resolver, StrangersAreUnknownOrOutsideTheNamespace) {
  const auto keys = threeKeys();
  const auto r = resolver(keys);
  // A static bleUuid of this deployment (namespace ‖ random instance), or a guess.
  auto guess = ns().withInstance({0x01, 0x02, 0x03, 0x04, 0x05, 0x06});
  EXPECT_EQ(r.resolve(guess, kEventStartMs)->verdict, Verdict::unknown);
  // Another deployment's participant with the same key material: other namespace.
  auto other = ns();
  other.bytes[0] ^= 0xff;
  const auto foreign = bleUuidAt(keys[0], other, RotationPeriod{}, kEventStartMs).value();
  EXPECT_EQ(r.resolve(foreign, kEventStartMs)->verdict, Verdict::outside_namespace);
  // A factory-default iBeacon tag.
  EXPECT_EQ(r.resolve(*support::Uuid::parse("fda50693-a4e2-4fb1-afcf-c6eb07647825"), kEventStartMs)->verdict,
            Verdict::outside_namespace);
}

// Two participants whose keys give the same instance in overlapping windows: a 2^-48 event per
// pair, simulated here by giving two participants the same key. The resolver does not guess.
TEST(Resolver, AnIdTwoParticipantsDeriveIsAmbiguous) {
  auto keys = threeKeys();
  keys.push_back(keys[0]);
  const auto r = resolver(keys);
  const auto id = bleUuidAt(keys[0], ns(), RotationPeriod{}, kEventStartMs).value();
  EXPECT_EQ(r.resolve(id, kEventStartMs)->verdict, Verdict::ambiguous);
  // Outside the skew it is still a replay of someone's id.
  EXPECT_EQ(r.resolve(id, kEventStartMs + 5 * kPeriodMs)->verdict, Verdict::expired);
}

TEST(Resolver, ACheckInBefore1970IsAnError) {
  const auto keys = threeKeys();
  const auto r = resolver(keys);
  EXPECT_EQ(r.resolve(bleUuidFor(keys[0], ns(), kEventStart), -1).error(), boost::system::errc::invalid_argument);
}

TEST(Resolver, RefusesAnEmptyRangeAndAnIndexTooLarge) {
  const auto keys = threeKeys();
  ResolverOptions backwards;
  backwards.firstWindow = 10;
  backwards.lastWindow = 9;
  EXPECT_EQ(Resolver::create(ns(), keys, backwards).error(), boost::system::errc::invalid_argument);
  ResolverOptions huge;
  huge.firstWindow = 0;
  huge.lastWindow = kMaxIndexEntries / 2;  // × 3 keys
  EXPECT_EQ(Resolver::create(ns(), keys, huge).error(), boost::system::errc::value_too_large);
  ResolverOptions unrepresentable;
  unrepresentable.firstWindow = ~Window{0} - 1;
  unrepresentable.lastWindow = ~Window{0};
  EXPECT_EQ(Resolver::create(ns(), keys, unrepresentable).error(), boost::system::errc::invalid_argument);
}

TEST(Resolver, WithNoKeysEverythingInTheNamespaceIsUnknown) {
  const auto r = resolver({});
  EXPECT_EQ(r.entries(), 0U);
  EXPECT_EQ(r.resolve(ns().withInstance({1, 2, 3, 4, 5, 6}), kEventStartMs)->verdict, Verdict::unknown);
}

TEST(Resolver, VerdictNamesAreStable) {
  EXPECT_EQ(verdictName(Verdict::matched), "matched");
  EXPECT_EQ(verdictName(Verdict::expired), "expired");
  EXPECT_EQ(verdictName(Verdict::unknown), "unknown");
  EXPECT_EQ(verdictName(Verdict::outside_namespace), "outside-namespace");
  EXPECT_EQ(verdictName(Verdict::ambiguous), "ambiguous");
}

}  // namespace
