// The raw-bytes entry point (decodeAdvertisingData / parseAdvertisingData, advertisement.hpp).
#include <attendance/ble_scan/advertisement.hpp>

#include <algorithm>
#include <array>
#include <boost/system/errc.hpp>
#include <string>

namespace attendance::ble_scan {
namespace {

// AD types (Bluetooth Assigned Numbers, "Common Data Types").
constexpr std::uint8_t kIncomplete16 = 0x02, kComplete16 = 0x03, kIncomplete32 = 0x04, kComplete32 = 0x05,
                       kIncomplete128 = 0x06, kComplete128 = 0x07, kServiceData16 = 0x16, kServiceData32 = 0x20,
                       kServiceData128 = 0x21, kManufacturer = 0xFF;

Failure malformed(std::size_t offset, const std::string& what) {
  return Failure{boost::system::errc::make_error_code(boost::system::errc::bad_message),
                 "AD structure at offset " + std::to_string(offset) + ": " + what};
}

// A 16- or 32-bit UUID (little-endian on air) on the SIG base 0000xxxx-0000-1000-8000-00805f9b34fb,
// or a 128-bit one (little-endian on air, so reversed).
support::Uuid uuidFromAir(std::span<const std::uint8_t> le) noexcept {
  if (le.size() == 16) {
    std::array<std::uint8_t, 16> b{};
    std::reverse_copy(le.begin(), le.end(), b.begin());
    return support::Uuid::fromBytes(b);
  }
  support::Uuid u = kEddystoneServiceUuid;  // the SIG base with some short value in bytes 0..3
  u.bytes[0] = le.size() == 4 ? le[3] : 0;
  u.bytes[1] = le.size() == 4 ? le[2] : 0;
  u.bytes[2] = le[1];
  u.bytes[3] = le[0];
  return u;
}

std::size_t uuidSize(std::uint8_t type) noexcept {
  switch (type) {
    case kIncomplete16:
    case kComplete16:
    case kServiceData16: return 2;
    case kIncomplete32:
    case kComplete32:
    case kServiceData32: return 4;
    default: return 16;
  }
}

}  // namespace

Outcome<void> decodeAdvertisingData(std::span<const std::uint8_t> bytes, Advertisement& adv) {
  adv.clear();
  if (bytes.size() > kMaxFieldBytes) {
    return malformed(0, std::to_string(bytes.size()) + " bytes, more than an advertisement can carry");
  }
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::size_t length = bytes[at];
    if (length == 0) break;  // the rest is padding
    if (at + 1 + length > bytes.size()) {
      return malformed(at, "length " + std::to_string(length) + " runs past the end (" +
                               std::to_string(bytes.size() - at - 1) + " bytes left)");
    }
    const std::uint8_t type = bytes[at + 1];
    const auto data = bytes.subspan(at + 2, length - 1);
    switch (type) {
      case kManufacturer: {
        if (data.size() < 2) return malformed(at, "manufacturer data shorter than its company id");
        const auto company = static_cast<std::uint16_t>(data[0] | (data[1] << 8));
        adv.manufacturerData.push_back({company, {data.begin() + 2, data.end()}});
        break;
      }
      case kServiceData16:
      case kServiceData32:
      case kServiceData128: {
        const std::size_t n = uuidSize(type);
        if (data.size() < n)
          return malformed(at, "service data shorter than its " + std::to_string(n * 8) + "-bit UUID");
        adv.serviceData.push_back(
            {uuidFromAir(data.first(n)), {data.begin() + static_cast<std::ptrdiff_t>(n), data.end()}});
        break;
      }
      case kIncomplete16:
      case kComplete16:
      case kIncomplete32:
      case kComplete32:
      case kIncomplete128:
      case kComplete128: {
        const std::size_t n = uuidSize(type);
        if (data.size() % n != 0) {
          return malformed(
              at, "a list of " + std::to_string(n * 8) + "-bit UUIDs of " + std::to_string(data.size()) + " bytes");
        }
        for (std::size_t i = 0; i < data.size(); i += n) adv.serviceUuids.push_back(uuidFromAir(data.subspan(i, n)));
        break;
      }
      default: break;  // flags, names, TX power…: nothing a participant id lives in
    }
    at += 1 + length;
  }
  return {};
}

Outcome<ParsedAdvertisement> parseAdvertisingData(std::span<const std::uint8_t> bytes, const ParserOptions& options) {
  Advertisement adv;
  if (auto decoded = decodeAdvertisingData(bytes, adv); !decoded) return decoded.error();
  ParsedAdvertisement parsed;
  parsed.ignored = parseAdvertisement(adv, options, parsed.candidates).ignored;
  return parsed;
}

}  // namespace attendance::ble_scan
