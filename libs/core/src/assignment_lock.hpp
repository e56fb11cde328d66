#pragma once

// Private: the assignment check as ingest runs it, inside its own transaction.
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>

namespace attendance::core::detail {

// The event's dates in epoch ms (absent = undated on that side).
struct EventWindow {
  std::optional<std::int64_t> startsMs;
  std::optional<std::int64_t> endsMs;
  bool privateIds = false;         // migration 0008: resolve rotating ids at ingest
  std::int64_t reportVersion = 0;  // moves with the event row and its registrations (migration 0003)
};

// One primary-key lookup of (scannerId, eventId) joined to the event, taking
// FOR KEY SHARE on both rows: the event cannot be deleted and the assignment
// cannot be removed until the caller's transaction ends, so an unassign either
// commits before this check (and the batch is refused) or waits for the batch.
// nullopt = not assigned, or no such event (the same answer on purpose).
std::optional<EventWindow> lockAssignedEvent(pqxx::transaction_base& tx, const std::string& scannerId,
                                             const std::string& eventId);

}  // namespace attendance::core::detail
