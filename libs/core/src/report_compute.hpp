#pragma once

// The pure half of the report: rows from the database in, numbers out.
#include <attendance/core/report.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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
  std::vector<support::Uuid> erased;  // bleUuids of deleted participants among the sightings

  struct Seen {
    support::Uuid bleUuid;
    std::int64_t firstMs = 0;
    std::int64_t lastMs = 0;
    std::int64_t count = 0;
    std::vector<std::string> scanners;  // any order, may repeat
  };
  std::vector<Seen> seen;  // one per distinct bleUuid in check_ins

  std::vector<ScannerRow> scanners;

  // Every override of the event, oldest first (migration 0010). Their people
  // are also in `people` (unregistered ones added by buildReport).
  std::vector<OverrideEntry> overrides;
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
    "SELECT scanner_id, (extract(epoch from max(received_at)) * 1000)::bigint, count(*), coalesce(sum(received), 0), "
    "coalesce(sum(duplicates), 0), coalesce(sum(rejected), 0) FROM sync_receipts WHERE event_id = $1 GROUP BY "
    "scanner_id";
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
    "      UNION ALL SELECT ble_uuid, user_id FROM retired_ble_uuids WHERE ble_uuid = ANY($2::uuid[]) "
    "      UNION ALL SELECT ble_uuid, NULL FROM erased_ble_uuids WHERE ble_uuid = ANY($2::uuid[])) o "
    "LEFT JOIN users u ON u.id = o.user_id";
// The event's manual check-ins and revocations with their participant, oldest
// first (migration 0010): id, user id, name, email, current bleUuid, registered,
// action, admin, reason, at (ms).
inline constexpr const char* kReportOverridesSql =
    "SELECT o.id, o.user_id, u.display_name, u.email, u.ble_uuid, "
    "       EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = $1 AND r.user_id = o.user_id), "
    "       o.action, o.admin_email, o.reason, (extract(epoch from o.at) * 1000)::bigint "
    "FROM check_in_overrides o JOIN users u ON u.id = o.user_id WHERE o.event_id = $1 ORDER BY o.at, o.id";
// The receipts a report's snapshot saw (ids commit out of order: the set, not a maximum).
inline constexpr const char* kReportReceiptIdsSql = "SELECT id FROM sync_receipts WHERE event_id = $1 ORDER BY id";
// The incremental update's reads ($2 = a bigint[] of receipt ids the cached
// report has not seen): each receipt's id and stored rows, then only those
// receipts' check-ins per (bleUuid, scanner), through check_ins_event_receipt.
inline constexpr const char* kReportReceiptCountsSql =
    "SELECT id, inserted FROM sync_receipts WHERE event_id = $1 ORDER BY id";
inline constexpr const char* kReportNewSeenSql =
    "SELECT ble_uuid, scanner_id, min(check_in_time), max(check_in_time), count(*) FROM check_ins "
    "WHERE event_id = $1 AND receipt_id = ANY($2::bigint[]) GROUP BY ble_uuid, scanner_id";
inline constexpr const char* kReportExplainedQueries[] = {kReportVersionSql, kReportEventSql,      kReportReceiptsSql,
                                                          kReportSeenSql,    kReportRegisteredSql, kReportOwnersSql};

// Folds the event's new receipts into report_seen (see kReportFoldSql). True
// when it folded, false when another session was folding the event. Throws
// what libpqxx throws.
bool foldReportSummary(pqxx::connection_base& conn, const std::string& eventId);

// Takes the input by value: strings are moved into the report, not copied.
EventReport computeReport(ReportInput input, const ReportOptions& options);

// buildReport, also listing (sorted) the ids of the receipts its snapshot saw
// when receiptIds is not null.
Result<EventReport> buildReportTracked(ConnectionPool& pool, std::string_view eventId, TimePoint now,
                                       const ReportOptions& options, std::vector<std::int64_t>* receiptIds);

// The pieces of computeReport that the incremental update (report_incremental.cpp)
// applies again to an updated copy, so both paths follow the same rules.
// Adds one (bleUuid, scanner) aggregate to a row's sightings (scanners stay sorted and distinct).
void addSighting(Sightings& into, std::int64_t firstMs, std::int64_t lastMs, std::int64_t count,
                 std::string_view scanner);
// The participants' order: attended, walk-ins, no-shows; by name, then email
// (unique per user). <0, 0, >0.
int compareParticipants(const ParticipantRow& a, const ParticipantRow& b);
void sortScanners(std::vector<ScannerRow>& scanners);             // by scannerId
bool anySynced(const std::vector<ScannerRow>& scanners);          // EventReport::synced
void sortUnknownDevices(std::vector<UnknownDeviceRow>& unknown);  // by first seen, then bleUuid
void countTotals(EventReport& report);  // registered, attended, noShows, walkIns, unknownDevices, rate
// manualCheckIns and revoked, from report.audit (each participant's latest override).
void countOverrides(EventReport& report);
// Arrival buckets of `bucketWidth`, doubled until at most kMaxArrivalBuckets.
void computeArrivals(EventReport& report, std::chrono::minutes bucketWidth);
// The same buckets without touching the report; `width` is updated to the width used.
std::vector<ArrivalBucket> arrivalsOf(const EventReport& report, std::chrono::minutes& width);

// ---- Incremental update (report_incremental.cpp) ----
// What the database says about receipts a cached report has not seen, read in
// one snapshot in which only the receipt count moved.
struct ReceiptDelta {
  ReportVersion version;
  TimePoint now;
  std::vector<ScannerRow>
      receipts;  // per scanner over ALL receipts: scannerId, lastSyncAt, syncs, records received, resent, refused
  struct Seen {
    support::Uuid bleUuid;
    std::string scannerId;
    std::int64_t firstMs = 0;
    std::int64_t lastMs = 0;
    std::int64_t count = 0;
  };
  std::vector<Seen> seen;  // the new receipts' check-ins per (bleUuid, scanner)
};

// One row of kReportOwnersSql.
struct OwnerRow {
  support::Uuid bleUuid;  // the looked-up one (current or retired)
  std::string userId;
  std::string displayName;
  std::string email;
  support::Uuid currentBleUuid;
  bool registered = false;
  bool erased = false;  // a deleted participant's bleUuid (migration 0012): no user, only counted
};
// Called at most once, with the bleUuids that match no row of the report.
using OwnerLookup = std::function<std::vector<OwnerRow>(const std::vector<support::Uuid>&)>;

// The report `base` plus the delta, equal to what computeReport gives for the
// new snapshot when the event, its registrations, the users and the check-ins
// without a receipt did not change. std::nullopt when the data contradicts
// that (e.g. a registered owner without a row): the caller builds in full.
std::optional<EventReport> applyReceipts(const EventReport& base, ReceiptDelta delta, const OwnerLookup& lookupOwners,
                                         std::chrono::minutes bucketWidth);

struct UpdatedReport {
  EventReport report;
  std::vector<std::int64_t> receiptIds;  // sorted
};
// In one read-only REPEATABLE READ snapshot: when only the receipts moved since
// `base` (and the new receipts stored at most maxNewCheckIns rows), the
// updated report; std::nullopt when a full build is needed (or cheaper).
// Errc::event_not_found.
Result<std::optional<UpdatedReport>> updateReport(ConnectionPool& pool, const EventReport& base,
                                                  const std::vector<std::int64_t>& baseReceiptIds, TimePoint now,
                                                  std::chrono::minutes bucketWidth, std::int64_t maxNewCheckIns);

}  // namespace attendance::core::detail
