#include <attendance/beacon_id/advert.hpp>
#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/ble_scan/advertisement.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace attendance;
using namespace attendance::beacon_id;

support::Uuid exampleId() { return *support::Uuid::parse("edd1ebea-c04e-5def-a017-1b413700621c"); }

template <std::size_t N>
std::vector<std::uint8_t> vec(const std::array<std::uint8_t, N>& a) {
  return {a.begin(), a.end()};
}

TEST(IBeacon, ManufacturerDataIsPrefixUuidMajorMinorPower) {
  const auto d = iBeaconManufacturerData(exampleId(), IBeaconParams{0x0102, 0xa0b0, -59});
  const std::vector<std::uint8_t> expected{0x02, 0x15, 0xed, 0xd1, 0xeb, 0xea, 0xc0, 0x4e, 0x5d, 0xef, 0xa0, 0x17,
                                           0x1b, 0x41, 0x37, 0x00, 0x62, 0x1c, 0x01, 0x02, 0xa0, 0xb0, 0xc5};
  EXPECT_EQ(vec(d), expected);
}

TEST(IBeacon, AdvertisingDataIsFlagsThenAppleManufacturerDataIn30Bytes) {
  const auto a = iBeaconAdvertisingData(exampleId());
  const std::vector<std::uint8_t> expected{0x02, 0x01, 0x06, 0x1a, 0xff, 0x4c, 0x00, 0x02, 0x15, 0xed,
                                           0xd1, 0xeb, 0xea, 0xc0, 0x4e, 0x5d, 0xef, 0xa0, 0x17, 0x1b,
                                           0x41, 0x37, 0x00, 0x62, 0x1c, 0x00, 0x00, 0x00, 0x00, 0xc5};
  EXPECT_EQ(vec(a), expected);
  EXPECT_LE(a.size(), kLegacyAdvertisingBytes);
}

TEST(EddystoneUid, ServiceDataIsFrameTxNamespaceInstanceReserved) {
  const auto d = eddystoneUidServiceData(exampleId(), -18);
  const std::vector<std::uint8_t> expected{0x00, 0xee, 0xed, 0xd1, 0xeb, 0xea, 0xc0, 0x4e, 0x5d, 0xef,
                                           0xa0, 0x17, 0x1b, 0x41, 0x37, 0x00, 0x62, 0x1c, 0x00, 0x00};
  EXPECT_EQ(vec(d), expected);
}

TEST(EddystoneUid, AdvertisingDataIsFlagsUuidListAndServiceDataInExactly31Bytes) {
  const auto a = eddystoneUidAdvertisingData(exampleId());
  const std::vector<std::uint8_t> expected{0x02, 0x01, 0x06, 0x03, 0x03, 0xaa, 0xfe, 0x17, 0x16, 0xaa, 0xfe,
                                           0x00, 0xee, 0xed, 0xd1, 0xeb, 0xea, 0xc0, 0x4e, 0x5d, 0xef, 0xa0,
                                           0x17, 0x1b, 0x41, 0x37, 0x00, 0x62, 0x1c, 0x00, 0x00};
  EXPECT_EQ(vec(a), expected);
  EXPECT_EQ(a.size(), kLegacyAdvertisingBytes);
}

// What a phone sends is what the scanner reads: the raw advertising data through ble_scan's
// parser (the same classification as the BlueZ path) gives back the id, in the expected format.
TEST(ScannerReadsIt, IBeaconAdvertisingDataGivesTheIdAndItsFields) {
  const auto id = exampleId();
  const auto a = iBeaconAdvertisingData(id, IBeaconParams{7, 9, -60});
  const auto parsed = ble_scan::parseAdvertisingData(a);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->candidates.size(), 1U);
  EXPECT_EQ(parsed->candidates[0].bleUuid, id);
  EXPECT_EQ(parsed->candidates[0].format, ble_scan::Format::ibeacon);
  ASSERT_TRUE(parsed->candidates[0].ibeacon);
  EXPECT_EQ(parsed->candidates[0].ibeacon->major, 7);
  EXPECT_EQ(parsed->candidates[0].ibeacon->minor, 9);
  EXPECT_EQ(parsed->candidates[0].ibeacon->measuredPower, -60);
  // And as BlueZ reports it: ManufacturerData[0x004C] = the 23 bytes.
  const auto md = iBeaconManufacturerData(id);
  const auto field = ble_scan::parseManufacturerData(kAppleCompanyId, md, ble_scan::ParserOptions{});
  ASSERT_TRUE(field);
  EXPECT_EQ(field->bleUuid, id);
}

TEST(ScannerReadsIt, EddystoneUidAdvertisingDataGivesTheId) {
  const auto id = exampleId();
  const auto parsed = ble_scan::parseAdvertisingData(eddystoneUidAdvertisingData(id));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->candidates.size(), 1U);
  EXPECT_EQ(parsed->candidates[0].bleUuid, id);
  EXPECT_EQ(parsed->candidates[0].format, ble_scan::Format::eddystone_uid);
  // As BlueZ reports it: ServiceData["0000feaa-…"] = the 20 bytes.
  const auto sd = eddystoneUidServiceData(id);
  const auto field = ble_scan::parseServiceData(ble_scan::kEddystoneServiceUuid, sd, ble_scan::ParserOptions{});
  ASSERT_TRUE(field);
  EXPECT_EQ(field->bleUuid, id);
}

TEST(ScannerReadsIt, EveryRotatingIdOfADayInBothFormats) {
  IdentityKey key;
  key.bytes.fill(0x5a);
  const auto ns = *support::BleNamespace::parseHex("8b0ca750e7a7be8e20d5");
  for (Window w = 1912746; w < 1912746 + 96; ++w) {
    const auto id = bleUuidFor(key, ns, w);
    const auto viaIBeacon = ble_scan::parseAdvertisingData(iBeaconAdvertisingData(id));
    const auto viaEddystone = ble_scan::parseAdvertisingData(eddystoneUidAdvertisingData(id));
    ASSERT_TRUE(viaIBeacon && viaEddystone);
    ASSERT_EQ(viaIBeacon->candidates.size(), 1U) << id.toString();
    ASSERT_EQ(viaEddystone->candidates.size(), 1U) << id.toString();
    EXPECT_EQ(viaIBeacon->candidates[0].bleUuid, id);
    EXPECT_EQ(viaEddystone->candidates[0].bleUuid, id);
  }
}

}  // namespace
