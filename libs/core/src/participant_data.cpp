#include <attendance/core/participant_data.hpp>
#include <attendance/core/login_limits.hpp>

#include <attendance/core/report.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/uuid.hpp>

#include "db_util.hpp"
#include "event_row.hpp"
#include "secrets.hpp"
#include "waitlist.hpp"

namespace attendance::core {
namespace {

using detail::kEventColumnCount;
using detail::kEventColumns;
using detail::readEvent;

// Every bleUuid the user has had: the current one and the retired ones.
constexpr const char* kUserBleUuids =
    "(SELECT ble_uuid FROM users WHERE id = $1::uuid "
    "UNION ALL SELECT ble_uuid FROM retired_ble_uuids WHERE user_id = $1::uuid)";

void appendTime(std::string& out, std::int64_t ms) { support::appendJsonString(out, formatIsoUtc(detail::fromMs(ms))); }

void appendOptionalTime(std::string& out, const pqxx::field& f) {
  if (f.is_null()) {
    out += "null";
  } else {
    appendTime(out, f.as<std::int64_t>());
  }
}

}  // namespace

Result<std::vector<MyEvent>> listMyEvents(ConnectionPool& pool, std::string_view userId) {
  if (!support::Uuid::parse(userId)) return make_error_code(Errc::user_not_found);
  return detail::withConnection(
      pool, "list_my_events", [&](pqxx::connection_base& conn) -> Result<std::vector<MyEvent>> {
        pqxx::read_transaction tx{conn};
        const auto rows = tx.exec_params(
            std::string{"SELECT "} + kEventColumns + ", " + ATTENDANCE_SQL_MS("r.created_at") +
                ", EXISTS (SELECT 1 FROM sync_receipts s WHERE s.event_id = e.id), "
                "(SELECT min(c.check_in_time) FROM check_ins c WHERE c.event_id = e.id AND c.ble_uuid IN " +
                kUserBleUuids + "), o.action, " + ATTENDANCE_SQL_MS("o.at") +
                " FROM registrations r JOIN events e ON e.id = r.event_id "
                // The latest override (by at, id), as the report takes it.
                "LEFT JOIN LATERAL (SELECT action, at FROM check_in_overrides x WHERE x.event_id = e.id "
                "AND x.user_id = r.user_id ORDER BY x.at DESC, x.id DESC LIMIT 1) o ON true "
                "WHERE r.user_id = $1::uuid ORDER BY e.starts_at NULLS LAST, e.id",
            std::string{userId});
        std::vector<MyEvent> out;
        out.reserve(rows.size());
        for (const auto& row : rows) {
          MyEvent m;
          m.event = readEvent(row);
          m.registeredAt = detail::fromMs(row[kEventColumnCount + 0].as<std::int64_t>());
          m.synced = row[kEventColumnCount + 1].as<bool>();
          if (!row[kEventColumnCount + 2].is_null())
            m.checkedInAt = detail::fromMs(row[kEventColumnCount + 2].as<std::int64_t>());
          if (!row[kEventColumnCount + 3].is_null()) {
            m.revoked = row[kEventColumnCount + 3].as<std::string>() == "revoke";
            m.manual = !m.revoked;
            if (m.revoked) m.checkedInAt.reset();
            if (m.manual && !m.checkedInAt)
              m.checkedInAt = detail::fromMs(row[kEventColumnCount + 4].as<std::int64_t>());
          }
          out.push_back(std::move(m));
        }
        return out;
      });
}

Result<std::string> exportParticipantJson(ConnectionPool& pool, std::string_view userId,
                                          std::chrono::system_clock::time_point now) {
  if (!support::Uuid::parse(userId)) return make_error_code(Errc::user_not_found);
  return detail::withConnection(pool, "export_participant", [&](pqxx::connection_base& conn) -> Result<std::string> {
    // One snapshot: every part of the export is from the same moment.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
    const std::string id{userId};
    const auto user = tx.exec_params(
        "SELECT id::text, email, display_name, ble_uuid::text, disabled, password_hash IS NOT NULL, " ATTENDANCE_SQL_MS(
            "created_at") " FROM users WHERE id = $1::uuid",
        id);
    if (user.empty()) return make_error_code(Errc::user_not_found);
    const auto& u = user[0];
    std::string out = "{\"exportedAt\":";
    appendTime(out, detail::toMs(now));
    out += ",\"account\":{\"userId\":";
    support::appendJsonString(out, u[0].as<std::string>());
    out += ",\"email\":";
    support::appendJsonString(out, u[1].as<std::string>());
    out += ",\"displayName\":";
    support::appendJsonString(out, u[2].as<std::string>());
    out += ",\"bleUuid\":";
    support::appendJsonString(out, u[3].as<std::string>());
    out += u[4].as<bool>() ? ",\"disabled\":true" : ",\"disabled\":false";
    out += u[5].as<bool>() ? ",\"hasPassword\":true" : ",\"hasPassword\":false";
    out += ",\"createdAt\":";
    appendTime(out, u[6].as<std::int64_t>());
    out += "},\"retiredBleUuids\":[";
    const auto retired = tx.exec_params("SELECT ble_uuid::text, " ATTENDANCE_SQL_MS(
                                            "retired_at") " FROM retired_ble_uuids WHERE user_id = $1::uuid "
                                                          "ORDER BY retired_at, ble_uuid",
                                        id);
    for (std::size_t i = 0; i < retired.size(); ++i) {
      out += i == 0 ? "{\"bleUuid\":" : ",{\"bleUuid\":";
      support::appendJsonString(out, retired[i][0].as<std::string>());
      out += ",\"retiredAt\":";
      appendTime(out, retired[i][1].as<std::int64_t>());
      out += "}";
    }
    out += "],\"registrations\":[";
    const auto regs = tx.exec_params(
        "SELECT e.id, e.name, " ATTENDANCE_SQL_MS("r.created_at") " FROM registrations r JOIN events e ON e.id = "
                                                                  "r.event_id WHERE r.user_id = $1::uuid "
                                                                  "ORDER BY r.created_at, e.id",
        id);
    for (std::size_t i = 0; i < regs.size(); ++i) {
      out += i == 0 ? "{\"eventId\":" : ",{\"eventId\":";
      support::appendJsonString(out, regs[i][0].as<std::string>());
      out += ",\"eventName\":";
      support::appendJsonString(out, regs[i][1].as<std::string>());
      out += ",\"registeredAt\":";
      appendTime(out, regs[i][2].as<std::int64_t>());
      out += "}";
    }
    // Waitlist places (issue 12, migration 0011), with the position at export time.
    out += "],\"waitlist\":[";
    const auto waits = tx.exec_params(
        "SELECT e.id, e.name, " ATTENDANCE_SQL_MS("w.joined_at") ", "
        "(SELECT count(*) FROM waitlist o WHERE o.event_id = w.event_id AND o.seq <= w.seq) "
        "FROM waitlist w JOIN events e ON e.id = w.event_id WHERE w.user_id = $1::uuid ORDER BY w.joined_at, e.id",
        id);
    for (std::size_t i = 0; i < waits.size(); ++i) {
      out += i == 0 ? "{\"eventId\":" : ",{\"eventId\":";
      support::appendJsonString(out, waits[i][0].as<std::string>());
      out += ",\"eventName\":";
      support::appendJsonString(out, waits[i][1].as<std::string>());
      out += ",\"joinedAt\":";
      appendTime(out, waits[i][2].as<std::int64_t>());
      out += ",\"position\":" + std::to_string(waits[i][3].as<std::int64_t>()) + "}";
    }
    out += "],\"checkIns\":[";
    const auto checkIns =
        tx.exec_params(std::string{"SELECT c.event_id, c.ble_uuid::text, c.check_in_time, c.scanner_id, "} +
                           ATTENDANCE_SQL_MS("s.received_at") +
                           " FROM check_ins c LEFT JOIN sync_receipts s ON s.id = c.receipt_id "
                           "WHERE c.ble_uuid IN " +
                           kUserBleUuids + " ORDER BY c.check_in_time, c.event_id, c.scanner_id",
                       id);
    for (std::size_t i = 0; i < checkIns.size(); ++i) {
      out += i == 0 ? "{\"eventId\":" : ",{\"eventId\":";
      support::appendJsonString(out, checkIns[i][0].as<std::string>());
      out += ",\"bleUuid\":";
      support::appendJsonString(out, checkIns[i][1].as<std::string>());
      out += ",\"checkInTime\":";
      appendTime(out, checkIns[i][2].as<std::int64_t>());
      out += ",\"scannerId\":";
      support::appendJsonString(out, checkIns[i][3].as<std::string>());
      out += ",\"syncedAt\":";
      appendOptionalTime(out, checkIns[i][4]);
      out += "}";
    }
    out += "],\"checkInOverrides\":[";
    const auto overrides =
        tx.exec_params("SELECT o.event_id, o.action, o.admin_email, o.reason, " ATTENDANCE_SQL_MS(
                           "o.at") " FROM check_in_overrides o WHERE o.user_id = $1::uuid ORDER BY o.at, o.id",
                       id);
    for (std::size_t i = 0; i < overrides.size(); ++i) {
      out += i == 0 ? "{\"eventId\":" : ",{\"eventId\":";
      support::appendJsonString(out, overrides[i][0].as<std::string>());
      out += ",\"action\":";
      support::appendJsonString(out, overrides[i][1].as<std::string>());
      out += ",\"at\":";
      appendTime(out, overrides[i][4].as<std::int64_t>());
      out += ",\"by\":";
      support::appendJsonString(out, overrides[i][2].as<std::string>());
      out += ",\"reason\":";
      support::appendJsonString(out, overrides[i][3].as<std::string>());
      out += "}";
    }
    out += "],\"sessions\":[";
    const auto sessions =
        tx.exec_params("SELECT " ATTENDANCE_SQL_MS("created_at") ", " ATTENDANCE_SQL_MS(
                           "expires_at") " FROM participant_sessions WHERE user_id = $1::uuid ORDER BY created_at",
                       id);
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      out += i == 0 ? "{\"createdAt\":" : ",{\"createdAt\":";
      appendTime(out, sessions[i][0].as<std::int64_t>());
      out += ",\"expiresAt\":";
      appendTime(out, sessions[i][1].as<std::int64_t>());
      out += "}";
    }
    out += "],\"signInAttempts\":[";
    const auto attempts = tx.exec_params(
        "SELECT address, succeeded, " ATTENDANCE_SQL_MS(
            "attempted_at") " FROM participant_login_attempts WHERE email = lower($1) ORDER BY attempted_at, id",
        u[1].as<std::string>());
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      out += i == 0 ? "{\"attemptedAt\":" : ",{\"attemptedAt\":";
      appendTime(out, attempts[i][2].as<std::int64_t>());
      out += ",\"address\":";
      support::appendJsonString(out, attempts[i][0].as<std::string>());
      out += attempts[i][1].as<bool>() ? ",\"succeeded\":true}" : ",\"succeeded\":false}";
    }
    out += "]}";
    return out;
  });
}

Result<Deletion> deleteParticipant(ConnectionPool& pool, std::string_view userId, std::string_view password,
                                   std::string_view address, const AuthConfig& auth,
                                   std::chrono::system_clock::time_point now) {
  if (!support::Uuid::parse(userId)) return make_error_code(Errc::user_not_found);
  const std::string id{userId};
  struct Account {
    std::string email;
    std::string hash;
  };
  auto account = detail::withConnection(pool, "find_password", [&](pqxx::connection_base& conn) -> Result<Account> {
    pqxx::read_transaction tx{conn};
    const auto rows = tx.exec_params("SELECT email, password_hash FROM users WHERE id = $1::uuid", id);
    if (rows.empty()) return make_error_code(Errc::user_not_found);
    return Account{rows[0][0].as<std::string>(), rows[0][1].is_null() ? std::string{} : rows[0][1].as<std::string>()};
  });
  if (!account) return account.error();
  auto wait = loginRetryAfter(pool, LoginRealm::participants, account->email, address, auth.loginLimits, now);
  if (!wait) return wait.error();
  if (*wait) return Deletion{*wait};
  // The slow check holds no connection.
  if (account->hash.empty() || !detail::verifyPassword(account->hash, password)) {
    if (auto recorded = recordLoginAttempt(pool, LoginRealm::participants, account->email, address, false, now);
        !recorded) {
      return recorded.error();
    }
    return make_error_code(Errc::unauthorized);
  }
  auto erased = detail::withConnection(pool, "delete_participant", [&](pqxx::connection_base& conn) -> Result<void> {
    pqxx::work tx{conn};
    // Their check-ins stay (ADR 0069); every bleUuid they had is remembered as erased, so reports count
    // those sightings as one anonymous number and show none of the ids (migration 0012, ADR 0076).
    tx.exec_params(
        "INSERT INTO erased_ble_uuids (ble_uuid) SELECT ble_uuid FROM users WHERE id = $1::uuid "
        "UNION SELECT ble_uuid FROM retired_ble_uuids WHERE user_id = $1::uuid ON CONFLICT DO NOTHING",
        id);
    detail::releaseSeatsOf(tx, id);  // their seats go to the waitlists (issue 12)
    const auto deleted = tx.exec_params("DELETE FROM users WHERE id = $1::uuid RETURNING lower(email)", id);
    if (deleted.empty()) return make_error_code(Errc::user_not_found);
    // Registrations, sessions and retired bleUuids go by ON DELETE CASCADE; the
    // attempts are keyed by the email, not the id.
    tx.exec_params("DELETE FROM participant_login_attempts WHERE email = $1", deleted[0][0].as<std::string>());
    tx.commit();
    return {};
  });
  if (!erased) return erased.error();
  return Deletion{};
}

std::string participantCsrfToken(std::string_view sessionToken) {
  std::string input = "attendance participant csrf\n";
  input += sessionToken;
  return detail::sha256Hex(input);
}

}  // namespace attendance::core
