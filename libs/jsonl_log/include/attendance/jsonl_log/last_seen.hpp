#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

namespace attendance::jsonl_log {

// A last-seen line of attendance_log.jsonl (docs/log-format.md, ADR 0026): when a present
// participant was last heard, so a report can show dwell time and who left. Not a check-in:
// its first key is "lastSeen" and it has no checkInTime, so parseLine rejects it and the
// Reader skips it unless asked for it (ReaderOptions::lastSeenLines).
struct LastSeen {
  std::int64_t lastSeen = 0;  // Unix epoch ms, wall clock at the run's last sighting
  support::Uuid bleUuid;
  std::string scannerId;
  std::optional<std::string> eventId;
  std::int64_t firstSeen = 0;  // Unix epoch ms, first sighting of the run (its check-in time)
  std::int64_t sightings = 0;  // sightings in the run so far
  bool left = false;           // true: unseen long enough to count as gone; false: still there

  friend bool operator==(const LastSeen&, const LastSeen&) = default;
};

// Appends exactly one line, '\n' included, keys in the documented order, no spaces:
// {"lastSeen":…,"bleUuid":"…","scannerId":"…","eventId":"…","firstSeen":…,"sightings":…,"left":…}
void appendLastSeenLine(std::string& out, const LastSeen& record);
[[nodiscard]] std::string formatLastSeenLine(const LastSeen& record);

// True when the line (without its '\n') is a JSON object whose first key is "lastSeen"
// (whitespace allowed where JSON allows it). Says nothing about the rest of the line.
[[nodiscard]] bool isLastSeenLine(std::string_view line) noexcept;

// Strict parse, same rules as parseLine: keys in any order, unknown keys ignored; lastSeen,
// firstSeen, sightings integers >= 0, left a boolean, bleUuid, scannerId as for check-ins,
// eventId optional. All but eventId are required.
[[nodiscard]] error_code parseLastSeenLineInto(std::string_view line, LastSeen& out);
[[nodiscard]] Result<LastSeen> parseLastSeenLine(std::string_view line);

}  // namespace attendance::jsonl_log
