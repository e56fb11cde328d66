// The defensive D-Bus value conversion, without a bus: sdbus::Variant values of the
// right and of the wrong types (as python-dbusmock and broken stacks send them).
#include "dbus_decode.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sdbus-c++/Types.h>
#include <string>
#include <vector>

namespace {

namespace decode = attendance::ble_scan::decode;
using attendance::ble_scan::Advertisement;
using Bytes = std::vector<std::uint8_t>;

TEST(DbusDecodeTest, ScalarsOfTheRightType) {
  EXPECT_EQ(decode::asBool(sdbus::Variant{true}), std::optional<bool>{true});
  EXPECT_EQ(decode::asInt16(sdbus::Variant{std::int16_t{-70}}), std::optional<std::int16_t>{-70});
  EXPECT_EQ(decode::asString(sdbus::Variant{std::string{"AA:BB"}}), std::optional<std::string>{"AA:BB"});
}

TEST(DbusDecodeTest, ScalarsOfTheWrongTypeAreRejected) {
  EXPECT_FALSE(decode::asBool(sdbus::Variant{std::int32_t{1}}));
  EXPECT_FALSE(decode::asInt16(sdbus::Variant{std::int32_t{-70}}));
  EXPECT_FALSE(decode::asInt16(sdbus::Variant{std::string{"-70"}}));
  EXPECT_FALSE(decode::asString(sdbus::Variant{true}));
  EXPECT_FALSE(decode::asBool(sdbus::Variant{}));
}

TEST(DbusDecodeTest, ManufacturerDataOfTheRightType) {
  std::map<std::uint16_t, sdbus::Variant> m;
  m.emplace(0x004C, sdbus::Variant{Bytes{0x02, 0x15, 0x01}});
  m.emplace(0x0006, sdbus::Variant{Bytes{0x01}});
  Advertisement adv;
  EXPECT_TRUE(decode::manufacturerData(sdbus::Variant{m}, adv));
  ASSERT_EQ(adv.manufacturerData.size(), 2U);
  EXPECT_EQ(adv.manufacturerData[0].companyId, 0x0006);
  EXPECT_EQ(adv.manufacturerData[1].companyId, 0x004C);
  EXPECT_EQ(adv.manufacturerData[1].data, (Bytes{0x02, 0x15, 0x01}));
}

TEST(DbusDecodeTest, ManufacturerDataOfTheWrongTypeIsSkipped) {
  Advertisement adv;
  // python-dbusmock's AddDevice: an array of dictionaries (aa{qv}).
  std::vector<std::map<std::uint16_t, sdbus::Variant>> mockShape;
  EXPECT_FALSE(decode::manufacturerData(sdbus::Variant{mockShape}, adv));
  EXPECT_FALSE(decode::manufacturerData(sdbus::Variant{std::string{"garbage"}}, adv));
  std::map<std::string, sdbus::Variant> wrongKey;
  wrongKey.emplace("76", sdbus::Variant{Bytes{0x02}});
  EXPECT_FALSE(decode::manufacturerData(sdbus::Variant{wrongKey}, adv));
  EXPECT_TRUE(adv.manufacturerData.empty());

  // One bad entry does not spoil the good one.
  std::map<std::uint16_t, sdbus::Variant> mixed;
  mixed.emplace(0x004C, sdbus::Variant{std::string{"not bytes"}});
  mixed.emplace(0x0118, sdbus::Variant{Bytes{0xBE, 0xAC}});
  EXPECT_FALSE(decode::manufacturerData(sdbus::Variant{mixed}, adv));
  ASSERT_EQ(adv.manufacturerData.size(), 1U);
  EXPECT_EQ(adv.manufacturerData[0].companyId, 0x0118);
}

TEST(DbusDecodeTest, OversizedManufacturerDataIsSkipped) {
  std::map<std::uint16_t, sdbus::Variant> m;
  m.emplace(0x004C, sdbus::Variant{Bytes(attendance::ble_scan::kMaxFieldBytes + 1, 0)});
  Advertisement adv;
  EXPECT_FALSE(decode::manufacturerData(sdbus::Variant{m}, adv));
  EXPECT_TRUE(adv.manufacturerData.empty());
}

TEST(DbusDecodeTest, ServiceDataKeysMustBeUuids) {
  std::map<std::string, sdbus::Variant> m;
  m.emplace("0000feaa-0000-1000-8000-00805f9b34fb", sdbus::Variant{Bytes{0x00, 0x01}});
  m.emplace("not-a-uuid", sdbus::Variant{Bytes{0x00}});
  m.emplace("67931fbe-4269-4563-816a-bddeb3b42103", sdbus::Variant{std::int32_t{5}});
  Advertisement adv;
  EXPECT_FALSE(decode::serviceData(sdbus::Variant{m}, adv));
  ASSERT_EQ(adv.serviceData.size(), 1U);
  EXPECT_EQ(adv.serviceData[0].service.toString(), "0000feaa-0000-1000-8000-00805f9b34fb");
  std::vector<std::map<std::string, sdbus::Variant>> mockShape;
  EXPECT_FALSE(decode::serviceData(sdbus::Variant{mockShape}, adv));
}

TEST(DbusDecodeTest, UuidsAreParsedAndBadOnesSkipped) {
  Advertisement adv;
  EXPECT_FALSE(decode::uuids(sdbus::Variant{std::vector<std::string>{"0000180f-0000-1000-8000-00805f9b34fb", "180f",
                                                                     "C0FFEE00-1234-4ABC-8DEF-0123456789AB"}},
                             adv));
  ASSERT_EQ(adv.serviceUuids.size(), 2U);
  EXPECT_EQ(adv.serviceUuids[1].toString(), "c0ffee00-1234-4abc-8def-0123456789ab");
  EXPECT_FALSE(decode::uuids(sdbus::Variant{std::vector<std::int32_t>{1}}, adv));
  EXPECT_TRUE(decode::uuids(sdbus::Variant{std::vector<std::string>{}}, adv));
}

}  // namespace
