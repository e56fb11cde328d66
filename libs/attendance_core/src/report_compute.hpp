#pragma once

// The pure half of the report: rows from the database in, numbers out.
#include <attendance/attendance_core/report.hpp>

#include <string>
#include <vector>

namespace attendance::core::detail {

struct ReportInput {
  Event event;
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
inline constexpr const char* kReportReceiptsSql =
    "SELECT scanner_id, (extract(epoch from max(received_at)) * 1000)::bigint, count(*), coalesce(sum(received), 0) "
    "FROM sync_receipts WHERE event_id = $1 GROUP BY scanner_id";
// One pass over the event's check-ins (the primary key's index leads with event_id).
inline constexpr const char* kReportSeenSql =
    "SELECT ble_uuid, scanner_id, min(check_in_time), max(check_in_time), count(*) "
    "FROM check_ins WHERE event_id = $1 GROUP BY ble_uuid, scanner_id";
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
inline constexpr const char* kReportExplainedQueries[] = {kReportEventSql, kReportReceiptsSql, kReportSeenSql,
                                                          kReportRegisteredSql, kReportOwnersSql};

// Takes the input by value: strings are moved into the report, not copied.
EventReport computeReport(ReportInput input, const ReportOptions& options);

}  // namespace attendance::core::detail
