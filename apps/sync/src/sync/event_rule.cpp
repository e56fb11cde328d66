#include "sync/event_rule.hpp"

namespace attendance::sync {

namespace jl = attendance::jsonl_log;

std::optional<std::string_view> eventFor(const jl::CheckIn& record,
                                         const std::optional<std::string>& eventOption) noexcept {
  if (!record.eventId) {
    if (!eventOption) return std::nullopt;
    return std::string_view(*eventOption);
  }
  if (eventOption && *eventOption != *record.eventId) return std::nullopt;
  return std::string_view(*record.eventId);
}

std::string describeConflict(const EventConflict& conflict, const std::optional<std::string>& eventOption) {
  const std::string line = "line " + std::to_string(conflict.lineNumber);
  const std::string more =
      conflict.lines > 1 ? " (" + std::to_string(conflict.lines) + " such lines in all)" : std::string();
  if (!conflict.lineEvent) {
    return line + " has no eventId (the original design's three-key format)" + more +
           ", so the sync cannot tell which event it belongs to.\n  Pass --event ID to name the event of lines "
           "without eventId.";
  }
  return line + " has eventId \"" + *conflict.lineEvent + "\" but --event is \"" + eventOption.value_or("") + "\"" +
         more +
         ".\n  A line is never sent to another event than its own: check --event (leave it out if every line "
         "names its event).";
}

jl::Outcome<EventScan> scanEvents(int fd, jl::ReaderOptions from, const std::optional<std::string>& eventOption,
                                  std::uint64_t end) {
  EventScan scan;
  jl::Reader reader = jl::Reader::fromFd(fd, from);
  jl::LogLine line;
  while (true) {
    auto more = reader.next(line);
    if (!more) return more.error();
    if (!*more || line.endOffset > end) break;
    if (line.kind != jl::LogLine::Kind::record || !line.terminated) continue;
    if (eventFor(line.record, eventOption)) {
      if (!line.record.eventId) ++scan.supplied;
      continue;
    }
    if (!scan.conflict) scan.conflict = EventConflict{line.lineNumber, line.record.eventId, 0};
    ++scan.conflict->lines;
  }
  return scan;
}

}  // namespace attendance::sync
