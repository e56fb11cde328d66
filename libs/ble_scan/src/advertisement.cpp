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

constexpr std::array<std::string_view, 9> kIgnoredNames{
    "none",         "no-known-format", "altbeacon",          "apple-other", "eddystone-not-uid", "format-disabled",
    "wrong-length", "nil-id",          "apple-overflow-area"};

// An all-zero id is what a misconfigured app broadcasts; never a participant.
bool isNil(const support::Uuid& u) noexcept {
  return std::all_of(u.bytes.begin(), u.bytes.end(), [](std::uint8_t b) { return b == 0; });
}

// The last checks every format shares: switched on, and not the nil id.
FieldResult accept(const support::Uuid& id, Format f, const ParserOptions& options,
                   std::optional<IBeaconFields> ibeacon = std::nullopt) noexcept {
  if (!options.formats.contains(f)) return IgnoredReason::format_disabled;
  if (isNil(id)) return IgnoredReason::nil_id;
  return Candidate{id, f, ibeacon};
}

support::Uuid uuidOf(std::span<const std::uint8_t> sixteen) noexcept {
  return support::Uuid::fromBytes(sixteen.first<16>());
}

bool alreadyIn(const std::vector<Candidate>& out, std::size_t firstOfThis, const support::Uuid& id) noexcept {
  return std::any_of(out.begin() + static_cast<std::ptrdiff_t>(firstOfThis), out.end(),
                     [&id](const Candidate& c) { return c.bleUuid == id; });
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

std::string_view ignoredReasonName(IgnoredReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < kIgnoredNames.size() ? kIgnoredNames[i] : std::string_view{"unknown"};
}

FieldResult parseManufacturerData(std::uint16_t companyId, std::span<const std::uint8_t> data,
                                  const ParserOptions& options) noexcept {
  if (companyId != kAppleCompanyId) {
    // AltBeacon is recognised under any company id: its emitters use their own.
    if (data.size() >= 2 && data[0] == 0xBE && data[1] == 0xAC) return IgnoredReason::altbeacon;
    return IgnoredReason::no_known_format;
  }
  if (data.size() >= 2 && data[0] == 0x02 && data[1] == 0x15) {
    // iBeacon: 02 15, then UUID(16) major(2) minor(2) power(1) = 23 bytes exactly; big-endian fields.
    if (data.size() != 23) return IgnoredReason::wrong_length;
    const IBeaconFields fields{static_cast<std::uint16_t>((data[18] << 8) | data[19]),
                               static_cast<std::uint16_t>((data[20] << 8) | data[21]),
                               static_cast<std::int8_t>(data[22])};
    return accept(uuidOf(data.subspan(2, 16)), Format::ibeacon, options, fields);
  }
  if (data.size() == 17 && data[0] == 0x01) return IgnoredReason::apple_overflow_area;
  return IgnoredReason::apple_other;
}

FieldResult parseServiceData(const support::Uuid& service, std::span<const std::uint8_t> data,
                             const ParserOptions& options) noexcept {
  if (service == kEddystoneServiceUuid) {
    // Eddystone-UID: 00 <tx> <namespace 10> <instance 6> [<reserved 2>].
    if (!data.empty() && data[0] != 0x00) return IgnoredReason::eddystone_not_uid;
    if (data.size() != 18 && data.size() != 20) return IgnoredReason::wrong_length;
    return accept(uuidOf(data.subspan(2, 16)), Format::eddystone_uid, options);
  }
  if (service == options.attendanceServiceUuid) {
    if (data.size() != 16) return IgnoredReason::wrong_length;
    return accept(uuidOf(data), Format::service_data, options);
  }
  return IgnoredReason::no_known_format;
}

FieldResult parseServiceUuid(const support::Uuid& uuid, const ParserOptions& options) noexcept {
  if (uuid.isBluetoothSigBased() || uuid == options.attendanceServiceUuid) {
    // The attendance service UUID itself is a key, not an id.
    return IgnoredReason::no_known_format;
  }
  return accept(uuid, Format::service_uuid, options);
}

Appended parseAdvertisement(const Advertisement& adv, const ParserOptions& options, std::vector<Candidate>& out) {
  const std::size_t first = out.size();
  IgnoredReason why = IgnoredReason::no_known_format;
  auto full = [&] { return out.size() - first >= kMaxCandidatesPerAdvertisement; };
  auto take = [&](const FieldResult& r) {
    if (!r) {
      why = std::max(why, r.ignored());
    } else if (!alreadyIn(out, first, r->bleUuid)) {
      out.push_back(*r);
    }
  };
  for (const auto& m : adv.manufacturerData) {
    if (full()) break;
    take(m.data.size() <= kMaxFieldBytes ? parseManufacturerData(m.companyId, m.data, options)
                                         : FieldResult{IgnoredReason::wrong_length});
  }
  for (const auto& s : adv.serviceData) {
    if (full()) break;
    take(s.data.size() <= kMaxFieldBytes ? parseServiceData(s.service, s.data, options)
                                         : FieldResult{IgnoredReason::wrong_length});
  }
  for (const auto& u : adv.serviceUuids) {
    if (full()) break;
    take(parseServiceUuid(u, options));
  }
  const std::size_t count = out.size() - first;
  return Appended{count, count > 0 ? IgnoredReason::none : why};
}

}  // namespace attendance::ble_scan
