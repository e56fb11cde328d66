#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <attendance/attendance_core/database.hpp>
#include <attendance/support/result.hpp>

// Queries the admin pages need beyond attendance_core's API (lists with counts,
// search and paging, edits and deletes). Parameterized SQL against core's schema.
namespace attendance::admin_web::data {

using TimePoint = std::chrono::system_clock::time_point;

struct EventSummary {
  std::string id;
  std::string name;
  std::string venue;
  std::optional<TimePoint> startsAt;
  std::optional<TimePoint> endsAt;
  std::int64_t registered = 0;
  std::int64_t attended = 0;  // registered users with at least one check-in
  bool synced = false;
};
[[nodiscard]] Result<std::vector<EventSummary>> listEventSummaries(core::ConnectionPool& pool);

struct EventEdit {
  std::string name;
  std::string venue;
  std::optional<TimePoint> startsAt;
  std::optional<TimePoint> endsAt;
};
// Errc::event_not_found, Errc::invalid_argument.
[[nodiscard]] Result<void> updateEvent(core::ConnectionPool& pool, std::string_view id, const EventEdit& edit);

// Refused with Errc::conflict once check-ins exist, unless `force`. Errc::event_not_found.
[[nodiscard]] Result<void> deleteEvent(core::ConnectionPool& pool, std::string_view id, bool force);
// 1 when any check-in is stored for the event, else 0 (cheaper than counting 200,000 rows;
// an int because result<bool> cannot be built from an error_code unambiguously).
[[nodiscard]] Result<int> hasCheckIns(core::ConnectionPool& pool, std::string_view eventId);

struct Person {
  std::string id;
  std::string email;
  std::string displayName;
  std::string bleUuid;
  bool disabled = false;
  std::optional<TimePoint> registeredAt;  // registrations only
};
struct Page {
  std::vector<Person> rows;
  std::int64_t total = 0;  // matching rows
};
// Case-insensitive substring search over name and email; ordered by name.
[[nodiscard]] Result<Page> listParticipants(core::ConnectionPool& pool, std::string_view search, std::int64_t offset,
                                            std::int64_t limit);
[[nodiscard]] Result<Page> listRegistrations(core::ConnectionPool& pool, std::string_view eventId,
                                             std::string_view search, std::int64_t offset, std::int64_t limit);
// Errc::user_not_found.
[[nodiscard]] Result<std::string> userIdByEmail(core::ConnectionPool& pool, std::string_view email);
[[nodiscard]] Result<void> setUserDisabled(core::ConnectionPool& pool, std::string_view userId, bool disabled);

}  // namespace attendance::admin_web::data
