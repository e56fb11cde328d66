#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

namespace attendance::jsonl_log {

// One line of attendance_log.jsonl (docs/log-format.md).
struct CheckIn {
  support::Uuid bleUuid;
  std::int64_t checkInTime = 0;  // Unix epoch milliseconds (wall clock at the sighting)
  std::string scannerId;
  // Absent in lines of the original design's scanner (three keys, no event): the
  // reader of the log (attendance-sync --event, our scanner) decides their event.
  std::optional<std::string> eventId;
  std::optional<int> rssi;
  std::optional<std::string> bootId;   // /proc/sys/kernel/random/boot_id at the sighting
  std::optional<std::int64_t> bootMs;  // CLOCK_BOOTTIME in ms at the sighting

  friend bool operator==(const CheckIn&, const CheckIn&) = default;
};

// Limits: a line longer than this is rejected by the parser and the reader.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;
// scannerId, eventId and bootId are at most this many bytes (after unescaping).
inline constexpr std::size_t kMaxIdBytes = 256;

// Appends exactly one line, '\n' included, keys in the documented order and no
// spaces; absent optional keys (eventId included) are left out. Reuses `out`'s capacity: no allocation once it is large
// enough.
void appendLine(std::string& out, const CheckIn& record);
[[nodiscard]] std::string formatLine(const CheckIn& record);

enum class ParseErrc {
  empty_line = 1,
  line_too_long,
  syntax_error,
  not_an_object,
  nesting_too_deep,
  duplicate_key,
  trailing_data,
  invalid_utf8,
  missing_ble_uuid,
  bad_ble_uuid,
  missing_check_in_time,
  bad_check_in_time,
  missing_scanner_id,
  bad_scanner_id,
  bad_event_id,
  bad_rssi,
  bad_boot_id,
  bad_boot_ms,
  unterminated_line,  // used by the reader for a last line without '\n'
  // Last-seen lines (last_seen.hpp):
  missing_last_seen,
  bad_last_seen,
  bad_first_seen,
  bad_sightings,
  bad_left,
};

[[nodiscard]] const boost::system::error_category& parseCategory() noexcept;
[[nodiscard]] inline error_code make_error_code(ParseErrc e) noexcept { return {static_cast<int>(e), parseCategory()}; }

// Strict parse of one line (without its '\n'): keys in any order, unknown extra keys
// ignored (any JSON value), known keys must have the right type:
//   bleUuid      string, 8-4-4-4-12 hex (either case; stored as bytes)
//   checkInTime  integer >= 0 (no fraction, no exponent)
//   scannerId    non-empty string, <= kMaxIdBytes
//   eventId      optional non-empty string, <= kMaxIdBytes (the original design's
//                lines have none)
//   rssi         optional integer in [-128, 127]
//   bootId       optional non-empty string, <= kMaxIdBytes
//   bootMs       optional integer >= 0
// `null` is not accepted for optional keys: leave the key out instead.
[[nodiscard]] Result<CheckIn> parseLine(std::string_view line);

// Same, filling `out` in place (reuses its string capacity; for readers of
// millions of lines). On error `out` is unspecified.
[[nodiscard]] error_code parseLineInto(std::string_view line, CheckIn& out);

}  // namespace attendance::jsonl_log

template <>
struct boost::system::is_error_code_enum<attendance::jsonl_log::ParseErrc> : std::true_type {};
