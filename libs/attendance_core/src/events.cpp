#include <attendance/attendance_core/events.hpp>
#include <attendance/attendance_core/scanners.hpp>

#include "db_util.hpp"
#include "secrets.hpp"

namespace attendance::core {
namespace {

constexpr const char* kEventColumns =
    "e.id, e.name, e.venue, " ATTENDANCE_SQL_MS("e.starts_at") ", " ATTENDANCE_SQL_MS(
        "e.ends_at") ", " ATTENDANCE_SQL_MS("e.created_at");

Event readEvent(const pqxx::row& row) {
  Event e;
  e.id = row[0].as<std::string>();
  e.name = row[1].as<std::string>();
  e.venue = row[2].as<std::string>();
  if (!row[3].is_null()) e.startsAt = detail::fromMs(row[3].as<std::int64_t>());
  if (!row[4].is_null()) e.endsAt = detail::fromMs(row[4].as<std::int64_t>());
  e.createdAt = detail::fromMs(row[5].as<std::int64_t>());
  return e;
}

bool eventExists(pqxx::transaction_base& tx, std::string_view eventId) {
  return !tx.exec_params("SELECT 1 FROM events WHERE id = $1", std::string{eventId}).empty();
}

}  // namespace

bool isValidEventId(std::string_view id) noexcept {
  // Same alphabet as scanner ids: safe in URLs, file names and CSV.
  return isValidScannerId(id);
}

std::optional<std::string> validateNewEvent(const NewEvent& event) {
  if (event.id && !isValidEventId(*event.id)) return "event id must be 1-128 characters of A-Z a-z 0-9 . _ : -";
  if (event.name.empty() || event.name.size() > 200) return "event name must be 1-200 characters";
  if (event.venue.size() > 200) return "venue must be at most 200 characters";
  if (event.startsAt && event.endsAt && *event.endsAt < *event.startsAt) return "event ends before it starts";
  return std::nullopt;
}

Result<Event> createEvent(ConnectionPool& pool, const NewEvent& event, std::chrono::system_clock::time_point now) {
  if (validateNewEvent(event)) return make_error_code(Errc::invalid_argument);
  const std::string id = event.id ? *event.id : "ev-" + detail::randomHex(12);
  return detail::withConnection(pool, "create_event", [&](pqxx::connection_base& conn) -> Result<Event> {
    pqxx::work tx{conn};
    const auto r = tx.exec_params(
        std::string{"INSERT INTO events AS e (id, name, venue, starts_at, ends_at, created_at) "
                    "VALUES ($1, $2, $3, CASE WHEN $4 THEN to_timestamp($5::bigint / 1000.0) END, "
                    "CASE WHEN $6 THEN to_timestamp($7::bigint / 1000.0) END, to_timestamp($8::bigint / 1000.0)) "
                    "ON CONFLICT DO NOTHING RETURNING "} +
            kEventColumns,
        id, event.name, event.venue, event.startsAt.has_value(),
        event.startsAt ? detail::toMs(*event.startsAt) : std::int64_t{0}, event.endsAt.has_value(),
        event.endsAt ? detail::toMs(*event.endsAt) : std::int64_t{0}, detail::toMs(now));
    if (r.empty()) return make_error_code(Errc::conflict);
    tx.commit();
    return readEvent(r[0]);
  });
}

Result<std::vector<Event>> listEvents(ConnectionPool& pool) {
  return detail::withConnection(pool, "list_events", [&](pqxx::connection_base& conn) -> Result<std::vector<Event>> {
    pqxx::read_transaction tx{conn};
    const auto rows = tx.exec(std::string{"SELECT "} + kEventColumns +
                              " FROM events e ORDER BY e.starts_at DESC NULLS LAST, e.created_at DESC, e.id");
    std::vector<Event> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(readEvent(row));
    return out;
  });
}

Result<Event> getEvent(ConnectionPool& pool, std::string_view eventId) {
  return detail::withConnection(pool, "get_event", [&](pqxx::connection_base& conn) -> Result<Event> {
    pqxx::read_transaction tx{conn};
    const auto rows =
        tx.exec_params(std::string{"SELECT "} + kEventColumns + " FROM events e WHERE e.id = $1", std::string{eventId});
    if (rows.empty()) return make_error_code(Errc::event_not_found);
    return readEvent(rows[0]);
  });
}

Result<std::vector<UpcomingEvent>> listUpcomingEvents(ConnectionPool& pool, std::chrono::system_clock::time_point now,
                                                      std::string_view userId) {
  const bool withUser = !userId.empty() && support::Uuid::parse(userId).has_value();
  return detail::withConnection(
      pool, "list_upcoming_events", [&](pqxx::connection_base& conn) -> Result<std::vector<UpcomingEvent>> {
        pqxx::read_transaction tx{conn};
        const auto rows = tx.exec_params(
            std::string{"SELECT "} + kEventColumns +
                ", $2 AND EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id "
                "AND r.user_id = $3::uuid) "
                "FROM events e WHERE coalesce(e.ends_at, e.starts_at) IS NULL "
                "OR coalesce(e.ends_at, e.starts_at) >= to_timestamp($1::bigint / 1000.0) "
                "ORDER BY e.starts_at NULLS LAST, e.id",
            detail::toMs(now), withUser, withUser ? std::string{userId} : std::string{"00000000-0000-0000-0000-000000000000"});
        std::vector<UpcomingEvent> out;
        out.reserve(rows.size());
        for (const auto& row : rows) out.push_back({readEvent(row), row[6].as<bool>()});
        return out;
      });
}

Result<RegistrationOutcome> registerForEvent(ConnectionPool& pool, std::string_view eventId, std::string_view userId,
                                             std::chrono::system_clock::time_point now) {
  const bool validUser = support::Uuid::parse(userId).has_value();
  return detail::withConnection(pool, "register", [&](pqxx::connection_base& conn) -> Result<RegistrationOutcome> {
    pqxx::work tx{conn};
    if (!eventExists(tx, eventId)) return make_error_code(Errc::event_not_found);
    if (!validUser ||
        tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid", std::string{userId}).empty()) {
      return make_error_code(Errc::user_not_found);
    }
    const auto r = tx.exec_params(
        "INSERT INTO registrations (event_id, user_id, created_at) "
        "VALUES ($1, $2::uuid, to_timestamp($3::bigint / 1000.0)) ON CONFLICT DO NOTHING",
        std::string{eventId}, std::string{userId}, detail::toMs(now));
    tx.commit();
    return r.affected_rows() == 1 ? RegistrationOutcome::created : RegistrationOutcome::already_registered;
  });
}

Result<bool> unregisterFromEvent(ConnectionPool& pool, std::string_view eventId, std::string_view userId) {
  const bool validUser = support::Uuid::parse(userId).has_value();
  return detail::withConnection(pool, "unregister", [&](pqxx::connection_base& conn) -> Result<bool> {
    pqxx::work tx{conn};
    if (!eventExists(tx, eventId)) return detail::failure<bool>(make_error_code(Errc::event_not_found));
    if (!validUser) return false;
    const auto r = tx.exec_params("DELETE FROM registrations WHERE event_id = $1 AND user_id = $2::uuid",
                                  std::string{eventId}, std::string{userId});
    tx.commit();
    return r.affected_rows() == 1;
  });
}

Result<std::vector<support::Uuid>> roster(ConnectionPool& pool, std::string_view eventId) {
  return detail::withConnection(
      pool, "roster", [&](pqxx::connection_base& conn) -> Result<std::vector<support::Uuid>> {
        pqxx::read_transaction tx{conn};
        if (!eventExists(tx, eventId)) return make_error_code(Errc::event_not_found);
        const auto rows = tx.exec_params(
            "SELECT u.ble_uuid::text FROM registrations r JOIN users u ON u.id = r.user_id "
            "WHERE r.event_id = $1 AND NOT u.disabled ORDER BY u.ble_uuid",
            std::string{eventId});
        std::vector<support::Uuid> out;
        out.reserve(rows.size());
        for (const auto& row : rows) {
          if (auto u = support::Uuid::parse(row[0].as<std::string>())) out.push_back(*u);
        }
        return out;
      });
}

}  // namespace attendance::core
