#pragma once

// The pure half of the report: rows from the database in, numbers out.
#include <attendance/attendance_core/report.hpp>

#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace attendance::core::detail {

struct ReportInput {
  Event event;
  ReportVersion version;
  TimePoint now;
  bool synced = false;

  struct Person {
    std::string userId;
    std::string displayName;
    std::string email;
    support::Uuid bleUuid;  // current: a person owns their current bleUuid without an Owner entry
    bool registered = false;
  };
  std::vector<Person> people;  // registered users and users seen (through any of their bleUuids)

  struct Owner {
    support::Uuid bleUuid;  // retired (or current; listing a current one again is harmless)
    std::string userId;
  };
  std::vector<Owner> owners;

  struct Seen {
    support::Uuid bleUuid;
    std::int64_t firstMs = 0;
    std::int64_t lastMs = 0;
    std::int64_t count = 0;
    std::vector<std::string> scanners;  // any order, may repeat
  };
  std::vector<Seen> seen;  // one per distinct bleUuid in check_ins

  std::vector<ScannerRow> scanners;
};

// At most this many arrival buckets; wider spans get wider buckets.
inline constexpr std::int64_t kMaxArrivalBuckets = 2000;

// The report's queries, in the order buildReport runs them ($1 = event id;
// the owners query also takes $2 = a uuid[] of the bleUuids left unmatched).
// Exposed for attendance-core-bench --explain.
inline constexpr const char* kReportEventSql =
    "SELECT e.id, e.name, e.venue, (extract(epoch from e.starts_at) * 1000)::bigint, "
    "(extract(epoch from e.ends_at) * 1000)::bigint, (extract(epoch from e.created_at) * 1000)::bigint "
    "FROM events e WHERE e.id = $1";
// The data version (migration 0003), read by readReportVersion on its own and
// by buildReport inside its snapshot. Index-only counts: sync_receipts_event and
// check_ins_event_receipt.
inline constexpr const char* kReportVersionSql =
    "SELECT e.report_version, (SELECT v.version FROM report_users_version v), "
    "(SELECT count(*) FROM sync_receipts s WHERE s.event_id = $1), "
    "(SELECT count(*) FROM check_ins c WHERE c.event_id = $1 AND c.receipt_id IS NULL) "
    "FROM events e WHERE e.id = $1";
inline constexpr const char* kReportReceiptsSql =
    "SELECT scanner_id, (extract(epoch from max(received_at)) * 1000)::bigint, count(*), coalesce(sum(received), 0) "
    "FROM sync_receipts WHERE event_id = $1 GROUP BY scanner_id";
// Check-ins per (bleUuid, scanner): the summary of the folded receipts
// (migration 0002), plus an aggregate of only the check-ins of receipts not
// folded yet and of rows without a receipt. Rows may repeat a (bleUuid,
// scanner) pair; buildReport merges them.
inline constexpr const char* kReportSeenSql =
    "SELECT ble_uuid, scanner_id, first_ms, last_ms, n FROM report_seen WHERE event_id = $1 "
    "UNION ALL "
    "SELECT ble_uuid, scanner_id, min(t), max(t), count(*) FROM ("
    "  SELECT ble_uuid, scanner_id, check_in_time AS t FROM check_ins WHERE event_id = $1 AND receipt_id IS NULL "
    "  UNION ALL "
    "  SELECT c.ble_uuid, c.scanner_id, c.check_in_time FROM sync_receipts s "
    "  JOIN check_ins c ON c.event_id = $1 AND c.receipt_id = s.id "
    "  WHERE s.event_id = $1 "
    "    AND NOT EXISTS (SELECT 1 FROM report_folded f WHERE f.event_id = $1 AND f.receipt_id = s.id)"
    ") d GROUP BY ble_uuid, scanner_id";
// Folding, in its own short READ COMMITTED transaction before the report's
// snapshot: one folder per event at a time (a busy lock means someone else is
// folding: skip, the report aggregates the rest itself). The lock is taken in
// its own statement so the fold's snapshot sees the previous folder's commit.
inline constexpr const char* kReportFoldLockSql =
    "SELECT pg_try_advisory_xact_lock(hashtext('attendance.report_fold'), hashtext($1))";
inline constexpr const char* kReportFoldSql =
    "WITH unfolded AS ("
    "  SELECT s.id FROM sync_receipts s WHERE s.event_id = $1 "
    "    AND NOT EXISTS (SELECT 1 FROM report_folded f WHERE f.event_id = $1 AND f.receipt_id = s.id)), "
    "marked AS (INSERT INTO report_folded (event_id, receipt_id) SELECT $1, id FROM unfolded RETURNING receipt_id), "
    "delta AS ("
    "  SELECT c.ble_uuid, c.scanner_id, min(c.check_in_time) AS f, max(c.check_in_time) AS l, count(*) AS n "
    "  FROM marked m JOIN check_ins c ON c.event_id = $1 AND c.receipt_id = m.receipt_id "
    "  GROUP BY c.ble_uuid, c.scanner_id) "
    "INSERT INTO report_seen (event_id, ble_uuid, scanner_id, first_ms, last_ms, n) "
    "SELECT $1, ble_uuid, scanner_id, f, l, n FROM delta ORDER BY ble_uuid, scanner_id "
    "ON CONFLICT (event_id, ble_uuid, scanner_id) DO UPDATE SET "
    "  first_ms = least(report_seen.first_ms, excluded.first_ms), "
    "  last_ms = greatest(report_seen.last_ms, excluded.last_ms), "
    "  n = report_seen.n + excluded.n";
inline constexpr const char* kReportRegisteredSql =
    "SELECT u.id, u.display_name, u.email, u.ble_uuid "
    "FROM registrations r JOIN users u ON u.id = r.user_id WHERE r.event_id = $1";
// Owners of the seen bleUuids that are no registered person's current one:
// walk-ins, retired bleUuids. (Unknown devices come back with no row.)
inline constexpr const char* kReportOwnersSql =
    "SELECT o.ble_uuid, u.id, u.display_name, u.email, u.ble_uuid, "
    "       EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = $1 AND r.user_id = u.id) "
    "FROM (SELECT ble_uuid, id AS user_id FROM users WHERE ble_uuid = ANY($2::uuid[]) "
    "      UNION ALL SELECT ble_uuid, user_id FROM retired_ble_uuids WHERE ble_uuid = ANY($2::uuid[])) o "
    "JOIN users u ON u.id = o.user_id";
inline constexpr const char* kReportExplainedQueries[] = {kReportVersionSql, kReportEventSql, kReportReceiptsSql,
                                                          kReportSeenSql, kReportRegisteredSql, kReportOwnersSql};

// Folds the event's new receipts into report_seen (see kReportFoldSql). True
// when it folded, false when another session was folding the event. Throws
// what libpqxx throws.
bool foldReportSummary(pqxx::connection_base& conn, const std::string& eventId);

// Takes the input by value: strings are moved into the report, not copied.
EventReport computeReport(ReportInput input, const ReportOptions& options);

}  // namespace attendance::core::detail
