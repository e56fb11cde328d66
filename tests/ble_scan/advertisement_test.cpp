#include <attendance/ble_scan/advertisement.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using attendance::ble_scan::Advertisement;
using attendance::ble_scan::Candidate;
using attendance::ble_scan::Format;
using attendance::ble_scan::FormatSet;
using attendance::ble_scan::IBeaconFields;
using attendance::ble_scan::IgnoredReason;
using attendance::ble_scan::kAppleCompanyId;
using attendance::ble_scan::kDefaultAttendanceServiceUuid;
using attendance::ble_scan::kEddystoneServiceUuid;
using attendance::ble_scan::parseAdvertisement;
using attendance::ble_scan::parseManufacturerData;
using attendance::ble_scan::ParserOptions;
using attendance::ble_scan::parseServiceData;
using attendance::ble_scan::parseServiceUuid;
using attendance::support::Uuid;
using Bytes = std::vector<std::uint8_t>;

Uuid uuid(const char* text) { return *Uuid::parse(text); }

const char* const kId = "a1b2c3d4-e5f6-4a5b-8c7d-9e0f11223344";

// An iBeacon frame exactly as BlueZ reports ManufacturerData[0x004C]:
// 02 15 | proximity UUID | major 00 01 | minor 00 02 | measured power C5 (-59).
const Bytes kIBeacon{0x02, 0x15, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x4a, 0x5b, 0x8c, 0x7d,
                     0x9e, 0x0f, 0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0x00, 0x02, 0xc5};
// Eddystone-UID: 00 | tx E7 | namespace (10) | instance (6) | reserved 00 00.
const Bytes kEddystone{0x00, 0xe7, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x4a, 0x5b,
                       0x8c, 0x7d, 0x9e, 0x0f, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00};
const Bytes kSixteen{0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x4a, 0x5b, 0x8c, 0x7d, 0x9e, 0x0f, 0x11, 0x22, 0x33, 0x44};

std::vector<Candidate> parse(const Advertisement& adv, const ParserOptions& o = {}) {
  std::vector<Candidate> out;
  parseAdvertisement(adv, o, out);
  return out;
}

TEST(FormatSetTest, ParsesTheFlagSpelling) {
  auto all = FormatSet::parse("ibeacon,eddystone,service-uuid,service-data");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, FormatSet::all());
  EXPECT_EQ(all->toString(), "ibeacon,eddystone,service-uuid,service-data");

  auto two = FormatSet::parse(" service-data , ibeacon ");
  ASSERT_TRUE(two);
  EXPECT_TRUE(two->contains(Format::ibeacon));
  EXPECT_TRUE(two->contains(Format::service_data));
  EXPECT_FALSE(two->contains(Format::eddystone_uid));
  EXPECT_FALSE(two->contains(Format::service_uuid));
  EXPECT_EQ(two->toString(), "ibeacon,service-data");
}

TEST(FormatSetTest, RejectsUnknownAndEmptyNames) {
  const auto altbeacon = FormatSet::parse("ibeacon,altbeacon");
  ASSERT_FALSE(altbeacon);
  EXPECT_EQ(altbeacon.error().code, boost::system::errc::invalid_argument);
  EXPECT_EQ(altbeacon.error().message,
            "unknown format 'altbeacon' (known: ibeacon,eddystone,service-uuid,service-data)");
  EXPECT_EQ(FormatSet::parse("").error().message,
            "an empty format name (known: ibeacon,eddystone,service-uuid,service-data)");
  EXPECT_FALSE(FormatSet::parse("ibeacon,,eddystone"));
  EXPECT_NE(FormatSet::parse("IBEACON").error().message.find("'IBEACON'"), std::string::npos);
}

TEST(IBeaconTest, ProximityUuidIsTheBleUuid) {
  auto c = parseManufacturerData(kAppleCompanyId, kIBeacon, {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bleUuid.toString(), kId);
  EXPECT_EQ(c->format, Format::ibeacon);
  EXPECT_EQ(c.ignored(), IgnoredReason::none);
  // Major 00 01, minor 00 02 (big-endian), measured power C5.
  EXPECT_EQ(c->ibeacon, (IBeaconFields{1, 2, -59}));
}

TEST(IBeaconTest, MalformedFramesAreNotParticipants) {
  Bytes shortFrame(kIBeacon.begin(), kIBeacon.end() - 1);
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, shortFrame, {}).ignored(), IgnoredReason::wrong_length);
  Bytes longFrame = kIBeacon;
  longFrame.push_back(0);
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, longFrame, {}).ignored(), IgnoredReason::wrong_length);
  Bytes wrongType = kIBeacon;
  wrongType[0] = 0x03;
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, wrongType, {}).ignored(), IgnoredReason::apple_other);
  Bytes wrongLength = kIBeacon;
  wrongLength[1] = 0x16;
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, wrongLength, {}).ignored(), IgnoredReason::apple_other);
  // The same bytes under another company id are not an iBeacon.
  EXPECT_EQ(parseManufacturerData(0x0006, kIBeacon, {}).ignored(), IgnoredReason::no_known_format);
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, Bytes{}, {}).ignored(), IgnoredReason::apple_other);
  ParserOptions noIBeacon;
  noIBeacon.formats.erase(Format::ibeacon);
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, kIBeacon, noIBeacon).ignored(), IgnoredReason::format_disabled);
}

TEST(IBeaconTest, AppleOverflowAreaIsNoise) {
  // iOS in the background: 01 + 16-byte bitmask of hashed service UUIDs; no id in it.
  Bytes overflow{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80};
  EXPECT_FALSE(parseManufacturerData(kAppleCompanyId, overflow, {}));
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, overflow, {}).ignored(), IgnoredReason::apple_overflow_area);
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, Bytes{0x10, 0x05, 0x01}, {}).ignored(), IgnoredReason::apple_other);
  // Counted whatever formats are on: a background iPhone is worth telling the door staff about.
  EXPECT_EQ(parseManufacturerData(kAppleCompanyId, overflow, {.formats = FormatSet::none()}).ignored(),
            IgnoredReason::apple_overflow_area);
}

TEST(AltBeaconTest, IsNotAParticipantFormat) {
  Bytes alt{0xbe, 0xac};
  alt.insert(alt.end(), kSixteen.begin(), kSixteen.end());
  alt.insert(alt.end(), {0x00, 0x01, 0x00, 0x02, 0xc5, 0x00});
  EXPECT_EQ(parseManufacturerData(0x0118, alt, {}).ignored(), IgnoredReason::altbeacon);
  Advertisement adv;
  adv.manufacturerData.push_back({0x0118, alt});
  std::vector<Candidate> out;
  const auto appended = parseAdvertisement(adv, {}, out);
  EXPECT_EQ(appended.count, 0U);
  EXPECT_EQ(appended.ignored, IgnoredReason::altbeacon);
}

TEST(EddystoneTest, NamespaceAndInstanceAreTheBleUuid) {
  auto c = parseServiceData(kEddystoneServiceUuid, kEddystone, {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bleUuid.toString(), kId);
  EXPECT_EQ(c->format, Format::eddystone_uid);
  // Without the two reserved bytes (18 bytes) as some emitters send it.
  Bytes noReserved(kEddystone.begin(), kEddystone.end() - 2);
  auto c2 = parseServiceData(kEddystoneServiceUuid, noReserved, {});
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->bleUuid.toString(), kId);
}

TEST(EddystoneTest, OtherFramesAndShortFramesAreIgnored) {
  Bytes tlm = kEddystone;
  tlm[0] = 0x20;  // TLM
  EXPECT_EQ(parseServiceData(kEddystoneServiceUuid, tlm, {}).ignored(), IgnoredReason::eddystone_not_uid);
  Bytes url = kEddystone;
  url[0] = 0x10;  // URL
  EXPECT_EQ(parseServiceData(kEddystoneServiceUuid, url, {}).ignored(), IgnoredReason::eddystone_not_uid);
  Bytes shortFrame(kEddystone.begin(), kEddystone.begin() + 17);
  EXPECT_EQ(parseServiceData(kEddystoneServiceUuid, shortFrame, {}).ignored(), IgnoredReason::wrong_length);
  Bytes oddLength(kEddystone.begin(), kEddystone.begin() + 19);
  EXPECT_EQ(parseServiceData(kEddystoneServiceUuid, oddLength, {}).ignored(), IgnoredReason::wrong_length);
  EXPECT_EQ(parseServiceData(kEddystoneServiceUuid, Bytes{}, {}).ignored(), IgnoredReason::wrong_length);
}

TEST(ServiceDataTest, SixteenBytesUnderTheAttendanceServiceUuid) {
  auto c = parseServiceData(kDefaultAttendanceServiceUuid, kSixteen, {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bleUuid.toString(), kId);
  EXPECT_EQ(c->format, Format::service_data);
  // A 16-bit service UUID (on the SIG base), so the format fits a legacy advertisement (ADR 0028).
  EXPECT_EQ(kDefaultAttendanceServiceUuid.toString(), "0000fff9-0000-1000-8000-00805f9b34fb");

  Bytes fifteen(kSixteen.begin(), kSixteen.end() - 1);
  EXPECT_EQ(parseServiceData(kDefaultAttendanceServiceUuid, fifteen, {}).ignored(), IgnoredReason::wrong_length);
  Bytes seventeen = kSixteen;
  seventeen.push_back(0);
  EXPECT_EQ(parseServiceData(kDefaultAttendanceServiceUuid, seventeen, {}).ignored(), IgnoredReason::wrong_length);
  // Under any other service UUID it is not ours.
  EXPECT_EQ(parseServiceData(uuid("0000fe2c-0000-1000-8000-00805f9b34fb"), kSixteen, {}).ignored(),
            IgnoredReason::no_known_format);
}

TEST(ServiceDataTest, AttendanceServiceUuidIsConfigurable) {
  ParserOptions o;
  o.attendanceServiceUuid = uuid("11111111-2222-4333-8444-555555555555");
  EXPECT_FALSE(parseServiceData(kDefaultAttendanceServiceUuid, kSixteen, o));
  auto c = parseServiceData(o.attendanceServiceUuid, kSixteen, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bleUuid.toString(), kId);
}

TEST(ServiceUuidTest, CustomUuidsAreParticipantsSigBasedAreNot) {
  auto c = parseServiceUuid(uuid(kId), {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->format, Format::service_uuid);
  EXPECT_EQ(parseServiceUuid(uuid("0000180f-0000-1000-8000-00805f9b34fb"), {}).ignored(),
            IgnoredReason::no_known_format);                                         // Battery
  EXPECT_FALSE(parseServiceUuid(uuid("0000fe2c-0000-1000-8000-00805f9b34fb"), {}));  // Fast Pair
  EXPECT_FALSE(parseServiceUuid(uuid("0000FEAA-0000-1000-8000-00805F9B34FB"), {}));  // Eddystone
  // The attendance service UUID is a key, never an id.
  EXPECT_FALSE(parseServiceUuid(kDefaultAttendanceServiceUuid, {}));
}

TEST(ParseAdvertisementTest, EachFormatCanBeSwitchedOff) {
  Advertisement adv;
  adv.manufacturerData.push_back({kAppleCompanyId, kIBeacon});
  adv.serviceData.push_back(
      {kEddystoneServiceUuid, Bytes{0x00, 0xe7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}});
  adv.serviceData.push_back({kDefaultAttendanceServiceUuid, Bytes{0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x47, 0x28, 0x89,
                                                                  0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30}});
  adv.serviceUuids.push_back(uuid("0000180f-0000-1000-8000-00805f9b34fb"));
  adv.serviceUuids.push_back(uuid("c0ffee00-1234-4abc-8def-0123456789ab"));

  auto all = parse(adv);
  ASSERT_EQ(all.size(), 4U);
  EXPECT_EQ(all[0], (Candidate{uuid(kId), Format::ibeacon, IBeaconFields{1, 2, -59}}));
  EXPECT_EQ(all[1], (Candidate{uuid("01020304-0506-0708-090a-0b0c0d0e0f10"), Format::eddystone_uid, {}}));
  EXPECT_EQ(all[2], (Candidate{uuid("21222324-2526-4728-892a-2b2c2d2e2f30"), Format::service_data, {}}));
  EXPECT_EQ(all[3], (Candidate{uuid("c0ffee00-1234-4abc-8def-0123456789ab"), Format::service_uuid, {}}));

  for (std::size_t off = 0; off < 4; ++off) {
    ParserOptions o;
    o.formats.erase(static_cast<Format>(off));
    auto some = parse(adv, o);
    ASSERT_EQ(some.size(), 3U) << off;
    for (const auto& c : some) {
      EXPECT_NE(c.format, static_cast<Format>(off));
    }
  }
  ParserOptions none;
  none.formats = FormatSet::none();
  std::vector<Candidate> out;
  const auto appended = parseAdvertisement(adv, none, out);
  EXPECT_EQ(appended.count, 0U);
  EXPECT_EQ(appended.ignored, IgnoredReason::format_disabled) << "more telling than the Battery UUID";
}

TEST(ParseAdvertisementTest, AppendsWithoutClearingAndReportsEachIdOnce) {
  Advertisement adv;
  adv.manufacturerData.push_back({kAppleCompanyId, kIBeacon});
  adv.serviceUuids.push_back(uuid(kId));  // the same id again, as a service UUID
  std::vector<Candidate> out{{uuid("c0ffee00-1234-4abc-8def-0123456789ab"), Format::service_uuid, {}}};
  out.reserve(8);
  const auto* before = out.data();
  const auto appended = parseAdvertisement(adv, {}, out);
  EXPECT_EQ(appended.count, 1U);
  EXPECT_EQ(appended.ignored, IgnoredReason::none);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[1], (Candidate{uuid(kId), Format::ibeacon, IBeaconFields{1, 2, -59}}));
  EXPECT_EQ(out.data(), before) << "must not reallocate when capacity suffices";
}

TEST(ParseAdvertisementTest, NilIdIsIgnoredAndCandidatesAreBounded) {
  Advertisement adv;
  adv.serviceData.push_back({kDefaultAttendanceServiceUuid, Bytes(16, 0)});
  std::vector<Candidate> out;
  EXPECT_EQ(parseAdvertisement(adv, {}, out).ignored, IgnoredReason::nil_id);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parseServiceUuid(Uuid{}, {}).ignored(), IgnoredReason::nil_id);

  Advertisement many;
  for (int i = 1; i <= 40; ++i) {
    Uuid u = uuid(kId);
    u.bytes[15] = static_cast<std::uint8_t>(i);
    many.serviceUuids.push_back(u);
  }
  EXPECT_EQ(parse(many).size(), attendance::ble_scan::kMaxCandidatesPerAdvertisement);
}

TEST(ParseAdvertisementTest, OversizedFieldsAreIgnored) {
  Advertisement adv;
  Bytes huge(attendance::ble_scan::kMaxFieldBytes + 1, 0x02);
  adv.manufacturerData.push_back({kAppleCompanyId, huge});
  adv.serviceData.push_back({kEddystoneServiceUuid, huge});
  std::vector<Candidate> out;
  EXPECT_EQ(parseAdvertisement(adv, {}, out).ignored, IgnoredReason::wrong_length);
  EXPECT_TRUE(out.empty());
}

}  // namespace
