// attendance::ble_scan: which participant ids an advertisement carries (the pure parser the scanner
// runs on what BlueZ reports), from bytes as received on air. The BlueZ scanner and advertiser of this
// library need a system D-Bus and are not run here (docs/ble.md).
#include <cstdint>
#include <cstdio>
#include <vector>

#include <attendance/ble_scan/advertisement.hpp>

int main() {
  namespace ble = attendance::ble_scan;
  // Flags, then Apple manufacturer data with an iBeacon frame: proximity UUID, major 1, minor 2, -59 dBm.
  const std::vector<std::uint8_t> air{0x02, 0x01, 0x06, 0x1A, 0xFF, 0x4C, 0x00, 0x02, 0x15, 0x0f,
                                      0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f, 0xa1, 0x65, 0x70,
                                      0x86, 0x77, 0x28, 0x95, 0x0e, 0x00, 0x01, 0x00, 0x02, 0xC5};
  ble::Advertisement adv;
  if (auto decoded = ble::decodeAdvertisingData(air, adv); !decoded) {
    std::fprintf(stderr, "%s\n", decoded.error().message.c_str());
    return 1;
  }
  std::vector<ble::Candidate> ids;
  const ble::Appended found = ble::parseAdvertisement(adv, ble::ParserOptions{}, ids);
  for (const auto& c : ids) {
    std::printf("%s via %s", c.bleUuid.toString().c_str(), std::string(ble::formatName(c.format)).c_str());
    if (c.ibeacon) std::printf(" (major %u, minor %u)", c.ibeacon->major, c.ibeacon->minor);
    std::printf("\n");
  }
  // An advertisement with nothing in a participant format says why (here: another company's data).
  ble::Advertisement other;
  other.manufacturerData.push_back({0x0075, {0x01, 0x02, 0x03}});
  std::vector<ble::Candidate> none;
  const auto ignored = ble::parseAdvertisement(other, ble::ParserOptions{}, none);
  std::printf("ignored: %s\n", std::string(ble::ignoredReasonName(ignored.ignored)).c_str());
  return found.count == 1 && none.empty() ? 0 : 2;
}
