#include <attendance/ble_scan/advertisement.hpp>

#include <algorithm>
#include <array>
#include <boost/system/errc.hpp>

namespace attendance::ble_scan {

namespace {

constexpr std::array<std::string_view, kFormatCount> kFormatNames{"ibeacon", "eddystone", "service-uuid",
                                                                  "service-data"};

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

Candidate make(std::span<const std::uint8_t> sixteen, Format f) noexcept {
  return Candidate{support::Uuid::fromBytes(sixteen.first<16>()), f};
}

// An all-zero id is what a misconfigured app broadcasts; never a participant.
bool isNil(const support::Uuid& u) noexcept {
  return std::all_of(u.bytes.begin(), u.bytes.end(), [](std::uint8_t b) { return b == 0; });
}

bool append(std::vector<Candidate>& out, std::size_t firstOfThis, std::optional<Candidate> c) {
  if (!c || isNil(c->bleUuid)) {
    return false;
  }
  for (std::size_t i = firstOfThis; i < out.size(); ++i) {
    if (out[i].bleUuid == c->bleUuid) {
      return false;
    }
  }
  out.push_back(*c);
  return true;
}

}  // namespace

std::string_view formatName(Format f) noexcept {
  const auto i = static_cast<std::size_t>(f);
  return i < kFormatNames.size() ? kFormatNames[i] : std::string_view{"unknown"};
}

Outcome<FormatSet> FormatSet::parse(std::string_view list) {
  const auto invalid = [](std::string what) {
    return Failure{boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                   what + " (known: " + all().toString() + ")"};
  };
  FormatSet set;
  while (true) {  // at least one name, so "" is "an empty format name"
    const auto comma = list.find(',');
    const auto name = trim(list.substr(0, comma));
    const auto it = std::find(kFormatNames.begin(), kFormatNames.end(), name);
    if (it == kFormatNames.end()) {
      return invalid(name.empty() ? std::string{"an empty format name"} : "unknown format '" + std::string{name} + "'");
    }
    set.insert(static_cast<Format>(it - kFormatNames.begin()));
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return set;
}

std::string FormatSet::toString() const {
  std::string s;
  for (std::size_t i = 0; i < kFormatCount; ++i) {
    if (contains(static_cast<Format>(i))) {
      if (!s.empty()) {
        s += ',';
      }
      s += kFormatNames[i];
    }
  }
  return s;
}

std::optional<Candidate> parseManufacturerData(std::uint16_t companyId, std::span<const std::uint8_t> data,
                                               const ParserOptions& options) noexcept {
  // iBeacon: 02 15, then UUID(16) major(2) minor(2) power(1) = 23 bytes exactly.
  if (companyId != kAppleCompanyId || !options.formats.contains(Format::ibeacon)) {
    return std::nullopt;
  }
  if (data.size() != 23 || data[0] != 0x02 || data[1] != 0x15) {
    return std::nullopt;
  }
  return make(data.subspan(2, 16), Format::ibeacon);
}

std::optional<Candidate> parseServiceData(const support::Uuid& service, std::span<const std::uint8_t> data,
                                          const ParserOptions& options) noexcept {
  if (service == kEddystoneServiceUuid) {
    // Eddystone-UID: 00 <tx> <namespace 10> <instance 6> [<reserved 2>].
    if (!options.formats.contains(Format::eddystone_uid)) {
      return std::nullopt;
    }
    if ((data.size() != 18 && data.size() != 20) || data[0] != 0x00) {
      return std::nullopt;
    }
    return make(data.subspan(2, 16), Format::eddystone_uid);
  }
  if (service == options.attendanceServiceUuid && options.formats.contains(Format::service_data)) {
    if (data.size() != 16) {
      return std::nullopt;
    }
    return make(data, Format::service_data);
  }
  return std::nullopt;
}

std::optional<Candidate> parseServiceUuid(const support::Uuid& uuid, const ParserOptions& options) noexcept {
  if (!options.formats.contains(Format::service_uuid) || uuid.isBluetoothSigBased() ||
      uuid == options.attendanceServiceUuid) {
    // The attendance service UUID itself is a key, not an id.
    return std::nullopt;
  }
  return Candidate{uuid, Format::service_uuid};
}

std::size_t parseAdvertisement(const Advertisement& adv, const ParserOptions& options, std::vector<Candidate>& out) {
  const std::size_t first = out.size();
  auto full = [&] { return out.size() - first >= kMaxCandidatesPerAdvertisement; };
  for (const auto& m : adv.manufacturerData) {
    if (full()) {
      break;
    }
    if (m.data.size() <= kMaxFieldBytes) {
      append(out, first, parseManufacturerData(m.companyId, m.data, options));
    }
  }
  for (const auto& s : adv.serviceData) {
    if (full()) {
      break;
    }
    if (s.data.size() <= kMaxFieldBytes) {
      append(out, first, parseServiceData(s.service, s.data, options));
    }
  }
  for (const auto& u : adv.serviceUuids) {
    if (full()) {
      break;
    }
    append(out, first, parseServiceUuid(u, options));
  }
  return out.size() - first;
}

NoiseKind classifyManufacturerData(std::uint16_t companyId, std::span<const std::uint8_t> data) noexcept {
  if (companyId == kAppleCompanyId) {
    if (data.size() == 23 && data[0] == 0x02 && data[1] == 0x15) {
      return NoiseKind::none;
    }
    if (data.size() == 17 && data[0] == 0x01) {
      return NoiseKind::apple_overflow_area;
    }
    return NoiseKind::apple_other;
  }
  if (data.size() >= 2 && data[0] == 0xBE && data[1] == 0xAC) {
    return NoiseKind::altbeacon;
  }
  return NoiseKind::other;
}

}  // namespace attendance::ble_scan
