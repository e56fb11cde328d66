#include "data.hpp"

#include "db.hpp"

namespace attendance::admin_web::data {

namespace {

std::optional<TimePoint> optTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return db::fromMs(f.as<std::int64_t>());
}

// libpqxx 6.4 has no std::optional parameters: a null `const char*` is SQL NULL.
struct OptMs {
  explicit OptMs(const std::optional<TimePoint>& t) : null(!t), text(t ? std::to_string(db::toMs(*t)) : "") {}
  [[nodiscard]] const char* get() const { return null ? nullptr : text.c_str(); }
  bool null;
  std::string text;
};

// LIKE pattern for a substring search, with the wildcards of the input escaped.
std::string likePattern(std::string_view search) {
  std::string p = "%";
  for (char c : search) {
    if (c == '%' || c == '_' || c == '\\') p += '\\';
    p += c;
  }
  p += '%';
  return p;
}

Person personFrom(const pqxx::row& r) {
  Person p;
  p.id = r[0].as<std::string>();
  p.email = r[1].as<std::string>();
  p.displayName = r[2].as<std::string>();
  p.bleUuid = r[3].as<std::string>();
  p.disabled = r[4].as<bool>();
  return p;
}

}  // namespace

Result<std::vector<EventSummary>> listEventSummaries(core::ConnectionPool& pool) {
  return db::with(pool, "list_event_summaries", [&](pqxx::connection_base& c) -> Result<std::vector<EventSummary>> {
    pqxx::read_transaction tx{c};
    // Set-based: per-row EXISTS with "current OR retired bleUuid" cannot use the
    // check_ins index and took minutes at 50,000 registrations x 200,000 check-ins.
    // Attended = a registered user seen under their current or a retired bleUuid.
    const auto rows = tx.exec(
        "WITH seen AS (SELECT DISTINCT event_id, ble_uuid FROM check_ins), "
        "owners AS (SELECT id AS user_id, ble_uuid FROM users "
        "           UNION ALL SELECT user_id, ble_uuid FROM retired_ble_uuids), "
        "attended AS (SELECT r.event_id, count(DISTINCT r.user_id) AS n FROM registrations r "
        "             JOIN owners o ON o.user_id = r.user_id "
        "             JOIN seen s ON s.event_id = r.event_id AND s.ble_uuid = o.ble_uuid GROUP BY r.event_id), "
        "regs AS (SELECT event_id, count(*) AS n FROM registrations GROUP BY event_id) "
        "SELECT e.id, e.name, e.venue, (extract(epoch from e.starts_at) * 1000)::bigint, "
        "       (extract(epoch from e.ends_at) * 1000)::bigint, coalesce(regs.n, 0), coalesce(attended.n, 0), "
        "       EXISTS (SELECT 1 FROM sync_receipts sr WHERE sr.event_id = e.id) "
        "FROM events e LEFT JOIN regs ON regs.event_id = e.id LEFT JOIN attended ON attended.event_id = e.id "
        "ORDER BY e.starts_at DESC NULLS LAST, e.created_at DESC");
    std::vector<EventSummary> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
      EventSummary s;
      s.id = r[0].as<std::string>();
      s.name = r[1].as<std::string>();
      s.venue = r[2].as<std::string>();
      s.startsAt = optTime(r[3]);
      s.endsAt = optTime(r[4]);
      s.registered = r[5].as<std::int64_t>();
      s.attended = r[6].as<std::int64_t>();
      s.synced = r[7].as<bool>();
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<void> updateEvent(core::ConnectionPool& pool, std::string_view id, const EventEdit& edit) {
  if (edit.name.empty() || edit.name.size() > 200) return core::make_error_code(core::Errc::invalid_argument);
  if (edit.startsAt && edit.endsAt && *edit.endsAt < *edit.startsAt) {
    return core::make_error_code(core::Errc::invalid_argument);
  }
  return db::with(pool, "update_event", [&](pqxx::connection_base& c) -> Result<void> {
    pqxx::work tx{c};
    const auto r = tx.exec_params(
        "UPDATE events SET name = $2, venue = $3, "
        "  starts_at = to_timestamp($4::bigint / 1000.0), ends_at = to_timestamp($5::bigint / 1000.0) "
        "WHERE id = $1",
        std::string(id), edit.name, edit.venue, OptMs(edit.startsAt).get(), OptMs(edit.endsAt).get());
    if (r.affected_rows() == 0) throw db::Failure{core::Errc::event_not_found};
    tx.commit();
    return {};
  });
}

Result<int> hasCheckIns(core::ConnectionPool& pool, std::string_view eventId) {
  return db::with(pool, "has_check_ins", [&](pqxx::connection_base& c) -> Result<int> {
    pqxx::read_transaction tx{c};
    return tx.exec_params1("SELECT count(*) FROM (SELECT 1 FROM check_ins WHERE event_id = $1 LIMIT 1) x",
                           std::string(eventId))[0]
        .as<int>();
  });
}

Result<void> deleteEvent(core::ConnectionPool& pool, std::string_view id, bool force) {
  return db::with(pool, "delete_event", [&](pqxx::connection_base& c) -> Result<void> {
    pqxx::work tx{c};
    const std::string eventId(id);
    // Lock the event so a sync cannot add check-ins between the count and the delete.
    if (tx.exec_params("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", eventId).empty()) {
      throw db::Failure{core::Errc::event_not_found};
    }
    const auto n = tx.exec_params1("SELECT count(*) FROM check_ins WHERE event_id = $1", eventId)[0].as<std::int64_t>();
    if (n > 0 && !force) throw db::Failure{core::Errc::conflict};
    // check_ins has no foreign key (core ADR 0031): delete them explicitly.
    tx.exec_params("DELETE FROM check_ins WHERE event_id = $1", eventId);
    tx.exec_params("DELETE FROM events WHERE id = $1", eventId);
    tx.commit();
    return {};
  });
}

Result<Page> listParticipants(core::ConnectionPool& pool, std::string_view search, std::int64_t offset,
                              std::int64_t limit) {
  return db::with(pool, "list_participants", [&](pqxx::connection_base& c) -> Result<Page> {
    pqxx::read_transaction tx{c};
    const std::string pattern = likePattern(search);
    Page page;
    // `$2` (all) is known when the statement is planned, so an empty search costs no ILIKE.
    const bool all = search.empty();
    page.total = tx.exec_params1("SELECT count(*) FROM users WHERE $2 OR display_name ILIKE $1 OR email ILIKE $1",
                                 pattern, all)[0]
                     .as<std::int64_t>();
    const auto rows = tx.exec_params(
        "SELECT id::text, email, display_name, ble_uuid::text, disabled FROM users "
        "WHERE $2 OR display_name ILIKE $1 OR email ILIKE $1 ORDER BY lower(display_name), lower(email) "
        "OFFSET $3 LIMIT $4",
        pattern, all, offset, limit);
    for (const auto& r : rows) page.rows.push_back(personFrom(r));
    return page;
  });
}

Result<Page> listRegistrations(core::ConnectionPool& pool, std::string_view eventId, std::string_view search,
                               std::int64_t offset, std::int64_t limit) {
  return db::with(pool, "list_registrations", [&](pqxx::connection_base& c) -> Result<Page> {
    pqxx::read_transaction tx{c};
    const std::string pattern = likePattern(search);
    const std::string id(eventId);
    Page page;
    const bool all = search.empty();
    page.total = all ? tx.exec_params1("SELECT count(*) FROM registrations WHERE event_id = $1", id)[0].as<std::int64_t>()
                     : tx.exec_params1(
                             "SELECT count(*) FROM registrations r JOIN users u ON u.id = r.user_id "
                             "WHERE r.event_id = $1 AND (u.display_name ILIKE $2 OR u.email ILIKE $2)",
                             id, pattern)[0]
                           .as<std::int64_t>();
    const auto rows = tx.exec_params(
        "SELECT u.id::text, u.email, u.display_name, u.ble_uuid::text, u.disabled, "
        "       (extract(epoch from r.created_at) * 1000)::bigint "
        "FROM registrations r JOIN users u ON u.id = r.user_id "
        "WHERE r.event_id = $1 AND ($5 OR u.display_name ILIKE $2 OR u.email ILIKE $2) "
        "ORDER BY lower(u.display_name), lower(u.email) OFFSET $3 LIMIT $4",
        id, pattern, offset, limit, all);
    for (const auto& r : rows) {
      Person p = personFrom(r);
      p.registeredAt = optTime(r[5]);
      page.rows.push_back(std::move(p));
    }
    return page;
  });
}

Result<std::string> userIdByEmail(core::ConnectionPool& pool, std::string_view email) {
  return db::with(pool, "user_by_email", [&](pqxx::connection_base& c) -> Result<std::string> {
    pqxx::read_transaction tx{c};
    const auto rows = tx.exec_params("SELECT id::text FROM users WHERE lower(email) = lower($1)", std::string(email));
    if (rows.empty()) throw db::Failure{core::Errc::user_not_found};
    return rows[0][0].as<std::string>();
  });
}

Result<void> setUserDisabled(core::ConnectionPool& pool, std::string_view userId, bool disabled) {
  return db::with(pool, "set_user_disabled", [&](pqxx::connection_base& c) -> Result<void> {
    pqxx::work tx{c};
    const auto r = tx.exec_params("UPDATE users SET disabled = $2 WHERE id::text = $1", std::string(userId), disabled);
    if (r.affected_rows() == 0) throw db::Failure{core::Errc::user_not_found};
    // A disabled participant's sessions end now.
    if (disabled) tx.exec_params("DELETE FROM participant_sessions WHERE user_id::text = $1", std::string(userId));
    tx.commit();
    return {};
  });
}

}  // namespace attendance::admin_web::data
