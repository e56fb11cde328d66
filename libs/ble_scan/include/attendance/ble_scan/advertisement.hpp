#pragma once

#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The pure half of ble_scan: from the advertisement data BlueZ reports for one
// device (Device1 ManufacturerData / ServiceData / UUIDs / RSSI) to the
// candidate participant ids (bleUuids) it carries. No D-Bus, no clock, no I/O.
namespace attendance::ble_scan {

// How a bleUuid was carried. Values are stable (they appear in logs/metrics).
enum class Format : std::uint8_t {
  ibeacon = 0,        // ManufacturerData[0x004C] = 02 15 <uuid16> <major2> <minor2> <txpower1>
  eddystone_uid = 1,  // ServiceData[FEAA] = 00 <tx> <namespace10> <instance6> [<rfu2>]
  service_uuid = 2,   // a 128-bit entry of UUIDs not on the Bluetooth SIG base
  service_data = 3,   // ServiceData[attendance service UUID] = exactly 16 bytes
};
inline constexpr std::size_t kFormatCount = 4;

// "ibeacon", "eddystone", "service-uuid", "service-data" (the --formats spelling).
[[nodiscard]] std::string_view formatName(Format f) noexcept;

// A set of enabled formats.
class FormatSet {
public:
  constexpr FormatSet() = default;
  [[nodiscard]] static constexpr FormatSet all() noexcept { return FormatSet{0x0F}; }
  [[nodiscard]] static constexpr FormatSet none() noexcept { return FormatSet{0}; }
  // Parses a comma-separated list such as "ibeacon,eddystone,service-uuid,service-data".
  // Names are case-sensitive, blanks around names are ignored, duplicates are allowed;
  // an empty list or an unknown name is errc::invalid_argument with a message naming
  // the offending name and the known ones.
  [[nodiscard]] static Outcome<FormatSet> parse(std::string_view list);

  [[nodiscard]] constexpr bool contains(Format f) const noexcept {
    return ((bits_ >> static_cast<unsigned>(f)) & 1U) != 0;
  }
  constexpr FormatSet& insert(Format f) noexcept {
    bits_ = static_cast<std::uint8_t>(bits_ | (1U << static_cast<unsigned>(f)));
    return *this;
  }
  constexpr FormatSet& erase(Format f) noexcept {
    bits_ = static_cast<std::uint8_t>(bits_ & ~(1U << static_cast<unsigned>(f)));
    return *this;
  }
  [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
  // Canonical comma-separated form, in enum order.
  [[nodiscard]] std::string toString() const;

  friend constexpr bool operator==(FormatSet, FormatSet) = default;

private:
  constexpr explicit FormatSet(std::uint8_t bits) : bits_(bits) {}
  std::uint8_t bits_ = 0;
};

// Company id of Apple, Inc. (iBeacon and the iOS background "overflow area").
inline constexpr std::uint16_t kAppleCompanyId = 0x004C;
// 0000feaa-0000-1000-8000-00805f9b34fb, Google's Eddystone service.
inline constexpr support::Uuid kEddystoneServiceUuid{
    {0x00, 0x00, 0xfe, 0xaa, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb}};
// The project's default attendance service UUID for the service-data format: the 16-bit UUID
// 0xFFF9 on the SIG base, 0000fff9-0000-1000-8000-00805f9b34fb, so that flags (3) + the Service Data
// 16-bit AD (2 + 2 + 16) fit a 31-byte legacy advertisement; a 128-bit key cannot (ADR 0028).
// A placeholder until the project holds a SIG-assigned member UUID; configurable.
inline constexpr support::Uuid kDefaultAttendanceServiceUuid{
    {0x00, 0x00, 0xff, 0xf9, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb}};

// Hard limits on what one advertisement may contribute (legacy advertising is
// 31 bytes; extended advertising at most 1650). Anything beyond is ignored.
inline constexpr std::size_t kMaxFieldBytes = 1650;
inline constexpr std::size_t kMaxCandidatesPerAdvertisement = 16;

struct ManufacturerEntry {
  std::uint16_t companyId = 0;
  std::vector<std::uint8_t> data;  // without the company id (as BlueZ reports it)
};

struct ServiceDataEntry {
  support::Uuid service;
  std::vector<std::uint8_t> data;
};

// What BlueZ reports for one device. Owning and reusable: clear() keeps capacity.
struct Advertisement {
  std::vector<ManufacturerEntry> manufacturerData;
  std::vector<ServiceDataEntry> serviceData;
  std::vector<support::Uuid> serviceUuids;
  std::optional<std::int16_t> rssi;

  void clear() noexcept {
    manufacturerData.clear();
    serviceData.clear();
    serviceUuids.clear();
    rssi.reset();
  }
};

// iBeacon's own fields after the proximity UUID, for consumers that use them (zones of a venue, a
// fleet of fixed beacons); the scanner itself keys on the bleUuid only.
struct IBeaconFields {
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::int8_t measuredPower = 0;  // dBm at 1 m, as the frame states it
  friend bool operator==(const IBeaconFields&, const IBeaconFields&) = default;
};

struct Candidate {
  support::Uuid bleUuid;
  Format format = Format::ibeacon;
  std::optional<IBeaconFields> ibeacon;  // set exactly when format == Format::ibeacon
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// Why a field, or a whole advertisement, gave no participant id. Ordered from the least to the most
// telling: when several fields of one advertisement give none, the advertisement's reason is the
// greatest of theirs (an iPhone in the background wins over its flags). Values are stable.
enum class IgnoredReason : std::uint8_t {
  none = 0,             // not ignored: there is a candidate
  no_known_format,      // nothing in a participant format: another company's data, other service data,
                        // SIG-based service UUIDs, no field at all
  altbeacon,            // AltBeacon (BE AC…, any company id): not a participant format (ADR 0022)
  apple_other,          // Apple data that is neither iBeacon nor the overflow area (AirPods, Handoff…)
  eddystone_not_uid,    // an Eddystone URL, TLM or EID frame
  format_disabled,      // a well-formed participant format that ParserOptions::formats leaves out
  wrong_length,         // a participant format's key or prefix with a length that format never has
                        // (iBeacon 02 15 not 23 bytes, Eddystone-UID not 18/20, service data not 16,
                        // a field over kMaxFieldBytes)
  nil_id,               // the all-zero id: what a misconfigured app broadcasts
  apple_overflow_area,  // Apple's overflow area (01 + 16-byte bitmask): an iPhone with the app in the
                        // background, which carries no id (ADR 0022); the scanner counts these phones
};
// "no-known-format", "altbeacon", "apple-other", "eddystone-not-uid", "format-disabled",
// "wrong-length", "nil-id", "apple-overflow-area" ("none" for none): for logs and metrics.
[[nodiscard]] std::string_view ignoredReasonName(IgnoredReason r) noexcept;

// What one field parser found: a candidate, or the reason there is none. Reads like an optional
// (`if (r) use(r->bleUuid)`), plus ignored().
class FieldResult {
public:
  FieldResult(Candidate c) noexcept : candidate_(c) {}  // implicit: `return candidate;` / `return reason;`
  FieldResult(IgnoredReason r) noexcept : ignored_(r) {}
  [[nodiscard]] explicit operator bool() const noexcept { return candidate_.has_value(); }
  [[nodiscard]] const Candidate& operator*() const noexcept { return *candidate_; }
  [[nodiscard]] const Candidate* operator->() const noexcept { return &*candidate_; }
  // IgnoredReason::none exactly when there is a candidate.
  [[nodiscard]] IgnoredReason ignored() const noexcept { return ignored_; }

private:
  std::optional<Candidate> candidate_;
  IgnoredReason ignored_ = IgnoredReason::none;
};

struct ParserOptions {
  FormatSet formats = FormatSet::all();
  // Key of the service-data format (16-byte payload = the bleUuid).
  support::Uuid attendanceServiceUuid = kDefaultAttendanceServiceUuid;
};

// What parseAdvertisement appended, and why nothing when nothing.
struct Appended {
  std::size_t count = 0;
  // none when count > 0; else the greatest reason among the fields (no_known_format for none).
  IgnoredReason ignored = IgnoredReason::none;
};

// Appends the candidates found in `adv` to `out` (never clears it; no allocation
// when `out` has capacity). Order: manufacturer data, service data, service UUIDs,
// each in input order. A bleUuid found twice in one advertisement (e.g. both as
// iBeacon and as a service UUID) is reported once, with the first format.
// At most kMaxCandidatesPerAdvertisement are appended.
Appended parseAdvertisement(const Advertisement& adv, const ParserOptions& options, std::vector<Candidate>& out);

// The per-field parsers used by parseAdvertisement, one per place an id can be: each gives the
// candidate or the reason there is none.
[[nodiscard]] FieldResult parseManufacturerData(std::uint16_t companyId, std::span<const std::uint8_t> data,
                                                const ParserOptions& options) noexcept;
[[nodiscard]] FieldResult parseServiceData(const support::Uuid& service, std::span<const std::uint8_t> data,
                                           const ParserOptions& options) noexcept;
[[nodiscard]] FieldResult parseServiceUuid(const support::Uuid& uuid, const ParserOptions& options) noexcept;

// The raw-bytes entry point: AD structures exactly as received on air (the advertising data or scan
// response of an LE advertising report; legacy advertising carries at most 31 bytes, extended at
// most kMaxFieldBytes): each structure is length (1 byte, counting the type), type (1), data.
// A zero length ends the data (the rest is padding). Decoded into what BlueZ would report:
//   0xFF manufacturer specific  -> manufacturerData (company id little-endian on air)
//   0x16 / 0x20 / 0x21 service data with a 16- / 32- / 128-bit UUID -> serviceData
//   0x02..0x07 lists of 16- / 32- / 128-bit service UUIDs -> serviceUuids
// (16- and 32-bit UUIDs on the Bluetooth SIG base, 128-bit ones byte-reversed from the air's
// little-endian order); other types are skipped. Malformed data (a structure running past the end,
// manufacturer data shorter than its company id, service data shorter than its UUID, a UUID list
// that is not a whole number of UUIDs, more than kMaxFieldBytes) is errc::bad_message with the
// offset of the offending structure; `adv` then holds the structures before it.
[[nodiscard]] Outcome<void> decodeAdvertisingData(std::span<const std::uint8_t> bytes, Advertisement& adv);
// What one advertisement carries: its candidates, or why none.
struct ParsedAdvertisement {
  std::vector<Candidate> candidates;
  IgnoredReason ignored = IgnoredReason::none;  // as Appended::ignored
};
// decodeAdvertisingData, then parseAdvertisement: the same classification as the BlueZ path.
[[nodiscard]] Outcome<ParsedAdvertisement> parseAdvertisingData(std::span<const std::uint8_t> bytes,
                                                                const ParserOptions& options = {});

}  // namespace attendance::ble_scan
