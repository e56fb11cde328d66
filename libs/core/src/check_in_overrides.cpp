#include <attendance/core/check_in_overrides.hpp>
#include <attendance/support/utf8.hpp>

#include "db_util.hpp"

#include <fmt/format.h>

namespace attendance::core {
namespace {

std::string_view trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

constexpr const char* kSelectOverrides =
    "SELECT o.id, o.user_id, u.display_name, u.email, o.action, o.admin_email, o.reason, " ATTENDANCE_SQL_MS(
        "o.at") " FROM check_in_overrides o JOIN users u ON u.id = o.user_id ";

OverrideEntry toEntry(const pqxx::row& row) {
  OverrideEntry o;
  o.id = row[0].as<std::int64_t>();
  o.userId = row[1].as<std::string>();
  o.displayName = row[2].as<std::string>();
  o.email = row[3].as<std::string>();
  o.action = row[4].as<std::string>() == "revoke" ? OverrideAction::revoke : OverrideAction::check_in;
  o.adminEmail = row[5].as<std::string>();
  o.reason = row[6].as<std::string>();
  o.at = detail::fromMs(row[7].as<std::int64_t>());
  return o;
}

}  // namespace

std::optional<std::string> validateOverrideReason(std::string_view reason) {
  if (!support::isValidUtf8(reason)) return "The reason is not valid UTF-8 text.";
  const auto text = trimmed(reason);
  if (text.empty()) return "Give a reason (it is kept in the audit trail).";
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); i += support::utf8SequenceLength(text, i)) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return "The reason must be one line of text.";
    ++chars;
  }
  if (chars > kMaxOverrideReasonChars) {
    return fmt::format("The reason must be at most {} characters.", kMaxOverrideReasonChars);
  }
  return std::nullopt;
}

Result<OverrideEntry> recordOverride(ConnectionPool& pool, const NewOverride& o, TimePoint now) {
  if (validateOverrideReason(o.reason)) return detail::failure<OverrideEntry>(make_error_code(Errc::invalid_argument));
  if (o.adminEmail.empty() || o.adminEmail.size() > 254 || !support::isValidUtf8(o.adminEmail) ||
      !support::isValidUtf8(o.participantEmail) || !support::isValidUtf8(o.eventId)) {
    return detail::failure<OverrideEntry>(make_error_code(Errc::invalid_argument));
  }
  return detail::withConnection(pool, "record_override", [&](pqxx::connection_base& conn) -> Result<OverrideEntry> {
    pqxx::work tx{conn};
    // The event row serializes overrides of one event (the version trigger takes
    // the same lock), so two door staff cannot both check one person in.
    if (tx.exec_params("SELECT 1 FROM events WHERE id = $1 FOR NO KEY UPDATE", o.eventId).empty()) {
      return detail::failure<OverrideEntry>(make_error_code(Errc::event_not_found));
    }
    const auto user = tx.exec_params("SELECT id FROM users WHERE lower(email) = lower($1)", o.participantEmail);
    if (user.empty()) return detail::failure<OverrideEntry>(make_error_code(Errc::user_not_found));
    const std::string userId = user[0][0].as<std::string>();
    // Checked in now = the latest override's action, or without one whether a
    // scanner saw any of the person's bleUuids (current or retired) at this event.
    const auto state = tx.exec_params1(
        "SELECT (SELECT action FROM check_in_overrides WHERE event_id = $1 AND user_id = $2 "
        "        ORDER BY at DESC, id DESC LIMIT 1), "
        "       EXISTS (SELECT 1 FROM check_ins c WHERE c.event_id = $1 AND c.ble_uuid IN "
        "         (SELECT ble_uuid FROM users WHERE id = $2 UNION ALL "
        "          SELECT ble_uuid FROM retired_ble_uuids WHERE user_id = $2))",
        o.eventId, userId);
    const bool checkedIn = state[0].is_null() ? state[1].as<bool>() : state[0].as<std::string>() == "check_in";
    if (checkedIn == (o.action == OverrideAction::check_in)) {
      return detail::failure<OverrideEntry>(make_error_code(Errc::conflict));
    }
    const auto id = tx.exec_params1(
                          "INSERT INTO check_in_overrides (event_id, user_id, action, admin_email, reason, at) "
                          "VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint / 1000.0)) RETURNING id",
                          o.eventId, userId, std::string{toString(o.action)}, o.adminEmail,
                          std::string{trimmed(o.reason)}, detail::toMs(now))[0]
                        .as<std::int64_t>();
    auto entry = toEntry(tx.exec_params1(std::string{kSelectOverrides} + "WHERE o.id = $1", id));
    tx.commit();
    return entry;
  });
}

Result<std::vector<OverrideEntry>> listOverrides(ConnectionPool& pool, std::string_view eventId) {
  return detail::withConnection(
      pool, "list_overrides", [&](pqxx::connection_base& conn) -> Result<std::vector<OverrideEntry>> {
        pqxx::read_transaction tx{conn};
        const std::string id{eventId};
        if (tx.exec_params("SELECT 1 FROM events WHERE id = $1", id).empty()) {
          return detail::failure<std::vector<OverrideEntry>>(make_error_code(Errc::event_not_found));
        }
        std::vector<OverrideEntry> out;
        for (const auto& row :
             tx.exec_params(std::string{kSelectOverrides} + "WHERE o.event_id = $1 ORDER BY o.at, o.id", id)) {
          out.push_back(toEntry(row));
        }
        return out;
      });
}

}  // namespace attendance::core
