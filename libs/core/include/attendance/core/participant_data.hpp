#pragma once

#include <attendance/core/database.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/users.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// What a participant sees of their own data (the participant web app,
// docs/participant-web.md): their events with whether and when they were
// checked in, the export of everything stored about them (GDPR art. 20) and the
// deletion of their account (art. 17, docs/adr/0069-participant-erasure-keeps-anonymous-sightings.md).
namespace attendance::core {

struct MyEvent {
  Event event;
  std::chrono::system_clock::time_point registeredAt;
  bool synced = false;  // the event has at least one sync receipt
  // Whether and when they were checked in, as the report decides it
  // (docs/check-in-semantics.md): the latest manual override (door staff) when
  // there is one, else the scanners'. The time is the earliest check-in under
  // their current or a retired bleUuid, or the manual check-in's time when no
  // scanner saw them; none after a revocation.
  std::optional<std::chrono::system_clock::time_point> checkedInAt;
  bool manual = false;   // the latest override is a manual check-in
  bool revoked = false;  // the latest override is a revocation
};

// The events the user is registered for, soonest start first (undated last).
[[nodiscard]] Result<std::vector<MyEvent>> listMyEvents(ConnectionPool& pool, std::string_view userId);

// Everything stored about the user, as one JSON document: the account (without
// the password hash, which is stored but says nothing to its owner: "hasPassword"
// stands for it), retired bleUuids, registrations, every check-in row under any
// of their bleUuids, the door staff's manual check-ins and revocations of them, their sessions (times only; tokens are
// stored hashed) and the sign-in attempts recorded under their email. Times are ISO 8601 UTC. Errc::user_not_found.
[[nodiscard]] Result<std::string> exportParticipantJson(ConnectionPool& pool, std::string_view userId,
                                                        std::chrono::system_clock::time_point now);

// What deleteParticipant did: deleted, or refused without checking the password because the
// account (or `address`) has too many failed attempts (retryAfter: how long to wait).
struct Deletion {
  std::optional<std::chrono::seconds> retryAfter;
};

// Deletes the account after checking `password` (Errc::unauthorized when it is
// wrong; the check runs without a database connection held): the user row with
// its registrations, sessions and retired bleUuids, and the sign-in attempts
// recorded under its email. The check-in rows stay, under bleUuids no longer
// linked to anyone (ADR 0069), which are kept in erased_ble_uuids: reports show
// them only as a count, EventReport::erasedIds (ADR 0076). Errc::user_not_found.
// A wrong password is a failed sign-in of the account from `address` (the same attempts and
// limits as signInParticipant), so a stolen session cannot guess the password through it (ADR 0076).
[[nodiscard]] Result<Deletion> deleteParticipant(ConnectionPool& pool, std::string_view userId,
                                                 std::string_view password, std::string_view address,
                                                 const AuthConfig& auth, std::chrono::system_clock::time_point now);

// The CSRF token of a participant web session: derived from the session token
// (SHA-256 over a fixed label and the token, hex), so it needs no column and
// cannot be computed without the HttpOnly session cookie.
[[nodiscard]] std::string participantCsrfToken(std::string_view sessionToken);

}  // namespace attendance::core
