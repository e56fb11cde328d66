#include <attendance/core/assignments.hpp>

#include "assignment_lock.hpp"
#include "db_util.hpp"

#include <fmt/format.h>

namespace attendance::core {
namespace detail {

std::optional<EventWindow> lockAssignedEvent(pqxx::transaction_base& tx, const std::string& scannerId,
                                             const std::string& eventId) {
  const auto rows = tx.exec_params(
      "SELECT " ATTENDANCE_SQL_MS("e.starts_at") ", " ATTENDANCE_SQL_MS("e.ends_at") ", e.private_ids, e.report_version "
      "FROM scanner_assignments a JOIN events e ON e.id = a.event_id "
      "WHERE a.scanner_id = $1 AND a.event_id = $2 FOR KEY SHARE",
      scannerId, eventId);
  if (rows.empty()) return std::nullopt;
  EventWindow w;
  if (!rows[0][0].is_null()) w.startsMs = rows[0][0].as<std::int64_t>();
  if (!rows[0][1].is_null()) w.endsMs = rows[0][1].as<std::int64_t>();
  w.privateIds = rows[0][2].as<bool>();
  w.reportVersion = rows[0][3].as<std::int64_t>();
  return w;
}

}  // namespace detail

namespace {

// Errc::scanner_not_found / Errc::event_not_found, or ok.
Errc checkBothExist(pqxx::transaction_base& tx, const std::string& scannerId, const std::string& eventId) {
  const auto row = tx.exec_params1(
      "SELECT EXISTS (SELECT 1 FROM scanners WHERE scanner_id = $1), EXISTS (SELECT 1 FROM events WHERE id = $2)",
      scannerId, eventId);
  if (!row[0].as<bool>()) return Errc::scanner_not_found;
  if (!row[1].as<bool>()) return Errc::event_not_found;
  return Errc::ok;
}

std::vector<ScannerAssignment> toAssignments(const pqxx::result& rows) {
  std::vector<ScannerAssignment> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), detail::fromMs(row[2].as<std::int64_t>())});
  }
  return out;
}

constexpr const char* kSelectAssignments =
    "SELECT scanner_id, event_id, " ATTENDANCE_SQL_MS("assigned_at") " FROM scanner_assignments ";

}  // namespace

Result<bool> assignScanner(ConnectionPool& pool, std::string_view scannerId, std::string_view eventId,
                           std::chrono::system_clock::time_point now) {
  return detail::withConnection(pool, "assign_scanner", [&](pqxx::connection_base& conn) -> Result<bool> {
    pqxx::work tx{conn};
    const std::string scanner{scannerId}, event{eventId};
    // The foreign keys would refuse a missing row too; this names which one.
    if (const Errc missing = checkBothExist(tx, scanner, event); missing != Errc::ok)
      return detail::failure<bool>(make_error_code(missing));
    const auto r = tx.exec_params(
        "INSERT INTO scanner_assignments (scanner_id, event_id, assigned_at) "
        "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0)) ON CONFLICT DO NOTHING",
        scanner, event, detail::toMs(now));
    tx.commit();
    return r.affected_rows() == 1;
  });
}

Result<bool> unassignScanner(ConnectionPool& pool, std::string_view scannerId, std::string_view eventId) {
  return detail::withConnection(pool, "unassign_scanner", [&](pqxx::connection_base& conn) -> Result<bool> {
    pqxx::work tx{conn};
    const std::string scanner{scannerId}, event{eventId};
    if (const Errc missing = checkBothExist(tx, scanner, event); missing != Errc::ok)
      return detail::failure<bool>(make_error_code(missing));
    const auto r =
        tx.exec_params("DELETE FROM scanner_assignments WHERE scanner_id = $1 AND event_id = $2", scanner, event);
    tx.commit();
    return r.affected_rows() == 1;
  });
}

Result<bool> isAssigned(ConnectionPool& pool, std::string_view scannerId, std::string_view eventId) {
  return detail::withConnection(pool, "is_assigned", [&](pqxx::connection_base& conn) -> Result<bool> {
    pqxx::read_transaction tx{conn};
    return !tx.exec_params("SELECT 1 FROM scanner_assignments WHERE scanner_id = $1 AND event_id = $2",
                           std::string{scannerId}, std::string{eventId})
                .empty();
  });
}

namespace {

// The assignments of one scanner or one event, after checking that it exists.
// `column` and `order` are fixed SQL of ours, never caller text.
Result<std::vector<ScannerAssignment>> listOne(ConnectionPool& pool, const char* operation, const char* existsSql,
                                               Errc missing, const char* column, const char* order,
                                               std::string_view key) {
  return detail::withConnection(
      pool, operation, [&](pqxx::connection_base& conn) -> Result<std::vector<ScannerAssignment>> {
        pqxx::read_transaction tx{conn};
        const std::string value{key};
        if (tx.exec_params(existsSql, value).empty()) return make_error_code(missing);
        return toAssignments(
            tx.exec_params(std::string{kSelectAssignments} + "WHERE " + column + " = $1 ORDER BY " + order, value));
      });
}

}  // namespace

Result<std::vector<ScannerAssignment>> listScannerEvents(ConnectionPool& pool, std::string_view scannerId) {
  return listOne(pool, "list_scanner_events", "SELECT 1 FROM scanners WHERE scanner_id = $1", Errc::scanner_not_found,
                 "scanner_id", "event_id", scannerId);
}

Result<std::vector<ScannerAssignment>> listEventScanners(ConnectionPool& pool, std::string_view eventId) {
  return listOne(pool, "list_event_scanners", "SELECT 1 FROM events WHERE id = $1", Errc::event_not_found, "event_id",
                 "scanner_id", eventId);
}

Result<std::vector<ScannerAssignment>> listAssignments(ConnectionPool& pool) {
  return detail::withConnection(
      pool, "list_assignments", [&](pqxx::connection_base& conn) -> Result<std::vector<ScannerAssignment>> {
        pqxx::read_transaction tx{conn};
        return toAssignments(tx.exec(std::string{kSelectAssignments} + "ORDER BY scanner_id, event_id"));
      });
}

std::string notAssignedMessage(std::string_view scannerId, std::string_view eventId) {
  return fmt::format(
      "scanner {0} is not assigned to event {1}; assign it with: attendance-admin scanner assign --id {0} "
      "--event {1}",
      scannerId, eventId);
}

}  // namespace attendance::core
