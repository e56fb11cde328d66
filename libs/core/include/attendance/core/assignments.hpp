#pragma once

#include <attendance/core/database.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

// Which scanners may write check-ins into, and read the roster of, which events
// (migration 0006, docs/adr/0046-scanners-are-assigned-to-events.md).
namespace attendance::core {

struct ScannerAssignment {
  std::string scannerId;
  std::string eventId;
  std::chrono::system_clock::time_point assignedAt;
};

// true = assigned now, false = it already was (the first assignedAt stays).
// Errc::scanner_not_found, Errc::event_not_found.
[[nodiscard]] Result<bool> assignScanner(ConnectionPool& pool, std::string_view scannerId, std::string_view eventId,
                                         std::chrono::system_clock::time_point now);

// true = an assignment was removed, false = there was none. Takes effect for the
// next batch: a batch in flight holds the assignment row until it commits.
// Errc::scanner_not_found, Errc::event_not_found.
[[nodiscard]] Result<bool> unassignScanner(ConnectionPool& pool, std::string_view scannerId, std::string_view eventId);

// One indexed lookup. An unknown scanner or event is simply not assigned.
[[nodiscard]] Result<bool> isAssigned(ConnectionPool& pool, std::string_view scannerId, std::string_view eventId);

// The scanner's events, by event id. Errc::scanner_not_found.
[[nodiscard]] Result<std::vector<ScannerAssignment>> listScannerEvents(ConnectionPool& pool,
                                                                       std::string_view scannerId);
// The event's scanners, by scanner id. Errc::event_not_found.
[[nodiscard]] Result<std::vector<ScannerAssignment>> listEventScanners(ConnectionPool& pool, std::string_view eventId);
// Every assignment, by scanner id then event id (for the scanner lists).
[[nodiscard]] Result<std::vector<ScannerAssignment>> listAssignments(ConnectionPool& pool);

// What a scanner is told when it is refused (403 on /batchCheckIn and the roster):
// "scanner S is not assigned to event E; assign it with: attendance-admin scanner assign --id S --event E"
[[nodiscard]] std::string notAssignedMessage(std::string_view scannerId, std::string_view eventId);

}  // namespace attendance::core
