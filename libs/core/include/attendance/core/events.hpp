#pragma once

#include <attendance/core/database.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <chrono>
#include <cstdint>
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
  bool privateIds = false;  // participants broadcast rotating ids, resolved at ingest (docs/beacon-spec.md)
  // Registration limits (docs/adr/0074-capacity-and-waitlist-in-one-core-rule.md):
  std::optional<std::int32_t> capacity;                                       // seats; none = unlimited (no waitlist)
  std::optional<std::chrono::system_clock::time_point> registrationClosesAt;  // none = when the event is over
};

// What an organizer sets about registration: see Event.
struct RegistrationLimits {
  std::optional<std::int32_t> capacity;                           // 1..1,000,000
  std::optional<std::chrono::system_clock::time_point> closesAt;  // not after the event's end
};

struct NewEvent {
  std::optional<std::string> id;  // none = generated ("ev-" + 12 hex digits)
  std::string name;               // 1..200 chars
  std::string venue;
  std::optional<std::chrono::system_clock::time_point> startsAt;
  std::optional<std::chrono::system_clock::time_point> endsAt;  // must not precede startsAt
  bool privateIds = false;
  RegistrationLimits registration = {};
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

// The editable fields of an event; its id and creation time never change.
struct EventEdit {
  std::string name;   // 1..200 chars
  std::string venue;  // at most 200 chars
  std::optional<std::chrono::system_clock::time_point> startsAt;
  std::optional<std::chrono::system_clock::time_point> endsAt;    // must not precede startsAt
  std::optional<bool> privateIds = std::nullopt;                  // none = unchanged
  std::optional<RegistrationLimits> registration = std::nullopt;  // none = unchanged
};

// Why `edit` is not acceptable, or nullopt (same rules as validateNewEvent).
[[nodiscard]] std::optional<std::string> validateEventEdit(const EventEdit& edit);

// Replaces the event's name, venue and times (and privateIds and the registration limits when
// given). More seats (or none) promote waitlisted participants in the same transaction.
// Errc::invalid_argument, Errc::event_not_found.
[[nodiscard]] Result<Event> updateEvent(ConnectionPool& pool, std::string_view eventId, const EventEdit& edit);

// Deletes the event with its registrations, receipts and report summary. Refused with
// Errc::conflict once check-ins are stored, unless `force` (then they go too).
// Errc::event_not_found.
[[nodiscard]] Result<void> deleteEvent(ConnectionPool& pool, std::string_view eventId, bool force);

// Whether any check-in is stored for the event (one index probe, no count).
// Errc::event_not_found.
[[nodiscard]] Result<bool> eventHasCheckIns(ConnectionPool& pool, std::string_view eventId);

// One row of the organizers' event list.
struct EventSummary {
  std::string id;
  std::string name;
  std::string venue;
  std::optional<std::chrono::system_clock::time_point> startsAt;
  std::optional<std::chrono::system_clock::time_point> endsAt;
  std::int64_t registered = 0;  // registrations
  std::int64_t attended = 0;    // registered users seen under a current or retired bleUuid (= report's attended)
  bool synced = false;          // at least one sync receipt
};
// Every event with its counts, newest start first. The counts are stored per event
// with the report version they were computed under (migration 0004) and recomputed
// only when that version moved, so the call may write (best effort; never changes
// the result). Always equal to buildReport's registered/attended.
[[nodiscard]] Result<std::vector<EventSummary>> listEventSummaries(ConnectionPool& pool);

enum class RegistrationStatus { none, registered, waitlisted };

struct UpcomingEvent {
  Event event;
  bool registered = false;                               // for the given user
  RegistrationStatus status = RegistrationStatus::none;  // for the given user
  std::int64_t waitlistPosition = 0;                     // 1 = next to get a seat; 0 = not waitlisted
  std::int64_t registeredCount = 0;                      // everyone's
  std::int64_t waitlistCount = 0;
};
// Events not yet over at `now` (ends_at >= now, or starts_at >= now when no end,
// or undated), soonest first. userId may be empty.
[[nodiscard]] Result<std::vector<UpcomingEvent>> listUpcomingEvents(ConnectionPool& pool,
                                                                    std::chrono::system_clock::time_point now,
                                                                    std::string_view userId = {});

// One event as a participant sees it (status, position and counts as in listUpcomingEvents),
// over or not. Errc::event_not_found.
[[nodiscard]] Result<UpcomingEvent> getParticipantEvent(ConnectionPool& pool, std::string_view eventId,
                                                        std::string_view userId);

enum class RegistrationOutcome { created, already_registered };

// The organizer's direct registration (admin CLI and console, test set-ups): a seat
// regardless of capacity and closing time, taking the participant off the waitlist.
// Participants ask with requestRegistration (registration.hpp). Errc::event_not_found,
// Errc::user_not_found.
[[nodiscard]] Result<RegistrationOutcome> registerForEvent(ConnectionPool& pool, std::string_view eventId,
                                                           std::string_view userId,
                                                           std::chrono::system_clock::time_point now);
// Removes the registration or the waitlist place (cancelRegistration in registration.hpp,
// which promotes the first waitlisted participant into a freed seat). true = one was removed.
// Errc::event_not_found.
[[nodiscard]] Result<bool> unregisterFromEvent(ConnectionPool& pool, std::string_view eventId, std::string_view userId);

// bleUuids of the event's registered, enabled users (GET /api/events/{id}/roster),
// sorted. Errc::event_not_found.
[[nodiscard]] Result<std::vector<support::Uuid>> roster(ConnectionPool& pool, std::string_view eventId);

// JSON for event lists. Times are ISO 8601 UTC strings or null; strings are escaped.
// One event: {"id":..,"name":..,"venue":..,"startsAt":..,"endsAt":..<extraMembers>}
// (extraMembers, when given, starts with a comma: ",\"registered\":true"), then
// "capacity" (null = unlimited) and "registrationClosesAt" (the effective closing time or null).
void appendEventJson(std::string& out, const Event& event, std::string_view extraMembers = {});
// GET /api/events (backend): {"events":[...]}, each with "seatsLeft" (null = unlimited),
// "waitlisted" (how many wait) and "registrationOpen" at `now`; with `withRegistered` also
// "registered" (whether the caller has a seat), "status" ("registered", "waitlisted" or
// null) and "waitlistPosition" (null unless waitlisted).
[[nodiscard]] std::string renderEventsJson(const std::vector<UpcomingEvent>& events, bool withRegistered,
                                           std::chrono::system_clock::time_point now);
// The organizers' list (admin GET /api/events): {"events":[...]} with "registered" and
// "attended" counts and "synced".
[[nodiscard]] std::string renderEventsJson(const std::vector<EventSummary>& events);

}  // namespace attendance::core
