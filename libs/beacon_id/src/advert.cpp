#include <attendance/beacon_id/advert.hpp>

#include <cstring>

namespace attendance::beacon_id {
namespace {

constexpr std::uint8_t kAdFlags = 0x01;
constexpr std::uint8_t kAdComplete16BitUuids = 0x03;
constexpr std::uint8_t kAdServiceData16 = 0x16;
constexpr std::uint8_t kAdManufacturerSpecific = 0xFF;

}  // namespace

std::array<std::uint8_t, kIBeaconManufacturerDataBytes> iBeaconManufacturerData(const support::Uuid& id,
                                                                                const IBeaconParams& params) noexcept {
  std::array<std::uint8_t, kIBeaconManufacturerDataBytes> d{};
  d[0] = 0x02;  // iBeacon type
  d[1] = 0x15;  // 21 bytes follow
  std::memcpy(d.data() + 2, id.bytes.data(), id.bytes.size());
  d[18] = static_cast<std::uint8_t>(params.major >> 8);
  d[19] = static_cast<std::uint8_t>(params.major & 0xff);
  d[20] = static_cast<std::uint8_t>(params.minor >> 8);
  d[21] = static_cast<std::uint8_t>(params.minor & 0xff);
  d[22] = static_cast<std::uint8_t>(params.measuredPower);
  return d;
}

std::array<std::uint8_t, kEddystoneUidServiceDataBytes> eddystoneUidServiceData(const support::Uuid& id,
                                                                                std::int8_t txPowerAt0m) noexcept {
  std::array<std::uint8_t, kEddystoneUidServiceDataBytes> d{};
  d[0] = 0x00;  // UID frame
  d[1] = static_cast<std::uint8_t>(txPowerAt0m);
  std::memcpy(d.data() + 2, id.bytes.data(), id.bytes.size());  // namespace (10) ‖ instance (6)
  // d[18], d[19]: reserved, 00 00
  return d;
}

std::array<std::uint8_t, kIBeaconAdvertisingBytes> iBeaconAdvertisingData(const support::Uuid& id,
                                                                          const IBeaconParams& params) noexcept {
  std::array<std::uint8_t, kIBeaconAdvertisingBytes> a{};
  const auto md = iBeaconManufacturerData(id, params);
  std::size_t i = 0;
  a[i++] = 0x02;
  a[i++] = kAdFlags;
  a[i++] = kFlagsLeGeneralNoBrEdr;
  a[i++] = static_cast<std::uint8_t>(1 + 2 + md.size());  // type + company id + data
  a[i++] = kAdManufacturerSpecific;
  a[i++] = static_cast<std::uint8_t>(kAppleCompanyId & 0xff);
  a[i++] = static_cast<std::uint8_t>(kAppleCompanyId >> 8);
  std::memcpy(a.data() + i, md.data(), md.size());
  return a;
}

std::array<std::uint8_t, kEddystoneUidAdvertisingBytes> eddystoneUidAdvertisingData(const support::Uuid& id,
                                                                                    std::int8_t txPowerAt0m) noexcept {
  std::array<std::uint8_t, kEddystoneUidAdvertisingBytes> a{};
  const auto sd = eddystoneUidServiceData(id, txPowerAt0m);
  constexpr auto lo = static_cast<std::uint8_t>(kEddystoneServiceUuid16 & 0xff);
  constexpr auto hi = static_cast<std::uint8_t>(kEddystoneServiceUuid16 >> 8);
  std::size_t i = 0;
  a[i++] = 0x02;
  a[i++] = kAdFlags;
  a[i++] = kFlagsLeGeneralNoBrEdr;
  a[i++] = 0x03;
  a[i++] = kAdComplete16BitUuids;
  a[i++] = lo;
  a[i++] = hi;
  a[i++] = static_cast<std::uint8_t>(1 + 2 + sd.size());  // type + UUID + data
  a[i++] = kAdServiceData16;
  a[i++] = lo;
  a[i++] = hi;
  std::memcpy(a.data() + i, sd.data(), sd.size());
  return a;
}

}  // namespace attendance::beacon_id
