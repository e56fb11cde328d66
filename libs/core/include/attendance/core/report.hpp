#pragma once

#include <attendance/core/database.hpp>
#include <attendance/core/events.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The attendance report, computed once here for the CLI, the backend and the web UI.
namespace attendance::core {

using TimePoint = std::chrono::system_clock::time_point;

enum class ParticipantStatus { attended, no_show, walk_in };
[[nodiscard]] std::string_view toString(ParticipantStatus s) noexcept;  // "attended", "no-show", "walk-in"

struct Sightings {
  std::optional<TimePoint> firstSeen;  // attendance time = earliest check-in across scanners
  std::optional<TimePoint> lastSeen;
  std::vector<std::string> scanners;  // sorted, distinct
  std::int64_t count = 0;             // stored check-in rows
};

// A manual check-in or revocation by door staff (migration 0010,
// docs/adr/0065-append-only-check-in-overrides.md).
enum class OverrideAction { check_in, revoke };
[[nodiscard]] std::string_view toString(OverrideAction a) noexcept;  // "check_in", "revoke"

// One row of the audit trail: who did what to whom, when and why.
struct OverrideEntry {
  std::int64_t id = 0;
  std::string userId;
  std::string displayName;
  std::string email;
  OverrideAction action = OverrideAction::check_in;
  std::string adminEmail;  // who
  std::string reason;      // why
  TimePoint at;            // when (server time)
};

// The latest override of a participant: it decides their state over the scanner's.
struct ManualState {
  OverrideAction action = OverrideAction::check_in;
  TimePoint at;
  std::string by;
  std::string reason;
};

struct ParticipantRow {
  std::string userId;
  std::string displayName;
  std::string email;
  support::Uuid bleUuid;
  ParticipantStatus status = ParticipantStatus::no_show;
  Sightings seen;
  // Set when door staff checked the participant in or revoked them: the row's
  // source is then "manual", else "scanner".
  std::optional<ManualState> manual;
};
[[nodiscard]] inline std::string_view sourceOf(const ParticipantRow& p) noexcept {
  return p.manual ? "manual" : "scanner";
}
// When the participant counts as arrived: their first sighting, or the time of a
// manual check-in when no scanner saw them; never while revoked.
[[nodiscard]] std::optional<TimePoint> arrivalOf(const ParticipantRow& p) noexcept;

struct UnknownDeviceRow {
  support::Uuid bleUuid;
  Sightings seen;
};

struct ScannerRow {
  std::string scannerId;
  std::optional<TimePoint> lastSyncAt;
  std::int64_t syncs = 0;            // receipts
  std::int64_t recordsReceived = 0;  // sum of "received" over receipts
  std::int64_t recordsStored = 0;    // check-in rows from this scanner (order-independent)
  // Of recordsReceived, as the receipts counted them when each batch was stored:
  std::int64_t recordsResent = 0;   // sum of "duplicates": accepted records already stored (a retry, a resend)
  std::int64_t recordsRefused = 0;  // sum of "rejected": records refused as invalid, never stored
};

struct ArrivalBucket {
  TimePoint start;
  std::int64_t arrivals = 0;  // participants (registered or walk-in) whose first check-in falls here
};

// The data a report is built from, as numbers the database keeps current in the
// same transaction as the data (migration 0003, docs/storage.md): equal versions
// = the same report (apart from generatedAt). Cheap to read (readReportVersion).
struct ReportVersion {
  std::int64_t event = 0;        // events.report_version: the event row and its registrations
  std::int64_t users = 0;        // report_users_version: users and retired bleUuids
  std::int64_t receipts = 0;     // the event's sync_receipts (one per ingested batch)
  std::int64_t unreceipted = 0;  // the event's check-ins without a receipt (performCheckIn)
  friend bool operator==(const ReportVersion&, const ReportVersion&) = default;
};

// One small query. Errc::event_not_found.
[[nodiscard]] Result<ReportVersion> readReportVersion(ConnectionPool& pool, std::string_view eventId);

struct EventReport {
  Event event;
  ReportVersion version;  // read in the same snapshot as every number below
  TimePoint generatedAt;
  bool synced = false;  // false = no receipt yet ("not synced"), distinct from synced with 0 records
  std::int64_t registered = 0;
  std::int64_t attended = 0;  // registered and seen
  std::int64_t noShows = 0;   // registered and not seen
  std::int64_t walkIns = 0;   // known users seen without registration
  std::int64_t unknownDevices = 0;
  // Deleted participants' bleUuids seen (migration 0012, ADR 0076): only this number is rendered, never
  // the ids, so nothing of an erased participant reaches a report. Their check-ins stay in the scanners'
  // totals.
  std::int64_t erasedIds = 0;
  std::int64_t manualCheckIns = 0;           // participants whose latest override is a manual check-in
  std::int64_t revoked = 0;                  // participants whose latest override is a revocation
  double attendanceRate = 0.0;               // attended / registered, 0 when nobody registered
  std::vector<ParticipantRow> participants;  // attended, walk-ins, then no-shows; by name within
  std::vector<UnknownDeviceRow> unknown;     // by first seen
  std::vector<UnknownDeviceRow> erased;      // deleted participants' sightings: counted, never rendered
  std::vector<ScannerRow> scanners;          // by scannerId
  std::vector<OverrideEntry> audit;          // every override of the event, oldest first
  std::chrono::minutes bucketWidth{15};
  std::vector<ArrivalBucket> arrivals;  // contiguous from first to last arrival
};

struct ReportOptions {
  std::chrono::minutes bucketWidth{15};
};

// Errc::event_not_found. First folds check-ins synced since the last report
// into the summary table report_seen (a short write transaction, skipped when
// another report is folding the same event; migration 0002), then reads every
// number in one read-only REPEATABLE READ transaction. The folding changes only
// the speed, never the result (docs/benchmarks-core.md, "Report").
[[nodiscard]] Result<EventReport> buildReport(ConnectionPool& pool, std::string_view eventId, TimePoint now,
                                              const ReportOptions& options = {});

// Machine-readable, stable field names (docs/check-in-semantics.md).
[[nodiscard]] std::string renderReportJson(const EventReport& report);
// RFC 4180, CRLF line ends, UTF-8 without BOM, one row per participant and unknown device.
// Columns: status,name,email,bleUuid,firstSeen,lastSeen,scanners,sightings,source,manualAt,manualBy,
// manualReason (the last four added at the end: consumers read by position).
[[nodiscard]] std::string renderReportCsv(const EventReport& report);
// The unknown devices alone (the web console's own download): header
// bleUuid,firstSeen,lastSeen,scanners,sightings, by first seen; RFC 4180 as above.
[[nodiscard]] std::string renderUnknownDevicesCsv(const EventReport& report);
// Human-readable terminal table with a summary header.
[[nodiscard]] std::string renderReportTable(const EventReport& report);

// ISO 8601 UTC with milliseconds: 2024-07-20T10:30:00.000Z
[[nodiscard]] std::string formatIsoUtc(TimePoint t);
// Accepts YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM) and YYYY-MM-DD (midnight UTC).
[[nodiscard]] std::optional<TimePoint> parseIsoUtc(std::string_view text);

}  // namespace attendance::core
