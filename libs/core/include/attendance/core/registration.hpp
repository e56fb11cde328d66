#pragma once

#include <attendance/core/database.hpp>
#include <attendance/core/events.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The registration rule (issue 12, docs/adr/0074-capacity-and-waitlist-in-one-core-rule.md):
// a seat while seats remain, else a place on the waitlist; nothing after the
// closing time; a freed seat goes to the first waitlisted participant. The pure
// decisions first, then the calls that apply them in one transaction per request,
// under the event row's lock. The participant JSON API and the participant pages
// both call requestRegistration and cancelRegistration.
namespace attendance::core {

using RegistrationTime = std::chrono::system_clock::time_point;

// When registration closes: the organizer's time, else the event's end, else its
// start; none for an undated event without one (never closes).
[[nodiscard]] std::optional<RegistrationTime> registrationDeadline(const Event& event);
[[nodiscard]] bool registrationOpen(const Event& event, RegistrationTime now);

// What a list shows about an event.
enum class Availability { open, seats_left, waitlist, closed };
struct SeatInfo {
  Availability availability = Availability::open;  // open = no capacity
  std::int64_t seatsLeft = 0;                      // with seats_left
};
[[nodiscard]] SeatInfo seatInfo(const Event& event, std::int64_t registered, RegistrationTime now);

enum class RegistrationDecision { register_now, join_waitlist, already_registered, already_waitlisted, closed };
// The rule for one request, from the state read under the event's lock. A participant
// who already has a seat or a place keeps it, closed or not.
[[nodiscard]] RegistrationDecision decideRegistration(const Event& event, RegistrationStatus current,
                                                      std::int64_t registered, RegistrationTime now);
// How many waitlisted participants move up: the free seats (all of them without a capacity).
[[nodiscard]] std::int64_t seatsToPromote(std::optional<std::int32_t> capacity, std::int64_t registered,
                                          std::int64_t waitlisted);

// Why `limits` are not acceptable for an event with these times, or nullopt.
[[nodiscard]] std::optional<std::string> validateRegistrationLimits(const RegistrationLimits& limits,
                                                                    const std::optional<RegistrationTime>& startsAt,
                                                                    const std::optional<RegistrationTime>& endsAt);

struct RegistrationResult {
  RegistrationStatus status = RegistrationStatus::none;  // registered or waitlisted
  std::int64_t waitlistPosition = 0;                     // when waitlisted: 1 = next
  bool created = false;                                  // false: they had it already
};
// A participant asks for a seat. Concurrent requests for one event are serialized
// on the event row (FOR NO KEY UPDATE, which ingest's FOR KEY SHARE does not wait
// for). Errc::registration_closed, Errc::event_not_found, Errc::user_not_found.
[[nodiscard]] Result<RegistrationResult> requestRegistration(ConnectionPool& pool, std::string_view eventId,
                                                             std::string_view userId, RegistrationTime now);

struct Cancellation {
  RegistrationStatus was = RegistrationStatus::none;  // what was removed; none = nothing
  std::vector<std::string> promoted;                  // userIds given the freed seat(s), in waitlist order
};
// Removes the participant's seat or waitlist place; a freed seat goes to the first
// waitlisted participant (their registration time is when they joined the waitlist).
// Errc::event_not_found.
[[nodiscard]] Result<Cancellation> cancelRegistration(ConnectionPool& pool, std::string_view eventId,
                                                      std::string_view userId);

struct RegistrationCounts {
  std::int64_t registered = 0;
  std::int64_t waitlisted = 0;
};
// Errc::event_not_found.
[[nodiscard]] Result<RegistrationCounts> registrationCounts(ConnectionPool& pool, std::string_view eventId);

}  // namespace attendance::core
