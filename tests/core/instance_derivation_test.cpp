// The backend's own derivation of rotating-id instances for its resolver index (OpenSSL's SHA-256,
// which uses the CPU's SHA instructions) must give exactly what beacon_id (libsodium) and every
// broadcaster give: docs/beacon-spec.md.
#include "instance_derivation.hpp"

#include <attendance/beacon_id/resolver.hpp>
#include <attendance/beacon_id/rotating_id.hpp>

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace bid = attendance::beacon_id;
using attendance::support::BleNamespace;

namespace {

TEST(InstanceDerivation, TheSpecsFirstVectorAndItsNeighbours) {
  bid::IdentityKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  const auto ns = *BleNamespace::parseHex("edd1ebeac04e5defa017");
  std::vector<bid::Instance> run(3);
  attendance::core::detail::deriveInstances(key, ns, 1912746, run);
  EXPECT_EQ(run[0], (bid::Instance{0x1b, 0x41, 0x37, 0x00, 0x62, 0x1c}));
  EXPECT_EQ(run[1], bid::instanceFor(key, ns, 1912747));
  EXPECT_EQ(run[2], bid::instanceFor(key, ns, 1912748));
}

TEST(InstanceDerivation, EqualsBeaconIdForRandomKeysNamespacesAndWindows) {
  std::mt19937_64 rng{20261203};
  for (int round = 0; round < 200; ++round) {
    bid::IdentityKey key;
    for (auto& b : key.bytes) b = static_cast<std::uint8_t>(rng());
    BleNamespace ns;
    for (auto& b : ns.bytes) b = static_cast<std::uint8_t>(rng());
    // Windows whose big-endian bytes fill every position, up to the largest a period of 1 s allows.
    const bid::Window first = rng() >> (round % 40 + 24);
    std::vector<bid::Instance> run(static_cast<std::size_t>(round % 7) + 1);
    attendance::core::detail::deriveInstances(key, ns, first, run);
    for (std::size_t i = 0; i < run.size(); ++i) {
      ASSERT_EQ(run[i], bid::instanceFor(key, ns, first + i)) << "round " << round << " window " << first + i;
    }
  }
}

TEST(InstanceDerivation, AResolverBuiltWithItResolvesWhatBroadcastersSend) {
  std::vector<bid::IdentityKey> keys(50);
  std::mt19937_64 rng{7};
  for (auto& k : keys) {
    for (auto& b : k.bytes) b = static_cast<std::uint8_t>(rng());
  }
  const auto ns = *BleNamespace::parseHex("0123456789abcdef0123");
  bid::ResolverOptions o;
  o.firstWindow = 1912746;
  o.lastWindow = 1912746 + 48;
  const auto r = bid::Resolver::create(ns, keys, o, &attendance::core::detail::deriveInstances);
  ASSERT_TRUE(r) << r.error().message();
  for (std::size_t p = 0; p < keys.size(); ++p) {
    const bid::Window w = o.firstWindow + p % 49;
    const auto got = r->resolve(bid::bleUuidFor(keys[p], ns, w), static_cast<std::int64_t>(w) * 900'000 + 1);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->verdict, bid::Verdict::matched) << p;
    EXPECT_EQ(got->participant, p);
  }
}

}  // namespace
