#include <attendance/core/events.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/core/report.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/utf8.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "db_util.hpp"
#include "event_row.hpp"
#include "secrets.hpp"
#include "waitlist.hpp"

namespace attendance::core {
namespace {

using detail::kEventColumnCount;
using detail::kEventColumns;
using detail::readEvent;

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
  return validateEventEdit({event.name, event.venue, event.startsAt, event.endsAt, std::nullopt, event.registration});
}

std::optional<std::string> validateEventEdit(const EventEdit& edit) {
  // PostgreSQL refuses invalid UTF-8 with an error; say so instead.
  if (!support::isValidUtf8(edit.name)) return "event name is not valid UTF-8";
  if (!support::isValidUtf8(edit.venue)) return "venue is not valid UTF-8";
  if (edit.name.empty() || edit.name.size() > 200) return "event name must be 1-200 characters";
  if (edit.venue.size() > 200) return "venue must be at most 200 characters";
  if (edit.startsAt && edit.endsAt && *edit.endsAt < *edit.startsAt) return "event ends before it starts";
  if (edit.registration) return validateRegistrationLimits(*edit.registration, edit.startsAt, edit.endsAt);
  return std::nullopt;
}

Result<Event> createEvent(ConnectionPool& pool, const NewEvent& event, std::chrono::system_clock::time_point now) {
  if (validateNewEvent(event)) return make_error_code(Errc::invalid_argument);
  const std::string id = event.id ? *event.id : "ev-" + detail::randomHex(12);
  return detail::withConnection(pool, "create_event", [&](pqxx::connection_base& conn) -> Result<Event> {
    pqxx::work tx{conn};
    const auto r = tx.exec_params(
        std::string{
            "INSERT INTO events AS e (id, name, venue, starts_at, ends_at, created_at, private_ids, capacity, "
            "registration_closes_at) "
            "VALUES ($1, $2, $3, CASE WHEN $4 THEN to_timestamp($5::bigint / 1000.0) END, "
            "CASE WHEN $6 THEN to_timestamp($7::bigint / 1000.0) END, to_timestamp($8::bigint / 1000.0), "
            "$9, CASE WHEN $10 THEN $11::integer END, CASE WHEN $12 THEN to_timestamp($13::bigint / 1000.0) END) "
            "ON CONFLICT DO NOTHING RETURNING "} +
            kEventColumns,
        id, event.name, event.venue, event.startsAt.has_value(),
        event.startsAt ? detail::toMs(*event.startsAt) : std::int64_t{0}, event.endsAt.has_value(),
        event.endsAt ? detail::toMs(*event.endsAt) : std::int64_t{0}, detail::toMs(now), event.privateIds,
        event.registration.capacity.has_value(), event.registration.capacity.value_or(0),
        event.registration.closesAt.has_value(),
        event.registration.closesAt ? detail::toMs(*event.registration.closesAt) : std::int64_t{0});
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

Result<Event> updateEvent(ConnectionPool& pool, std::string_view eventId, const EventEdit& edit) {
  if (validateEventEdit(edit)) return make_error_code(Errc::invalid_argument);
  const RegistrationLimits limits = edit.registration.value_or(RegistrationLimits{});
  return detail::withConnection(pool, "update_event", [&](pqxx::connection_base& conn) -> Result<Event> {
    pqxx::work tx{conn};
    const auto r =
        tx.exec_params(std::string{"UPDATE events AS e SET name = $2, venue = $3, "
                                   "starts_at = CASE WHEN $4 THEN to_timestamp($5::bigint / 1000.0) END, "
                                   "ends_at = CASE WHEN $6 THEN to_timestamp($7::bigint / 1000.0) END, "
                                   "private_ids = CASE WHEN $8 THEN $9 ELSE e.private_ids END, "
                                   "capacity = CASE WHEN NOT $10 THEN e.capacity "
                                   "WHEN $11 THEN $12::integer END, "
                                   "registration_closes_at = CASE WHEN NOT $10 THEN e.registration_closes_at "
                                   "WHEN $13 THEN to_timestamp($14::bigint / 1000.0) END "
                                   "WHERE e.id = $1 RETURNING "} +
                           kEventColumns,
                       std::string{eventId}, edit.name, edit.venue, edit.startsAt.has_value(),
                       edit.startsAt ? detail::toMs(*edit.startsAt) : std::int64_t{0}, edit.endsAt.has_value(),
                       edit.endsAt ? detail::toMs(*edit.endsAt) : std::int64_t{0}, edit.privateIds.has_value(),
                       edit.privateIds.value_or(false), edit.registration.has_value(), limits.capacity.has_value(),
                       limits.capacity.value_or(0), limits.closesAt.has_value(),
                       limits.closesAt ? detail::toMs(*limits.closesAt) : std::int64_t{0});
    if (r.empty()) return make_error_code(Errc::event_not_found);
    Event updated = readEvent(r[0]);
    // More seats (or no capacity any more) move waitlisted participants up now.
    if (edit.registration) detail::promoteFromWaitlist(tx, updated.id, updated.capacity);
    tx.commit();
    return updated;
  });
}

Result<void> deleteEvent(ConnectionPool& pool, std::string_view eventId, bool force) {
  return detail::withConnection(pool, "delete_event", [&](pqxx::connection_base& conn) -> Result<void> {
    pqxx::work tx{conn};
    const std::string id{eventId};
    // FOR UPDATE conflicts with ingest's FOR KEY SHARE: no sync can add check-ins
    // between the check and the delete.
    if (tx.exec_params("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", id).empty()) {
      return make_error_code(Errc::event_not_found);
    }
    if (!force && !tx.exec_params("SELECT 1 FROM check_ins WHERE event_id = $1 LIMIT 1", id).empty()) {
      return make_error_code(Errc::conflict);
    }
    // check_ins has no foreign key (ADR 0031): deleted explicitly. Registrations,
    // receipts and the report summary go by ON DELETE CASCADE.
    tx.exec_params("DELETE FROM check_ins WHERE event_id = $1", id);
    tx.exec_params("DELETE FROM events WHERE id = $1", id);
    tx.commit();
    return {};
  });
}

Result<bool> eventHasCheckIns(ConnectionPool& pool, std::string_view eventId) {
  return detail::withConnection(pool, "event_has_check_ins", [&](pqxx::connection_base& conn) -> Result<bool> {
    pqxx::read_transaction tx{conn};
    const std::string id{eventId};
    const auto row = tx.exec_params1(
        "SELECT EXISTS (SELECT 1 FROM events WHERE id = $1), EXISTS (SELECT 1 FROM check_ins WHERE event_id = $1)", id);
    if (!row[0].as<bool>()) return detail::failure<bool>(make_error_code(Errc::event_not_found));
    return row[1].as<bool>();
  });
}

namespace {

// The report version (migration 0003) of every event, next to its cached counts
// (migration 0004) when they were computed under exactly that version.
constexpr const char* kEventSummariesSql =
    "WITH v AS (SELECT e.id, e.name, e.venue, e.starts_at, e.ends_at, e.created_at, e.report_version AS ev, "
    "  (SELECT version FROM report_users_version) AS uv, "
    "  (SELECT count(*) FROM sync_receipts s WHERE s.event_id = e.id) AS receipts, "
    "  (SELECT count(*) FROM check_ins c WHERE c.event_id = e.id AND c.receipt_id IS NULL) AS unreceipted "
    "  FROM events e) "
    "SELECT v.id, v.name, v.venue, " ATTENDANCE_SQL_MS("v.starts_at") ", " ATTENDANCE_SQL_MS("v.ends_at") ", "
    "  v.ev, v.uv, v.receipts, v.unreceipted, k.registered, k.attended "
    "FROM v LEFT JOIN event_list_counts k ON k.event_id = v.id AND k.event_version = v.ev "
    "  AND k.users_version = v.uv AND k.receipts = v.receipts AND k.unreceipted = v.unreceipted "
    "ORDER BY v.starts_at DESC NULLS LAST, v.created_at DESC, v.id";

// Registered and attended for the given events. Attended = registered users seen
// under their current or a retired bleUuid, as in core::buildReport. Set-based:
// a per-registration EXISTS over "current OR retired" cannot use the check_ins
// index and took minutes at 50,000 registrations x 200,000 check-ins.
constexpr const char* kEventCountsSql =
    "WITH ids AS (SELECT unnest($1::text[]) AS event_id), "
    "seen AS (SELECT DISTINCT event_id, ble_uuid FROM check_ins WHERE event_id = ANY ($1::text[])), "
    "owners AS (SELECT id AS user_id, ble_uuid FROM users "
    "           UNION ALL SELECT user_id, ble_uuid FROM retired_ble_uuids), "
    "attended AS (SELECT r.event_id, count(DISTINCT r.user_id) AS n FROM registrations r "
    "             JOIN owners o ON o.user_id = r.user_id "
    "             JOIN seen s ON s.event_id = r.event_id AND s.ble_uuid = o.ble_uuid "
    "             WHERE r.event_id = ANY ($1::text[]) GROUP BY r.event_id), "
    "regs AS (SELECT event_id, count(*) AS n FROM registrations WHERE event_id = ANY ($1::text[]) GROUP BY event_id) "
    "SELECT ids.event_id, coalesce(regs.n, 0), coalesce(attended.n, 0) "
    "FROM ids LEFT JOIN regs ON regs.event_id = ids.event_id LEFT JOIN attended ON attended.event_id = ids.event_id";

// Stores the counts with the version they were computed under. An event deleted
// meanwhile is skipped; ids are sorted so concurrent writers lock rows in one order.
constexpr const char* kStoreEventCountsSql =
    "INSERT INTO event_list_counts AS k "
    "  (event_id, event_version, users_version, receipts, unreceipted, registered, attended) "
    "SELECT n.* FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], "
    "  $7::bigint[]) AS n (event_id, ev, uv, receipts, unreceipted, registered, attended) "
    "WHERE EXISTS (SELECT 1 FROM events e WHERE e.id = n.event_id) ORDER BY n.event_id "
    "ON CONFLICT (event_id) DO UPDATE SET event_version = excluded.event_version, "
    "  users_version = excluded.users_version, receipts = excluded.receipts, unreceipted = excluded.unreceipted, "
    "  registered = excluded.registered, attended = excluded.attended";

// An array literal of our own making: event ids are [A-Za-z0-9._:-] (CHECK on
// events.id) and numbers are digits, so quoting each element is enough.
class ArrayLiteral {
public:
  void add(std::string_view element) {
    text_ += text_.size() == 1 ? "\"" : ",\"";
    text_ += element;
    text_ += '"';
  }
  void add(std::int64_t n) { add(std::string_view{std::to_string(n)}); }
  [[nodiscard]] std::string str() const { return text_ + "}"; }

private:
  std::string text_ = "{";
};

struct StaleCounts {
  std::size_t index = 0;  // into the summaries
  std::int64_t eventVersion = 0, usersVersion = 0, receipts = 0, unreceipted = 0;
};

}  // namespace

Result<std::vector<EventSummary>> listEventSummaries(ConnectionPool& pool) {
  return detail::withConnection(
      pool, "list_event_summaries", [&](pqxx::connection_base& conn) -> Result<std::vector<EventSummary>> {
        std::vector<EventSummary> out;
        std::vector<StaleCounts> stale;
        {
          // One snapshot: each recomputed count belongs to the version read with it.
          pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
          const auto rows = tx.exec(kEventSummariesSql);
          out.reserve(rows.size());
          for (const auto& r : rows) {
            EventSummary s;
            s.id = r[0].as<std::string>();
            s.name = r[1].as<std::string>();
            s.venue = r[2].as<std::string>();
            if (!r[3].is_null()) s.startsAt = detail::fromMs(r[3].as<std::int64_t>());
            if (!r[4].is_null()) s.endsAt = detail::fromMs(r[4].as<std::int64_t>());
            const auto receipts = r[7].as<std::int64_t>();
            s.synced = receipts > 0;
            if (r[9].is_null()) {
              stale.push_back(
                  {out.size(), r[5].as<std::int64_t>(), r[6].as<std::int64_t>(), receipts, r[8].as<std::int64_t>()});
            } else {
              s.registered = r[9].as<std::int64_t>();
              s.attended = r[10].as<std::int64_t>();
            }
            out.push_back(std::move(s));
          }
          if (!stale.empty()) {
            ArrayLiteral ids;
            for (const auto& st : stale) ids.add(std::string_view{out[st.index].id});
            // Large events push the aggregate past jit_above_cost; compiling costs more than it saves.
            tx.exec("SET LOCAL jit = off");
            const auto counts = tx.exec_params(kEventCountsSql, ids.str());
            std::map<std::string_view, std::size_t> indexOf;
            for (const auto& st : stale) indexOf.emplace(out[st.index].id, st.index);
            for (const auto& c : counts) {
              const auto found = indexOf.find(c[0].as<std::string>());
              if (found == indexOf.end()) continue;
              out[found->second].registered = c[1].as<std::int64_t>();
              out[found->second].attended = c[2].as<std::int64_t>();
            }
          }
          tx.commit();
        }
        if (!stale.empty()) {
          // Best effort: a failed write (read-only standby, the event deleted in a
          // race) only means the next list recounts.
          try {
            ArrayLiteral ids, ev, uv, receipts, unreceipted, registered, attended;
            for (const auto& st : stale) {
              const EventSummary& s = out[st.index];
              ids.add(std::string_view{s.id});
              ev.add(st.eventVersion);
              uv.add(st.usersVersion);
              receipts.add(st.receipts);
              unreceipted.add(st.unreceipted);
              registered.add(s.registered);
              attended.add(s.attended);
            }
            pqxx::work tx{conn};
            tx.exec_params(kStoreEventCountsSql, ids.str(), ev.str(), uv.str(), receipts.str(), unreceipted.str(),
                           registered.str(), attended.str());
            tx.commit();
          } catch (const pqxx::broken_connection&) {
            throw;
          } catch (const pqxx::sql_error& e) {
            support::log::warn("events.list_counts_not_stored", {{"sqlstate", e.sqlstate()}, {"error", e.what()}});
          }
        }
        return out;
      });
}

namespace {

// An event as a participant sees it: kEventColumns, then whether $2 (a valid user
// id given) is registered, everyone's registered and waitlisted counts, and $2's
// waitlist position (0 = not waitlisted).
constexpr const char* kParticipantEventColumns =
    ", $1 AND EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND r.user_id = $2::uuid), "
    "(SELECT count(*) FROM registrations r WHERE r.event_id = e.id), "
    "(SELECT count(*) FROM waitlist w WHERE w.event_id = e.id), "
    "(SELECT count(*) FROM waitlist w JOIN waitlist m ON m.event_id = w.event_id AND w.seq <= m.seq "
    " WHERE $1 AND m.event_id = e.id AND m.user_id = $2::uuid) ";

UpcomingEvent readParticipantEvent(const pqxx::row& row) {
  UpcomingEvent u;
  u.event = readEvent(row);
  u.registered = row[kEventColumnCount].as<bool>();
  u.registeredCount = row[kEventColumnCount + 1].as<std::int64_t>();
  u.waitlistCount = row[kEventColumnCount + 2].as<std::int64_t>();
  u.waitlistPosition = row[kEventColumnCount + 3].as<std::int64_t>();
  u.status = u.registered             ? RegistrationStatus::registered
             : u.waitlistPosition > 0 ? RegistrationStatus::waitlisted
                                      : RegistrationStatus::none;
  return u;
}

std::string userParam(bool withUser, std::string_view userId) {
  return withUser ? std::string{userId} : std::string{"00000000-0000-0000-0000-000000000000"};
}

}  // namespace

Result<std::vector<UpcomingEvent>> listUpcomingEvents(ConnectionPool& pool, std::chrono::system_clock::time_point now,
                                                      std::string_view userId) {
  const bool withUser = !userId.empty() && support::Uuid::parse(userId).has_value();
  return detail::withConnection(
      pool, "list_upcoming_events", [&](pqxx::connection_base& conn) -> Result<std::vector<UpcomingEvent>> {
        pqxx::read_transaction tx{conn};
        const auto rows = tx.exec_params(std::string{"SELECT "} + kEventColumns + kParticipantEventColumns +
                                             "FROM events e WHERE coalesce(e.ends_at, e.starts_at) IS NULL "
                                             "OR coalesce(e.ends_at, e.starts_at) >= to_timestamp($3::bigint / 1000.0) "
                                             "ORDER BY e.starts_at NULLS LAST, e.id",
                                         withUser, userParam(withUser, userId), detail::toMs(now));
        std::vector<UpcomingEvent> out;
        out.reserve(rows.size());
        for (const auto& row : rows) out.push_back(readParticipantEvent(row));
        return out;
      });
}

Result<UpcomingEvent> getParticipantEvent(ConnectionPool& pool, std::string_view eventId, std::string_view userId) {
  const bool withUser = !userId.empty() && support::Uuid::parse(userId).has_value();
  return detail::withConnection(
      pool, "get_participant_event", [&](pqxx::connection_base& conn) -> Result<UpcomingEvent> {
        pqxx::read_transaction tx{conn};
        const auto rows = tx.exec_params(
            std::string{"SELECT "} + kEventColumns + kParticipantEventColumns + "FROM events e WHERE e.id = $3",
            withUser, userParam(withUser, userId), std::string{eventId});
        if (rows.empty()) return make_error_code(Errc::event_not_found);
        return readParticipantEvent(rows[0]);
      });
}

Result<std::vector<support::Uuid>> roster(ConnectionPool& pool, std::string_view eventId) {
  return detail::withConnection(pool, "roster", [&](pqxx::connection_base& conn) -> Result<std::vector<support::Uuid>> {
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

namespace {

void appendOptionalTime(std::string& out, const std::optional<std::chrono::system_clock::time_point>& t) {
  if (t) {
    support::appendJsonString(out, formatIsoUtc(*t));
  } else {
    out += "null";
  }
}

// The members every event list shares; the caller closes the object.
void appendEventMembers(std::string& out, std::string_view id, std::string_view name, std::string_view venue,
                        const std::optional<std::chrono::system_clock::time_point>& startsAt,
                        const std::optional<std::chrono::system_clock::time_point>& endsAt) {
  out += "{\"id\":";
  support::appendJsonString(out, id);
  out += ",\"name\":";
  support::appendJsonString(out, name);
  out += ",\"venue\":";
  support::appendJsonString(out, venue);
  out += ",\"startsAt\":";
  appendOptionalTime(out, startsAt);
  out += ",\"endsAt\":";
  appendOptionalTime(out, endsAt);
}

template <class List, class AppendOne>
std::string renderList(const List& list, AppendOne appendOne) {
  std::string out = "{\"events\":[";
  out.reserve(out.size() + list.size() * 160);
  bool first = true;
  for (const auto& item : list) {
    if (!first) out += ',';
    first = false;
    appendOne(out, item);
  }
  out += "]}";
  return out;
}

}  // namespace

void appendEventJson(std::string& out, const Event& event, std::string_view extraMembers) {
  appendEventMembers(out, event.id, event.name, event.venue, event.startsAt, event.endsAt);
  out += extraMembers;
  out += ",\"capacity\":";
  out += event.capacity ? std::to_string(*event.capacity) : std::string{"null"};
  out += ",\"registrationClosesAt\":";
  appendOptionalTime(out, registrationDeadline(event));
  out += '}';
}

std::string renderEventsJson(const std::vector<UpcomingEvent>& events, bool withRegistered,
                             std::chrono::system_clock::time_point now) {
  return renderList(events, [withRegistered, now](std::string& out, const UpcomingEvent& e) {
    std::string extra =
        fmt::format(",\"seatsLeft\":{},\"waitlisted\":{},\"registrationOpen\":{}",
                    e.event.capacity ? std::to_string(std::max<std::int64_t>(0, *e.event.capacity - e.registeredCount))
                                     : std::string{"null"},
                    e.waitlistCount, registrationOpen(e.event, now) ? "true" : "false");
    if (withRegistered) {
      extra += fmt::format(",\"registered\":{},\"status\":{},\"waitlistPosition\":{}", e.registered ? "true" : "false",
                           e.status == RegistrationStatus::registered   ? "\"registered\""
                           : e.status == RegistrationStatus::waitlisted ? "\"waitlisted\""
                                                                        : "null",
                           e.waitlistPosition > 0 ? std::to_string(e.waitlistPosition) : std::string{"null"});
    }
    appendEventJson(out, e.event, extra);
  });
}

std::string renderEventsJson(const std::vector<EventSummary>& events) {
  return renderList(events, [](std::string& out, const EventSummary& e) {
    appendEventMembers(out, e.id, e.name, e.venue, e.startsAt, e.endsAt);
    out += fmt::format(",\"registered\":{},\"attended\":{},\"synced\":{}}}", e.registered, e.attended,
                       e.synced ? "true" : "false");
  });
}

}  // namespace attendance::core
