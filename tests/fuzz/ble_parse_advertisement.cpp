#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <attendance/ble_scan/advertisement.hpp>

// Input layout (so a fuzzer can reach every branch):
//   byte 0: enabled formats (low 4 bits)
//   then records: kind(1) len(1) payload(len)
//     kind%3 == 0: manufacturer data, payload = company id (2, LE) + data
//     kind%3 == 1: service data,      payload = service uuid (16) + data
//     kind%3 == 2: service uuid,      payload = uuid (16)
// Properties: never crashes; never more than kMaxCandidatesPerAdvertisement
// candidates; every candidate's format is enabled; no id twice; no SIG-based
// service UUID reported as a participant.
using namespace attendance::ble_scan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ParserOptions options;
  options.formats = FormatSet::none();
  for (unsigned f = 0; f < kFormatCount; ++f) {
    if ((data[0] >> f) & 1U) options.formats.insert(static_cast<Format>(f));
  }
  Advertisement adv;
  std::size_t i = 1;
  while (i + 2 <= size) {
    const std::uint8_t kind = data[i];
    const std::size_t len = data[i + 1];
    i += 2;
    if (i + len > size) break;
    const std::span<const std::uint8_t> p{data + i, len};
    i += len;
    switch (kind % 3) {
      case 0:
        if (p.size() >= 2) {
          adv.manufacturerData.push_back({static_cast<std::uint16_t>(p[0] | (p[1] << 8)), {p.begin() + 2, p.end()}});
        }
        break;
      case 1:
        if (p.size() >= 16) {
          adv.serviceData.push_back({attendance::support::Uuid::fromBytes(p.first<16>()), {p.begin() + 16, p.end()}});
        }
        break;
      default:
        if (p.size() >= 16) {
          adv.serviceUuids.push_back(attendance::support::Uuid::fromBytes(p.first<16>()));
        }
        break;
    }
  }
  std::vector<Candidate> out;
  const auto appended = parseAdvertisement(adv, options, out);
  const std::size_t n = appended.count;
  if (n != out.size() || n > kMaxCandidatesPerAdvertisement) __builtin_trap();
  // A reason exactly when there is no id, and never "none" for nothing.
  if ((n == 0) != (appended.ignored != IgnoredReason::none)) __builtin_trap();
  for (std::size_t a = 0; a < out.size(); ++a) {
    if (!options.formats.contains(out[a].format)) __builtin_trap();
    if (out[a].format == Format::service_uuid && out[a].bleUuid.isBluetoothSigBased()) __builtin_trap();
    for (std::size_t b = a + 1; b < out.size(); ++b) {
      if (out[a].bleUuid == out[b].bleUuid) __builtin_trap();
    }
  }
  for (const auto& c : out) {
    if (c.ibeacon.has_value() != (c.format == Format::ibeacon)) __builtin_trap();
  }
  return 0;
}
