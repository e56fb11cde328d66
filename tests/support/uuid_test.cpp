#include <gtest/gtest.h>

#include <attendance/support/uuid.hpp>

using attendance::support::Uuid;

TEST(Uuid, ParsesCanonicalFormInEitherCaseAndFormatsLowercase) {
  const auto u = Uuid::parse("A1B2C3D4-E5F6-4789-8abc-DEF012345678");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->bytes[0], 0xa1);
  EXPECT_EQ(u->bytes[15], 0x78);
  EXPECT_EQ(u->toString(), "a1b2c3d4-e5f6-4789-8abc-def012345678");
}

TEST(Uuid, RejectsEverythingButTheCanonicalForm) {
  for (const char* bad : {"", "a1b2c3d4e5f647898abcdef012345678", "{a1b2c3d4-e5f6-4789-8abc-def012345678}",
                          "a1b2c3d4-e5f6-4789-8abc-def01234567", "a1b2c3d4-e5f6-4789-8abc-def0123456789",
                          "a1b2c3d4_e5f6-4789-8abc-def012345678", "g1b2c3d4-e5f6-4789-8abc-def012345678"}) {
    EXPECT_FALSE(Uuid::parse(bad).has_value()) << bad;
  }
}

TEST(Uuid, RecognisesTheBluetoothSigBase) {
  EXPECT_TRUE(Uuid::parse("0000180f-0000-1000-8000-00805f9b34fb")->isBluetoothSigBased());
  EXPECT_TRUE(Uuid::parse("0000feaa-0000-1000-8000-00805f9b34fb")->isBluetoothSigBased());
  EXPECT_FALSE(Uuid::parse("0000180f-0000-1000-8000-00805f9b34fc")->isBluetoothSigBased());
}
