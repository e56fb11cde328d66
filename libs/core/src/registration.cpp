#include <attendance/core/registration.hpp>
#include <attendance/support/uuid.hpp>

#include <algorithm>

#include "db_util.hpp"
#include "event_row.hpp"
#include "waitlist.hpp"

namespace attendance::core {

// ---- the rule (pure) -----------------------------------------------------------

std::optional<RegistrationTime> registrationDeadline(const Event& event) {
  if (event.registrationClosesAt) return event.registrationClosesAt;
  if (event.endsAt) return event.endsAt;
  return event.startsAt;
}

bool registrationOpen(const Event& event, RegistrationTime now) {
  const auto deadline = registrationDeadline(event);
  return !deadline || now < *deadline;
}

SeatInfo seatInfo(const Event& event, std::int64_t registered, RegistrationTime now) {
  if (!registrationOpen(event, now)) return {Availability::closed, 0};
  if (!event.capacity) return {Availability::open, 0};
  const std::int64_t left = std::int64_t{*event.capacity} - registered;
  if (left <= 0) return {Availability::waitlist, 0};
  return {Availability::seats_left, left};
}

RegistrationDecision decideRegistration(const Event& event, RegistrationStatus current, std::int64_t registered,
                                        RegistrationTime now) {
  if (current == RegistrationStatus::registered) return RegistrationDecision::already_registered;
  if (current == RegistrationStatus::waitlisted) return RegistrationDecision::already_waitlisted;
  switch (seatInfo(event, registered, now).availability) {
    case Availability::closed: return RegistrationDecision::closed;
    case Availability::waitlist: return RegistrationDecision::join_waitlist;
    case Availability::open:
    case Availability::seats_left: return RegistrationDecision::register_now;
  }
  return RegistrationDecision::closed;
}

std::int64_t seatsToPromote(std::optional<std::int32_t> capacity, std::int64_t registered, std::int64_t waitlisted) {
  if (waitlisted <= 0) return 0;
  if (!capacity) return waitlisted;
  return std::clamp<std::int64_t>(std::int64_t{*capacity} - registered, 0, waitlisted);
}

std::optional<std::string> validateRegistrationLimits(const RegistrationLimits& limits,
                                                      const std::optional<RegistrationTime>& startsAt,
                                                      const std::optional<RegistrationTime>& endsAt) {
  (void)startsAt;  // closing after the start is allowed: late arrivals may still register
  if (limits.capacity && (*limits.capacity < 1 || *limits.capacity > 1'000'000)) {
    return "capacity must be a whole number from 1 to 1000000 (or none for unlimited)";
  }
  if (limits.closesAt && endsAt && *limits.closesAt > *endsAt) {
    return "registration must close before the event ends";
  }
  return std::nullopt;
}

// ---- applying it ------------------------------------------------------------------

namespace detail {

std::vector<std::string> promoteFromWaitlist(pqxx::transaction_base& tx, std::string_view eventId,
                                             std::optional<std::int32_t> capacity) {
  const std::string id{eventId};
  const auto counts = tx.exec_params1(
      "SELECT (SELECT count(*) FROM registrations WHERE event_id = $1), "
      "(SELECT count(*) FROM waitlist WHERE event_id = $1)",
      id);
  const std::int64_t n = seatsToPromote(capacity, counts[0].as<std::int64_t>(), counts[1].as<std::int64_t>());
  std::vector<std::string> promoted;
  if (n == 0) return promoted;
  // Their registration time is when they asked: the waitlist's joined_at.
  const auto rows = tx.exec_params(
      "WITH head AS (SELECT user_id FROM waitlist WHERE event_id = $1 ORDER BY seq LIMIT $2), "
      "moved AS (DELETE FROM waitlist w USING head WHERE w.event_id = $1 AND w.user_id = head.user_id "
      "          RETURNING w.user_id, w.seq, w.joined_at), "
      "ins AS (INSERT INTO registrations (event_id, user_id, created_at) "
      "        SELECT $1, user_id, joined_at FROM moved ON CONFLICT DO NOTHING) "
      "SELECT user_id::text FROM moved ORDER BY seq",
      id, n);
  promoted.reserve(rows.size());
  for (const auto& row : rows) promoted.push_back(row[0].as<std::string>());
  return promoted;
}

void releaseSeatsOf(pqxx::transaction_base& tx, std::string_view userId) {
  const std::string user{userId};
  // Locked in id order, as the registrations trigger locks them (no deadlock).
  const auto events = tx.exec_params(
      "SELECT e.id, e.capacity FROM events e JOIN registrations r ON r.event_id = e.id "
      "WHERE r.user_id = $1::uuid ORDER BY e.id FOR NO KEY UPDATE OF e",
      user);
  for (const auto& row : events) {
    const std::string eventId = row[0].as<std::string>();
    tx.exec_params("DELETE FROM registrations WHERE event_id = $1 AND user_id = $2::uuid", eventId, user);
    promoteFromWaitlist(tx, eventId,
                        row[1].is_null() ? std::nullopt : std::optional<std::int32_t>{row[1].as<std::int32_t>()});
  }
}

}  // namespace detail

namespace {

using detail::kEventColumns;
using detail::readEvent;

// The event row, locked against other registrations of the same event (not
// against ingest, whose FOR KEY SHARE does not conflict). The registrations
// trigger (migration 0003) takes the same lock, so the order is the same.
std::optional<Event> lockEvent(pqxx::transaction_base& tx, std::string_view eventId) {
  const auto rows =
      tx.exec_params(std::string{"SELECT "} + kEventColumns + " FROM events e WHERE e.id = $1 FOR NO KEY UPDATE",
                     std::string{eventId});
  if (rows.empty()) return std::nullopt;
  return readEvent(rows[0]);
}

bool userExists(pqxx::transaction_base& tx, std::string_view userId) {
  return support::Uuid::parse(userId).has_value() &&
         !tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid", std::string{userId}).empty();
}

std::int64_t waitlistPosition(pqxx::transaction_base& tx, const std::string& eventId, std::int64_t seq) {
  return tx.exec_params1("SELECT count(*) FROM waitlist WHERE event_id = $1 AND seq <= $2", eventId, seq)[0]
      .as<std::int64_t>();
}

}  // namespace

Result<RegistrationResult> requestRegistration(ConnectionPool& pool, std::string_view eventId, std::string_view userId,
                                               RegistrationTime now) {
  return detail::withConnection(
      pool, "request_registration", [&](pqxx::connection_base& conn) -> Result<RegistrationResult> {
        pqxx::work tx{conn};
        const auto event = lockEvent(tx, eventId);
        if (!event) return make_error_code(Errc::event_not_found);
        if (!userExists(tx, userId)) return make_error_code(Errc::user_not_found);
        const std::string ev{eventId}, user{userId};
        const auto state = tx.exec_params1(
            "SELECT EXISTS (SELECT 1 FROM registrations WHERE event_id = $1 "
            "AND user_id = $2::uuid), "
            "(SELECT seq FROM waitlist WHERE event_id = $1 AND user_id = $2::uuid), "
            "(SELECT count(*) FROM registrations WHERE event_id = $1)",
            ev, user);
        const RegistrationStatus current = state[0].as<bool>()   ? RegistrationStatus::registered
                                           : !state[1].is_null() ? RegistrationStatus::waitlisted
                                                                 : RegistrationStatus::none;
        RegistrationResult out;
        switch (decideRegistration(*event, current, state[2].as<std::int64_t>(), now)) {
          case RegistrationDecision::closed: return make_error_code(Errc::registration_closed);
          case RegistrationDecision::already_registered: out.status = RegistrationStatus::registered; return out;
          case RegistrationDecision::already_waitlisted:
            out.status = RegistrationStatus::waitlisted;
            out.waitlistPosition = waitlistPosition(tx, ev, state[1].as<std::int64_t>());
            return out;
          case RegistrationDecision::register_now:
            tx.exec_params(
                "INSERT INTO registrations (event_id, user_id, created_at) "
                "VALUES ($1, $2::uuid, to_timestamp($3::bigint / 1000.0))",
                ev, user, detail::toMs(now));
            out.status = RegistrationStatus::registered;
            break;
          case RegistrationDecision::join_waitlist: {
            const auto seq = tx.exec_params1(
                                   "INSERT INTO waitlist (event_id, user_id, joined_at) "
                                   "VALUES ($1, $2::uuid, to_timestamp($3::bigint / 1000.0)) RETURNING seq",
                                   ev, user, detail::toMs(now))[0]
                                 .as<std::int64_t>();
            out.status = RegistrationStatus::waitlisted;
            out.waitlistPosition = waitlistPosition(tx, ev, seq);
            break;
          }
        }
        out.created = true;
        tx.commit();
        return out;
      });
}

Result<Cancellation> cancelRegistration(ConnectionPool& pool, std::string_view eventId, std::string_view userId) {
  return detail::withConnection(pool, "cancel_registration", [&](pqxx::connection_base& conn) -> Result<Cancellation> {
    pqxx::work tx{conn};
    const auto event = lockEvent(tx, eventId);
    if (!event) return make_error_code(Errc::event_not_found);
    Cancellation out;
    if (!support::Uuid::parse(userId)) return out;
    const std::string ev{eventId}, user{userId};
    if (tx.exec_params("DELETE FROM registrations WHERE event_id = $1 AND user_id = $2::uuid", ev, user)
            .affected_rows() == 1) {
      out.was = RegistrationStatus::registered;
      out.promoted = detail::promoteFromWaitlist(tx, ev, event->capacity);
    } else if (tx.exec_params("DELETE FROM waitlist WHERE event_id = $1 AND user_id = $2::uuid", ev, user)
                   .affected_rows() == 1) {
      out.was = RegistrationStatus::waitlisted;
    }
    tx.commit();
    return out;
  });
}

Result<RegistrationCounts> registrationCounts(ConnectionPool& pool, std::string_view eventId) {
  return detail::withConnection(
      pool, "registration_counts", [&](pqxx::connection_base& conn) -> Result<RegistrationCounts> {
        pqxx::read_transaction tx{conn};
        const auto rows = tx.exec_params(
            "SELECT (SELECT count(*) FROM registrations WHERE event_id = e.id), "
            "(SELECT count(*) FROM waitlist WHERE event_id = e.id) "
            "FROM events e WHERE e.id = $1",
            std::string{eventId});
        if (rows.empty()) return make_error_code(Errc::event_not_found);
        return RegistrationCounts{rows[0][0].as<std::int64_t>(), rows[0][1].as<std::int64_t>()};
      });
}

Result<RegistrationOutcome> registerForEvent(ConnectionPool& pool, std::string_view eventId, std::string_view userId,
                                             std::chrono::system_clock::time_point now) {
  return detail::withConnection(pool, "register", [&](pqxx::connection_base& conn) -> Result<RegistrationOutcome> {
    pqxx::work tx{conn};
    if (!lockEvent(tx, eventId)) return make_error_code(Errc::event_not_found);
    if (!userExists(tx, userId)) return make_error_code(Errc::user_not_found);
    const std::string ev{eventId}, user{userId};
    // The organizer's seat replaces a waitlist place.
    tx.exec_params("DELETE FROM waitlist WHERE event_id = $1 AND user_id = $2::uuid", ev, user);
    const auto r = tx.exec_params(
        "INSERT INTO registrations (event_id, user_id, created_at) "
        "VALUES ($1, $2::uuid, to_timestamp($3::bigint / 1000.0)) ON CONFLICT DO NOTHING",
        ev, user, detail::toMs(now));
    tx.commit();
    return r.affected_rows() == 1 ? RegistrationOutcome::created : RegistrationOutcome::already_registered;
  });
}

Result<bool> unregisterFromEvent(ConnectionPool& pool, std::string_view eventId, std::string_view userId) {
  auto cancelled = cancelRegistration(pool, eventId, userId);
  if (!cancelled) return detail::failure<bool>(cancelled.error());
  return cancelled->was != RegistrationStatus::none;
}

}  // namespace attendance::core
