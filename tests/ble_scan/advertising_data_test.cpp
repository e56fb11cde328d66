// The raw-bytes entry point (issue 13 §3): AD structures exactly as received on air, through the
// same classification as the BlueZ-shaped Advertisement. Vectors are published captures and the
// test vectors of other beacon libraries, so a byte-order mistake on our side cannot hide behind
// a simulator that makes the same mistake.
#include <attendance/ble_scan/advertisement.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using attendance::ble_scan::Advertisement;
using attendance::ble_scan::Candidate;
using attendance::ble_scan::decodeAdvertisingData;
using attendance::ble_scan::Format;
using attendance::ble_scan::IBeaconFields;
using attendance::ble_scan::IgnoredReason;
using attendance::ble_scan::ignoredReasonName;
using attendance::ble_scan::kAppleCompanyId;
using attendance::ble_scan::kEddystoneServiceUuid;
using attendance::ble_scan::parseAdvertisement;
using attendance::ble_scan::parseAdvertisingData;
using attendance::ble_scan::ParserOptions;
using attendance::support::Uuid;
using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::string_view text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size();) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

std::vector<Candidate> ids(std::string_view text, const ParserOptions& o = {}) {
  auto r = parseAdvertisingData(hex(text), o);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? r->candidates : std::vector<Candidate>{};
}

Candidate candidate(const char* id, Format f) { return Candidate{*Uuid::parse(id), f, std::nullopt}; }
Candidate ibeacon(const char* id, std::uint16_t major, std::uint16_t minor, std::int8_t power) {
  return Candidate{*Uuid::parse(id), Format::ibeacon, IBeaconFields{major, minor, power}};
}

IgnoredReason why(std::string_view text) {
  auto r = parseAdvertisingData(hex(text));
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return IgnoredReason::none;
  EXPECT_TRUE(r->candidates.empty() || r->ignored == IgnoredReason::none);
  return r->ignored;
}

// A BlueZ HCI LE advertising report captured from an iBeacon (xorbit/py-decode-beacon, IBEACON.md):
// 04 3E 2A 02 01 03 00 EC F8 00 EE F3 0C 1E | <30 bytes of AD structures> | BB (RSSI). The AD part:
constexpr std::string_view kHciCapture =
    "02 01 04 1A FF 4C 00 02 15 8D EE FB B9 F7 38 42 97 80 40 96 66 8B B4 42 81 13 88 0F 4E C1";
// iOS AirLocate (Apple's sample app) advertising its default proximity UUID, major 0, minor 0, -59 dBm.
constexpr std::string_view kAirLocate = "0201061aff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5";
// Eddystone-UID with the example namespace/instance of Google's Eddystone repository:
// flags | complete 16-bit UUIDs FEAA | service data FEAA: 00, tx -25, namespace, instance, RFU 00 00.
constexpr std::string_view kEddystoneUid = "020106 0303aafe 1716aafe 00e7 edd1ebeac04e5defa017 0bdb87539b67 0000";
// The Android Beacon Library's AltBeacon test vector (AltBeaconParserTest), with its trailing padding.
constexpr std::string_view kAltBeacon = "02011a1bff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c50900";

}  // namespace

TEST(AdvertisingData, PublishedIBeaconCapturesGiveTheProximityUuidMajorMinorAndPower) {
  // Major 0x1388 = 5000, minor 0x0F4E = 3918 (big-endian, as iBeacon sends them), power C1 = -63 dBm.
  EXPECT_EQ(ids(kHciCapture), std::vector<Candidate>{ibeacon("8deefbb9-f738-4297-8040-96668bb44281", 5000, 3918, -63)});
  EXPECT_EQ(ids(kAirLocate), std::vector<Candidate>{ibeacon("e2c56db5-dffb-48d2-b060-d0f5a71096e0", 0, 0, -59)});
  EXPECT_EQ(why(kHciCapture), IgnoredReason::none);
}

TEST(AdvertisingData, EddystoneUidIsNamespaceThenInstanceAndFitsALegacyAdvert) {
  EXPECT_EQ(hex(kEddystoneUid).size(), 31U);
  EXPECT_EQ(ids(kEddystoneUid),
            std::vector<Candidate>{candidate("edd1ebea-c04e-5def-a017-0bdb87539b67", Format::eddystone_uid)});
}

TEST(AdvertisingData, AltBeaconAndTheIosBackgroundOverflowAreaAreNoiseAndSaySo) {
  EXPECT_TRUE(ids(kAltBeacon).empty());
  EXPECT_EQ(why(kAltBeacon), IgnoredReason::altbeacon);
  Advertisement adv;
  ASSERT_TRUE(decodeAdvertisingData(hex(kAltBeacon), adv));
  ASSERT_EQ(adv.manufacturerData.size(), 1U);
  EXPECT_EQ(adv.manufacturerData[0].companyId, 0x0118);  // Radius Networks, little-endian on air

  // iOS in the background: flags, then manufacturer data 4C 00 | 01 | 16-byte bitmask.
  const auto overflow = "02011a 14ff4c00 01 00000000000000000000000000000080";
  EXPECT_TRUE(ids(overflow).empty());
  EXPECT_EQ(why(overflow), IgnoredReason::apple_overflow_area);
  ASSERT_TRUE(decodeAdvertisingData(hex(overflow), adv));
  ASSERT_EQ(adv.manufacturerData.size(), 1U);
  EXPECT_EQ(adv.manufacturerData[0].companyId, kAppleCompanyId);
}

TEST(AdvertisingData, AFrameWithoutAnIdSaysWhy) {
  EXPECT_EQ(why("020106"), IgnoredReason::no_known_format);  // flags only
  EXPECT_EQ(why(""), IgnoredReason::no_known_format);
  // Eddystone-TLM (frame type 20) next to the FEAA UUID list: the frame is more telling than the list.
  EXPECT_EQ(why("020106 0303aafe 1116aafe 20 00 0bb8 1700 00000001 00000002"), IgnoredReason::eddystone_not_uid);
  // An iBeacon prefix cut two bytes short (no minor).
  EXPECT_EQ(why("020106 18ff4c00 0215 e2c56db5dffb48d2b060d0f5a71096e0 0000 c5"), IgnoredReason::wrong_length);
  // AirPods-style Apple continuity data (type 07).
  EXPECT_EQ(why("020106 0aff4c00 0705 0102030405"), IgnoredReason::apple_other);
  // An all-zero proximity UUID.
  EXPECT_EQ(why("0201061aff4c000215 00000000000000000000000000000000 00000000c5"), IgnoredReason::nil_id);
  // AirLocate with iBeacon switched off.
  ParserOptions noIBeacon;
  noIBeacon.formats.erase(Format::ibeacon);
  auto r = parseAdvertisingData(hex(kAirLocate), noIBeacon);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->candidates.empty());
  EXPECT_EQ(r->ignored, IgnoredReason::format_disabled);
  EXPECT_EQ(ignoredReasonName(IgnoredReason::apple_overflow_area), "apple-overflow-area");
  EXPECT_EQ(ignoredReasonName(IgnoredReason::none), "none");
}

TEST(AdvertisingData, DecodesToWhatBlueZReportsSoBothEntryPointsAgree) {
  Advertisement adv;
  ASSERT_TRUE(decodeAdvertisingData(hex(kEddystoneUid), adv));
  ASSERT_EQ(adv.serviceData.size(), 1U);
  EXPECT_EQ(adv.serviceData[0].service, kEddystoneServiceUuid);  // 16-bit FEAA on the SIG base
  EXPECT_EQ(adv.serviceData[0].data.size(), 20U);
  ASSERT_EQ(adv.serviceUuids.size(), 1U);
  EXPECT_EQ(adv.serviceUuids[0], kEddystoneServiceUuid);
  std::vector<Candidate> fromBlueZShape;
  parseAdvertisement(adv, {}, fromBlueZShape);
  EXPECT_EQ(fromBlueZShape, ids(kEddystoneUid));

  // A 128-bit service UUID is little-endian on air; BlueZ shows it in the usual order.
  EXPECT_EQ(ids("020106 1107 221100ff0f9e7d8c5b4af6e5d4c3b2a1"),
            std::vector<Candidate>{candidate("a1b2c3d4-e5f6-4a5b-8c7d-9e0fff001122", Format::service_uuid)});
}

TEST(AdvertisingData, ASingleByteOfPaddingOrAZeroLengthEndsTheData) {
  EXPECT_TRUE(parseAdvertisingData(Bytes{}));
  EXPECT_EQ(ids(std::string(kAirLocate) + "00"), ids(kAirLocate));
  EXPECT_EQ(ids(std::string(kAirLocate) + "0000ffff"), ids(kAirLocate));  // after a 0 length: unused
}

TEST(AdvertisingData, MalformedLengthsAreRejectedNamingTheOffset) {
  const auto bad = [](std::string_view text) {
    auto r = parseAdvertisingData(hex(text));
    EXPECT_FALSE(r) << text;
    return r ? std::string{} : r.error().message;
  };
  // The iBeacon structure claims 27 bytes where 26 remain.
  EXPECT_NE(bad("0201061bff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5").find("offset 3"), std::string::npos);
  EXPECT_FALSE(bad("0201").empty());                                   // flags cut short
  EXPECT_FALSE(bad("02ff4c").empty());                                 // manufacturer data without a whole company id
  EXPECT_FALSE(bad("0216aa").empty());                                 // 16-bit service data without its UUID
  EXPECT_FALSE(bad("0421001122").empty());                             // 128-bit service data without its UUID
  EXPECT_NE(bad("0303123405ff").find("offset 4"), std::string::npos);  // the second structure runs past
  EXPECT_FALSE(bad("0403aafe00").empty());                             // a 16-bit UUID list of 3 bytes
  EXPECT_FALSE(bad("0507"
                   "00112233")
                   .empty());  // a 128-bit UUID list of 4 bytes
}

// ADR 0028: the service-data format as a phone sends it, under the 16-bit attendance service UUID:
// flags (3) + Service Data 16-bit AD (1 length + 1 type + 2 UUID + 16 id = 20) = 23 of 31 bytes.
TEST(AdvertisingData, ServiceDataUnderThe16BitAttendanceUuidFitsALegacyAdvert) {
  const auto air = hex("020106 1316f9ff a1b2c3d4e5f64a5b8c7d9e0f11223344");
  EXPECT_LE(air.size(), 31U);
  EXPECT_EQ(ids("020106 1316f9ff a1b2c3d4e5f64a5b8c7d9e0f11223344"),
            std::vector<Candidate>{candidate("a1b2c3d4-e5f6-4a5b-8c7d-9e0f11223344", Format::service_data)});
  // The old 128-bit key needs 3 + 1 + 1 + 16 + 16 = 37 bytes: no phone can send it in a legacy advert.
  constexpr std::string_view oldKey = "020106 2121 0321b4b3debd6a8163456942be1f9367 a1b2c3d4e5f64a5b8c7d9e0f11223344";
  EXPECT_EQ(hex(oldKey).size(), 37U);
  // Parsing is unchanged: configured with that key (extended advertising), it is still read.
  ParserOptions o;
  o.attendanceServiceUuid = *Uuid::parse("67931fbe-4269-4563-816a-bddeb3b42103");
  EXPECT_EQ(ids(oldKey, o),
            std::vector<Candidate>{candidate("a1b2c3d4-e5f6-4a5b-8c7d-9e0f11223344", Format::service_data)});
}
