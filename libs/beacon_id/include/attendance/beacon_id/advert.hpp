#pragma once

#include <attendance/support/uuid.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

// The bytes a broadcaster sends for one bleUuid (docs/beacon-spec.md "Advertisements"), in the
// two formats a phone can send in a 31-byte legacy advertisement and the scanner reads
// (docs/ble.md): iBeacon and Eddystone-UID. The same functions serve a static bleUuid and a
// rotating one. Pure functions, no I/O.
namespace attendance::beacon_id {

// A legacy advertisement carries at most 31 bytes of advertising data.
inline constexpr std::size_t kLegacyAdvertisingBytes = 31;
// The Flags AD a broadcaster's stack adds: LE General Discoverable, BR/EDR not supported.
// (Android leaves it out of non-connectable advertisements; the scanner ignores it.)
inline constexpr std::uint8_t kFlagsLeGeneralNoBrEdr = 0x06;

// Apple's company id, little-endian on air (4C 00).
inline constexpr std::uint16_t kAppleCompanyId = 0x004C;
// Eddystone's 16-bit service UUID, little-endian on air (AA FE).
inline constexpr std::uint16_t kEddystoneServiceUuid16 = 0xFEAA;

// Every participant sends the same constants: a per-phone calibrated value, like a static
// major/minor, would be a handle to track a phone across rotating ids.
inline constexpr std::int8_t kDefaultMeasuredPower = -59;     // iBeacon: RSSI at 1 m, dBm
inline constexpr std::int8_t kDefaultEddystoneTxPower = -18;  // Eddystone: at 0 m = at 1 m + 41 dB

struct IBeaconParams {
  std::uint16_t major = 0;  // big-endian on air; 0 for private ids (a fixed value would be a tracking handle)
  std::uint16_t minor = 0;
  std::int8_t measuredPower = kDefaultMeasuredPower;
};

// 23 bytes: 02 15 ‖ proximity UUID (16) ‖ major (2) ‖ minor (2) ‖ measured power (1). What follows
// the company id 0x004C: Android's addManufacturerData(0x004C, ·) and BlueZ's LEAdvertisement1
// ManufacturerData take exactly these bytes, and BlueZ reports them as ManufacturerData[0x004C].
inline constexpr std::size_t kIBeaconManufacturerDataBytes = 23;
[[nodiscard]] std::array<std::uint8_t, kIBeaconManufacturerDataBytes> iBeaconManufacturerData(
    const support::Uuid& id, const IBeaconParams& params = {}) noexcept;

// 20 bytes: 00 (UID frame) ‖ Tx power at 0 m (1) ‖ namespace (10) ‖ instance (6) ‖ 00 00 (RFU).
// Android's addServiceData(FEAA, ·) and BlueZ's ServiceData["FEAA"] take exactly these bytes.
inline constexpr std::size_t kEddystoneUidServiceDataBytes = 20;
[[nodiscard]] std::array<std::uint8_t, kEddystoneUidServiceDataBytes> eddystoneUidServiceData(
    const support::Uuid& id, std::int8_t txPowerAt0m = kDefaultEddystoneTxPower) noexcept;

// Whole legacy advertising data, AD structures as on air (length, type, data), flags included:
//   02 01 06 ‖ 1A FF 4C 00 <iBeaconManufacturerData>                    = 30 bytes
inline constexpr std::size_t kIBeaconAdvertisingBytes = 30;
[[nodiscard]] std::array<std::uint8_t, kIBeaconAdvertisingBytes> iBeaconAdvertisingData(
    const support::Uuid& id, const IBeaconParams& params = {}) noexcept;
//   02 01 06 ‖ 03 03 AA FE ‖ 17 16 AA FE <eddystoneUidServiceData>       = 31 bytes
inline constexpr std::size_t kEddystoneUidAdvertisingBytes = 31;
[[nodiscard]] std::array<std::uint8_t, kEddystoneUidAdvertisingBytes> eddystoneUidAdvertisingData(
    const support::Uuid& id, std::int8_t txPowerAt0m = kDefaultEddystoneTxPower) noexcept;

static_assert(kIBeaconAdvertisingBytes <= kLegacyAdvertisingBytes);
static_assert(kEddystoneUidAdvertisingBytes <= kLegacyAdvertisingBytes);

}  // namespace attendance::beacon_id
