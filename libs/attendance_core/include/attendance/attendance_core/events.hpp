#pragma once

#include <attendance/attendance_core/database.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Events, registrations and the roster.
namespace attendance::core {

struct Event {
  std::string id;  // opaque; 1..128 chars of [A-Za-z0-9._:-]
  std::string name;
  std::string venue;
  std::optional<std::chrono::system_clock::time_point> startsAt;
  std::optional<std::chrono::system_clock::time_point> endsAt;
  std::chrono::system_clock::time_point createdAt;
};

struct NewEvent {
  std::optional<std::string> id;  // none = generated ("ev-" + 12 hex digits)
  std::string name;               // 1..200 chars
  std::string venue;
  std::optional<std::chrono::system_clock::time_point> startsAt;
  std::optional<std::chrono::system_clock::time_point> endsAt;  // must not precede startsAt
};

[[nodiscard]] bool isValidEventId(std::string_view id) noexcept;

// Why `event` is not acceptable, or nullopt.
[[nodiscard]] std::optional<std::string> validateNewEvent(const NewEvent& event);

// Errc::invalid_argument, Errc::conflict (id taken).
[[nodiscard]] Result<Event> createEvent(ConnectionPool& pool, const NewEvent& event,
                                        std::chrono::system_clock::time_point now);
// All events, newest start first.
[[nodiscard]] Result<std::vector<Event>> listEvents(ConnectionPool& pool);
// Errc::event_not_found.
[[nodiscard]] Result<Event> getEvent(ConnectionPool& pool, std::string_view eventId);

struct UpcomingEvent {
  Event event;
  bool registered = false;  // for the given user
};
// Events not yet over at `now` (ends_at >= now, or starts_at >= now when no end,
// or undated), soonest first. userId may be empty.
[[nodiscard]] Result<std::vector<UpcomingEvent>> listUpcomingEvents(ConnectionPool& pool,
                                                                    std::chrono::system_clock::time_point now,
                                                                    std::string_view userId = {});

enum class RegistrationOutcome { created, already_registered };

// Errc::event_not_found, Errc::user_not_found.
[[nodiscard]] Result<RegistrationOutcome> registerForEvent(ConnectionPool& pool, std::string_view eventId,
                                                           std::string_view userId,
                                                           std::chrono::system_clock::time_point now);
// true = a registration was removed, false = there was none. Errc::event_not_found.
[[nodiscard]] Result<bool> unregisterFromEvent(ConnectionPool& pool, std::string_view eventId,
                                               std::string_view userId);

// bleUuids of the event's registered, enabled users (GET /api/events/{id}/roster),
// sorted. Errc::event_not_found.
[[nodiscard]] Result<std::vector<support::Uuid>> roster(ConnectionPool& pool, std::string_view eventId);

}  // namespace attendance::core
