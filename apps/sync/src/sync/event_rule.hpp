#pragma once

#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/jsonl_log/failure.hpp>
#include <attendance/jsonl_log/reader.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Which event a log line is sent under (docs/sync.md, "Logs without eventId").
// A line of our scanner names its event; a line of the original design's scanner
// (three keys) names none, and `--event ID` supplies it. A line whose own eventId
// differs from --event is never re-labelled: either the command names the wrong
// event or the log mixes events, and no guess resolves that.
namespace attendance::sync {

// The event to send `record` under, or nothing when the line has no event and no
// --event was given, or its own eventId differs from --event. Pure.
[[nodiscard]] std::optional<std::string_view> eventFor(const jsonl_log::CheckIn& record,
                                                       const std::optional<std::string>& eventOption) noexcept;

// The first line eventFor() refuses, and how many it refuses in all.
struct EventConflict {
  std::uint64_t lineNumber = 0;
  std::optional<std::string> lineEvent;  // the line's own eventId; none for a three-key line
  std::uint64_t lines = 0;
};

// What the operator reads: the line number, both ids, and what to do.
[[nodiscard]] std::string describeConflict(const EventConflict& conflict,
                                           const std::optional<std::string>& eventOption);

struct EventScan {
  std::optional<EventConflict> conflict;
  std::uint64_t supplied = 0;  // records without eventId that --event gives an event
};

// Reads the log from `from` to its end, or to the last line ending at or before `end` (constant memory, through the
// caller's fd) and applies eventFor() to every record, so that a run refuses before it sends anything: a refused line
// is a mistake in the command, and passing it in the checkpoint like a bad line would hide it from the corrected rerun.
// Bad and unterminated lines are left to the sending pass.
[[nodiscard]] jsonl_log::Outcome<EventScan> scanEvents(int fd, jsonl_log::ReaderOptions from,
                                                       const std::optional<std::string>& eventOption,
                                                       std::uint64_t end = UINT64_MAX);

}  // namespace attendance::sync
