#pragma once

#include <attendance/core/database.hpp>
#include <attendance/core/error.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <chrono>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The /batchCheckIn body, its per-record validation and its set-based ingest.
// Body: {"eventId": "...", "records": [{"bleUuid", "checkInTime", "scannerId"}, ...]}
namespace attendance::core {

class PrivateIdResolver;  // private_ids.hpp

struct BatchLimits {
  std::size_t maxBodyBytes = 16U * 1024U * 1024U;  // 16 MiB accepted
  std::size_t maxRecords = 100'000;                // 100,000 records accepted
  std::size_t maxIdLength = 128;                   // eventId, scannerId
};

// One record that passed the pure checks of parseBatchBody.
struct CheckInRecord {
  std::size_t index = 0;  // position in "records"
  support::Uuid bleUuid;
  std::int64_t checkInTimeMs = 0;  // Unix epoch milliseconds
  std::string scannerId;
};

struct Rejection {
  Rejection() = default;
  Rejection(std::size_t i, std::string r, std::string d = {}) : index(i), reason(std::move(r)), detail(std::move(d)) {}
  std::size_t index = 0;
  std::string reason;
  std::string detail;  // optional, for people: e.g. the event's window for outside_event_window
  friend bool operator==(const Rejection&, const Rejection&) = default;
};

struct ParsedBatch {
  std::string eventId;
  std::size_t received = 0;  // length of "records"
  std::vector<CheckInRecord> records;
  std::vector<Rejection> rejected;  // sorted by index
};

struct BatchParseResult {
  // ok, malformed_body (400) or payload_too_large (413): a whole-request error.
  Errc error = Errc::ok;
  std::string message;  // for the {"error": ...} body
  ParsedBatch batch;
  [[nodiscard]] bool ok() const noexcept { return error == Errc::ok; }
};

// Pure: no clock, no database. Envelope problems fail the whole request;
// per-record problems (wrong types, malformed UUID, missing fields) become
// rejections with the record's index. Unknown fields are ignored.
[[nodiscard]] BatchParseResult parseBatchBody(std::string_view body, const BatchLimits& limits = {});

// Reasons of a record of a private-ids event (docs/beacon-spec.md "Resolving"): its bleUuid is a
// participant's rotating id for a window further than the skew before its checkInTime (a replay,
// or a phone clock far off), or two participants' ids within the skew (never guessed).
inline constexpr std::string_view kExpiredId = "expired_id";
inline constexpr std::string_view kAmbiguousId = "ambiguous_id";

// Reason of a record whose checkInTime lies further than IngestOptions::eventWindowSlack
// outside the event's [startsAt, endsAt] (docs/check-in-semantics.md).
inline constexpr std::string_view kOutsideEventWindow = "outside_event_window";

struct IngestOptions {
  // checkInTime must lie in [minCheckInTimeMs, now + maxFutureSkew].
  std::int64_t minCheckInTimeMs = 1'577'836'800'000;  // 2020-01-01T00:00:00Z
  std::chrono::milliseconds maxFutureSkew = std::chrono::hours{24};
  // ...and in [startsAt - slack, endsAt + slack] of the event; an undated side is open.
  std::chrono::milliseconds eventWindowSlack = std::chrono::hours{24};
  // Resolves the bleUuids of private-ids events (and caches their indexes). Without it, or
  // without its server key, a batch for a private-ids event fails with Errc::beacon_key_missing.
  std::shared_ptr<PrivateIdResolver> privateIds;
};

struct IngestRequest {
  std::string eventId;
  std::string scannerId;  // the authenticated scanner (from its API key)
  std::vector<CheckInRecord> records;
  std::vector<Rejection> rejected;  // carried from the parser
  std::size_t received = 0;         // 0 = records.size() + rejected.size()

  [[nodiscard]] static IngestRequest fromParsed(ParsedBatch&& batch, std::string scannerId);
};

struct IngestResult {
  std::string eventId;
  std::size_t received = 0;
  std::size_t inserted = 0;         // new rows in check_ins
  std::size_t duplicates = 0;       // accepted records already stored or repeated in the batch
  std::vector<Rejection> rejected;  // sorted by index
  // Distinct bleUuids among the accepted records, by class:
  std::size_t registered = 0;      // users registered for the event
  std::size_t walkIns = 0;         // known users not registered
  std::size_t unknownDevices = 0;  // no user has this bleUuid (kept for audit)
  std::int64_t receiptId = 0;
  // The direct COPY was tried and met a stored row, so PostgreSQL logged a
  // unique-violation ERROR before the idempotent path stored the batch. Only a
  // concurrent overlapping request of the same scanner should cause it
  // (docs/backend.md, "Ingest paths"). Not part of the JSON answer.
  bool copyConflicted = false;
};

// ONE transaction: checks that the scanner is assigned to the event, validates
// times (including the event's window) and scannerIds (rejections), stores the
// accepted records and writes a sync receipt (with their check-in time range).
// A batch no earlier receipt of the scanner overlaps is COPied straight into
// check_ins; any other goes through a temporary table and one
// INSERT ... SELECT ... ON CONFLICT DO NOTHING (docs/backend.md, "Ingest paths").
// Errors: scanner_not_assigned (also for an unknown event: a scanner learns nothing
// about events it is not assigned to), unavailable, internal. Nothing is committed
// on error, not even a receipt.
[[nodiscard]] Result<IngestResult> ingestBatch(ConnectionPool& pool, const IngestRequest& request,
                                               std::chrono::system_clock::time_point now,
                                               const IngestOptions& options = {});

// {"eventId":..,"received":..,"inserted":..,"duplicates":..,"rejected":[{"index":..,"reason":..[,"detail":..]}],
//  "registered":..,"walkIns":..,"unknownDevices":..,"receiptId":..}
[[nodiscard]] std::string renderIngestResultJson(const IngestResult& result);

// {"error":"<message>"} with proper escaping.
[[nodiscard]] std::string renderErrorJson(std::string_view message);

// The original design's way (one transaction per record), kept for the benchmark
// and as the reference for equivalence tests. true = inserted, false = duplicate.
[[nodiscard]] Result<bool> performCheckIn(ConnectionPool& pool, std::string_view eventId, const CheckInRecord& record,
                                          std::int64_t receiptId = 0);

}  // namespace attendance::core
