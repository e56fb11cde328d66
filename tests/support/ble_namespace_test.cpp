#include <gtest/gtest.h>

#include <attendance/support/ble_namespace.hpp>

using attendance::support::BleNamespace;
using attendance::support::Uuid;

TEST(BleNamespace, ParsesTwentyHexDigitsInEitherCaseAndFormatsLowercase) {
  const auto ns = BleNamespace::parseHex("EDD1EBEAC04E5DEFA017");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->bytes[0], 0xed);
  EXPECT_EQ(ns->bytes[9], 0x17);
  EXPECT_EQ(ns->toHex(), "edd1ebeac04e5defa017");
}

TEST(BleNamespace, RejectsAnythingButTwentyHexDigits) {
  for (const char* bad : {"", "edd1ebeac04e5defa01", "edd1ebeac04e5defa0171", "0xedd1ebeac04e5defa0",
                          "edd1ebea-c04e-5def-a017", "gdd1ebeac04e5defa017"}) {
    EXPECT_FALSE(BleNamespace::parseHex(bad).has_value()) << bad;
  }
}

TEST(BleNamespace, ContainsExactlyTheIdsThatStartWithIt) {
  const auto ns = *BleNamespace::parseHex("edd1ebeac04e5defa017");
  const auto inside = ns.withInstance({1, 2, 3, 4, 5, 6});
  EXPECT_EQ(inside.toString(), "edd1ebea-c04e-5def-a017-010203040506");
  EXPECT_TRUE(ns.contains(inside));
  EXPECT_FALSE(ns.contains(*Uuid::parse("edd1ebea-c04e-5def-a018-010203040506")));
  // A factory-default iBeacon tag (fda50693-...) is a stranger.
  EXPECT_FALSE(ns.contains(*Uuid::parse("fda50693-a4e2-4fb1-afcf-c6eb07647825")));
}
