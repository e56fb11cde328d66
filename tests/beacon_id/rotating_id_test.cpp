#include <attendance/beacon_id/rotating_id.hpp>

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <span>

namespace {

using namespace attendance;
using namespace attendance::beacon_id;
using std::chrono::seconds;

IdentityKey key0to31() {
  IdentityKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<std::uint8_t>(i);
  return k;
}

support::BleNamespace eddystoneExampleNamespace() { return *support::BleNamespace::parseHex("edd1ebeac04e5defa017"); }

constexpr std::int64_t k20240720T103000Z = 1721471400000;

TEST(RotationPeriod, DefaultsToFifteenMinutesAndAcceptsOneSecondToOneDay) {
  EXPECT_EQ(RotationPeriod{}.seconds(), seconds{900});
  EXPECT_EQ(RotationPeriod::create(seconds{1}).value().seconds(), seconds{1});
  EXPECT_EQ(RotationPeriod::create(seconds{86400}).value().seconds(), seconds{86400});
  EXPECT_EQ(RotationPeriod::create(seconds{0}).error(), boost::system::errc::invalid_argument);
  EXPECT_EQ(RotationPeriod::create(seconds{-900}).error(), boost::system::errc::invalid_argument);
  EXPECT_EQ(RotationPeriod::create(seconds{86401}).error(), boost::system::errc::invalid_argument);
}

TEST(Window, IsUnixSecondsDividedByThePeriodRoundedDown) {
  const RotationPeriod p;
  EXPECT_EQ(windowAt(0, p).value(), 0U);
  EXPECT_EQ(windowAt(899'999, p).value(), 0U);
  EXPECT_EQ(windowAt(900'000, p).value(), 1U);
  // 2024-07-20T10:30:00Z is 1721471400 s = 1912746 × 900 s: a window starts there.
  EXPECT_EQ(windowAt(k20240720T103000Z - 1, p).value(), 1912745U);
  EXPECT_EQ(windowAt(k20240720T103000Z, p).value(), 1912746U);
  EXPECT_EQ(windowAt(k20240720T103000Z + 899'999, p).value(), 1912746U);
  EXPECT_EQ(windowAt(k20240720T103000Z + 900'000, p).value(), 1912747U);
  EXPECT_EQ(windowStartMs(1912746, p).value(), k20240720T103000Z);
  const auto fiveMinutes = RotationPeriod::create(seconds{300}).value();
  EXPECT_EQ(windowAt(k20240720T103000Z, fiveMinutes).value(), 5738238U);
}

TEST(Window, RefusesTimesBefore1970AndStartsItCannotRepresent) {
  EXPECT_EQ(windowAt(-1, RotationPeriod{}).error(), boost::system::errc::invalid_argument);
  EXPECT_EQ(bleUuidAt(key0to31(), eddystoneExampleNamespace(), RotationPeriod{}, -1).error(),
            boost::system::errc::invalid_argument);
  EXPECT_EQ(windowStartMs(~Window{0}, RotationPeriod{}).error(), boost::system::errc::value_too_large);
}

TEST(Derivation, MessageIsLabelNamespaceAndBigEndianWindow) {
  const auto m = derivationMessage(eddystoneExampleNamespace(), 0x0102030405060708ULL);
  const std::vector<std::uint8_t> expected{'a',  't',  't',  'e',  'n',  'd',  'a',  'n',  'c',  'e',  '-',  'e',
                                           'i',  'd',  '-',  'v',  '1',  0xed, 0xd1, 0xeb, 0xea, 0xc0, 0x4e, 0x5d,
                                           0xef, 0xa0, 0x17, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  EXPECT_EQ(std::vector<std::uint8_t>(m.begin(), m.end()), expected);
  EXPECT_EQ(m.size(), 35U);
}

// The expected instance was computed with Python's hmac/hashlib, not with this library:
// hmac.new(bytes(range(32)), b"attendance-eid-v1" + ns + (1912746).to_bytes(8, "big"), sha256).
TEST(Derivation, InstanceIsTheFirstSixBytesOfHmacSha256) {
  const auto mac = derivationMac(key0to31(), eddystoneExampleNamespace(), 1912746);
  const Mac expectedMac{0x1b, 0x41, 0x37, 0x00, 0x62, 0x1c, 0xc9, 0x00, 0x65, 0xec, 0x8f, 0x43, 0x8e, 0xf4, 0x35, 0x5e,
                        0xe9, 0x14, 0xe1, 0x63, 0xc8, 0xbe, 0xcf, 0x66, 0xca, 0xd1, 0x00, 0x99, 0xdb, 0xf6, 0xf0, 0x41};
  EXPECT_EQ(mac, expectedMac);
  EXPECT_EQ(instanceFor(key0to31(), eddystoneExampleNamespace(), 1912746),
            (Instance{0x1b, 0x41, 0x37, 0x00, 0x62, 0x1c}));
  EXPECT_EQ(bleUuidAt(key0to31(), eddystoneExampleNamespace(), RotationPeriod{}, k20240720T103000Z)->toString(),
            "edd1ebea-c04e-5def-a017-1b413700621c");
}

// One key's instances for a run of windows (what the resolver indexes) are instanceFor of each.
TEST(Derivation, InstancesForARunOfWindowsAreEachWindowsInstance) {
  const auto key = key0to31();
  const auto ns = eddystoneExampleNamespace();
  std::array<Instance, 5> run{};
  instancesFor(key, ns, 1912746, run);
  EXPECT_EQ(run[0], (Instance{0x1b, 0x41, 0x37, 0x00, 0x62, 0x1c}));
  for (std::size_t i = 0; i < run.size(); ++i) EXPECT_EQ(run[i], instanceFor(key, ns, 1912746 + i)) << i;
  instancesFor(key, ns, 7, std::span<Instance>{});  // nothing asked, nothing written
}

TEST(Derivation, TheIdChangesEveryWindowAndStaysWithinOne) {
  const auto key = key0to31();
  const auto ns = eddystoneExampleNamespace();
  const RotationPeriod p;
  const auto atStart = bleUuidAt(key, ns, p, k20240720T103000Z).value();
  EXPECT_EQ(bleUuidAt(key, ns, p, k20240720T103000Z + 899'999).value(), atStart);
  EXPECT_NE(bleUuidAt(key, ns, p, k20240720T103000Z + 900'000).value(), atStart);
  EXPECT_NE(bleUuidAt(key, ns, p, k20240720T103000Z - 1).value(), atStart);
  // A day of windows: 96 distinct ids, all inside the namespace.
  std::set<std::string> ids;
  for (Window w = 1912746; w < 1912746 + 96; ++w) {
    const auto id = bleUuidFor(key, ns, w);
    EXPECT_TRUE(ns.contains(id));
    ids.insert(id.toString());
  }
  EXPECT_EQ(ids.size(), 96U);
}

TEST(Derivation, DependsOnTheKeyAndTheNamespace) {
  const auto ns = eddystoneExampleNamespace();
  auto other = key0to31();
  other.bytes[31] ^= 0x01;
  EXPECT_NE(instanceFor(key0to31(), ns, 1912746), instanceFor(other, ns, 1912746));
  auto otherNs = ns;
  otherNs.bytes[9] ^= 0x01;
  // The same key in another deployment gives an unrelated instance, not only another prefix.
  EXPECT_NE(instanceFor(key0to31(), ns, 1912746), instanceFor(key0to31(), otherNs, 1912746));
}

TEST(IdentityKey, HexRoundTripsAndRefusesAnythingElse) {
  const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  EXPECT_EQ(IdentityKey::parseHex(hex), key0to31());
  EXPECT_EQ(key0to31().toHex(), hex);
  EXPECT_EQ(IdentityKey::parseHex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"), key0to31());
  EXPECT_FALSE(IdentityKey::parseHex(hex.substr(2)));
  EXPECT_FALSE(IdentityKey::parseHex(hex + "00"));
  EXPECT_FALSE(IdentityKey::parseHex("zz" + hex.substr(2)));
}

}  // namespace
