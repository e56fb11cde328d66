#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <attendance/attendance_core/database.hpp>
#include <attendance/attendance_core/events.hpp>
#include <attendance/attendance_core/users.hpp>
#include <attendance/support/result.hpp>

// The admin pages' queries. They live in attendance_core (events.hpp, users.hpp)
// next to the schema and indexes they rely on; these names stay for the pages.
namespace attendance::admin_web::data {

using TimePoint = std::chrono::system_clock::time_point;

using EventSummary = core::EventSummary;
[[nodiscard]] Result<std::vector<EventSummary>> listEventSummaries(core::ConnectionPool& pool);

using EventEdit = core::EventEdit;
// Errc::event_not_found, Errc::invalid_argument.
[[nodiscard]] Result<void> updateEvent(core::ConnectionPool& pool, std::string_view id, const EventEdit& edit);

// Refused with Errc::conflict once check-ins exist, unless `force`. Errc::event_not_found.
[[nodiscard]] Result<void> deleteEvent(core::ConnectionPool& pool, std::string_view id, bool force);
// 1 when any check-in is stored for the event, else 0 (an int because result<bool>
// cannot be built from an error_code unambiguously). Errc::event_not_found.
[[nodiscard]] Result<int> hasCheckIns(core::ConnectionPool& pool, std::string_view eventId);

using Person = core::UserRow;
using Page = core::UserPage;
// Case-insensitive substring search over name and email; ordered by name.
[[nodiscard]] Result<Page> listParticipants(core::ConnectionPool& pool, std::string_view search, std::int64_t offset,
                                            std::int64_t limit);
[[nodiscard]] Result<Page> listRegistrations(core::ConnectionPool& pool, std::string_view eventId,
                                             std::string_view search, std::int64_t offset, std::int64_t limit);
// Errc::user_not_found.
[[nodiscard]] Result<std::string> userIdByEmail(core::ConnectionPool& pool, std::string_view email);
[[nodiscard]] Result<void> setUserDisabled(core::ConnectionPool& pool, std::string_view userId, bool disabled);

}  // namespace attendance::admin_web::data
