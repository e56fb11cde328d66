#include <attendance/core/batch.hpp>
#include <attendance/core/report.hpp>

#include <attendance/core/private_ids.hpp>

#include <fmt/format.h>

#include "assignment_lock.hpp"
#include "db_util.hpp"
#include "private_ids_ingest.hpp"

#include <algorithm>
#include <tuple>

namespace attendance::core {
namespace {

struct Row {
  support::Uuid ble;
  std::int64_t ms;
  friend bool operator==(const Row&, const Row&) = default;
  friend bool operator<(const Row& a, const Row& b) {
    return std::tie(a.ble.bytes, a.ms) < std::tie(b.ble.bytes, b.ms);
  }
};

}  // namespace

Result<IngestResult> ingestBatch(ConnectionPool& pool, const IngestRequest& request,
                                 std::chrono::system_clock::time_point now, const IngestOptions& options) {
  IngestResult result;
  result.eventId = request.eventId;
  result.received = request.received != 0 ? request.received : request.records.size() + request.rejected.size();

  // Per-record checks that need the clock or the caller's identity.
  const std::int64_t maxMs = detail::toMs(now + options.maxFutureSkew);
  const std::string tooEarly = "checkInTime is before " + formatIsoUtc(detail::fromMs(options.minCheckInTimeMs));
  const std::string tooLate =
      "checkInTime is more than " +
      std::to_string(std::chrono::duration_cast<std::chrono::minutes>(options.maxFutureSkew).count()) +
      " minutes in the future";
  std::vector<Rejection> rejected = request.rejected;
  std::vector<std::pair<Row, std::size_t>> candidates;  // with the record's index, for the window check
  candidates.reserve(request.records.size());
  for (const auto& rec : request.records) {
    if (rec.scannerId != request.scannerId) {
      rejected.push_back({rec.index, "scannerId does not match the API key's scanner"});
    } else if (rec.checkInTimeMs < options.minCheckInTimeMs) {
      rejected.push_back({rec.index, tooEarly});
    } else if (rec.checkInTimeMs > maxMs) {
      rejected.push_back({rec.index, tooLate});
    } else {
      candidates.push_back({{rec.bleUuid, rec.checkInTimeMs}, rec.index});
    }
  }
  std::vector<Row> rows;
  std::size_t accepted = 0;

  // One attempt = one transaction. A deadlock or serialization failure against a
  // concurrent batch is retried (twice) instead of surfacing as an error.
  auto attempt = [&](pqxx::connection_base& conn) -> Result<IngestResult> {
    result.inserted = 0;
    result.copyConflicted = false;
    std::pair<std::int64_t, std::int64_t> timeRange{0, 0};  // of the accepted rows, for the receipt
    result.registered = result.walkIns = result.unknownDevices = 0;
    pqxx::work tx{conn};
    // One primary-key lookup: is this scanner assigned to this event? It locks the
    // assignment and the event (FOR KEY SHARE) until commit, so an unassign or an
    // event deletion cannot slip in between this check and the insert.
    const auto window = detail::lockAssignedEvent(tx, request.scannerId, request.eventId);
    if (!window) return make_error_code(Errc::scanner_not_assigned);

    // The event's window, widened by the slack on each side; an undated side is open.
    const std::int64_t slackMs = options.eventWindowSlack.count();
    const auto side = [](const std::optional<std::int64_t>& ms) {
      return ms ? formatIsoUtc(detail::fromMs(*ms)) : std::string{"undated"};
    };
    const std::string windowText = " the event's window [" + side(window->startsMs) + ", " + side(window->endsMs) + "]";
    const std::string slackText =
        " is more than " +
        std::to_string(std::chrono::duration_cast<std::chrono::minutes>(options.eventWindowSlack).count()) +
        " minutes ";
    result.rejected = rejected;
    rows.clear();
    rows.reserve(candidates.size());
    std::vector<std::pair<Row, std::size_t>> inWindow;
    inWindow.reserve(candidates.size());
    for (const auto& [row, index] : candidates) {
      const bool early = window->startsMs && row.ms < *window->startsMs - slackMs;
      const bool late = window->endsMs && row.ms > *window->endsMs + slackMs;
      if (early || late) {
        result.rejected.push_back({index, std::string{kOutsideEventWindow},
                                   "checkInTime " + formatIsoUtc(detail::fromMs(row.ms)) + slackText +
                                       (early ? "before" : "after") + windowText});
      } else {
        inWindow.emplace_back(row, index);
      }
    }
    // A private-ids event: each rotating id becomes its participant's static bleUuid, so
    // everything after this (storage, the report) is as for static ids (docs/beacon-spec.md).
    if (window->privateIds && !inWindow.empty()) {
      if (!options.privateIds || !options.privateIds->hasServerKey()) {
        return make_error_code(Errc::beacon_key_missing);
      }
      const auto meta =
          tx.exec1("SELECT (SELECT version FROM identity_keys_version), encode(ble_namespace, 'hex') FROM deployment");
      const auto ns = support::BleNamespace::parseHex(meta[1].c_str());
      if (!ns) return make_error_code(Errc::internal);
      std::vector<detail::ObservedId> observed;
      observed.reserve(inWindow.size());
      for (const auto& [row, index] : inWindow) observed.push_back({row.ble, row.ms});
      const auto verdicts = detail::resolvePrivateIds(tx, *options.privateIds, request.eventId, window->reportVersion,
                                                      meta[0].as<std::int64_t>(), *ns, observed);
      const auto minutes = options.privateIds->options().period.seconds().count() / 60.0;
      for (std::size_t i = 0; i < inWindow.size(); ++i) {
        auto& [row, index] = inWindow[i];
        const auto& v = verdicts[i];
        if (v.outcome == detail::PrivateIdOutcome::expired) {
          result.rejected.push_back(
              {index, std::string{kExpiredId},
               fmt::format("the id is a participant's id for {:g} minutes before checkInTime {} (accepted: the "
                           "window of checkInTime \u00b1 {}): a replay, or a phone clock far off",
                           static_cast<double>(-v.offset) * minutes, formatIsoUtc(detail::fromMs(row.ms)),
                           options.privateIds->options().skewWindows)});
          row.ms = -1;
        } else if (v.outcome == detail::PrivateIdOutcome::ambiguous) {
          result.rejected.push_back(
              {index, std::string{kAmbiguousId}, "two participants' ids match it around checkInTime; not guessed"});
          row.ms = -1;
        } else if (v.outcome == detail::PrivateIdOutcome::resolved) {
          row.ble = v.bleUuid;
        }
      }
    }
    for (const auto& [row, index] : inWindow) {
      if (row.ms >= 0) rows.push_back(row);
    }
    std::sort(result.rejected.begin(), result.rejected.end(),
              [](const Rejection& a, const Rejection& b) { return a.index < b.index; });
    accepted = rows.size();
    // Duplicates inside the batch collapse here; the rest is ON CONFLICT's job.
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());

    result.receiptId = tx.exec_params1(
                             "INSERT INTO sync_receipts (event_id, scanner_id, received_at) "
                             "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0)) RETURNING id",
                             request.eventId, request.scannerId, detail::toMs(now))[0]
                           .as<std::int64_t>();

    if (!rows.empty()) {
      std::string text(support::Uuid::kTextLength, '\0');
      // Fast path, the common case of a batch nobody sent before: COPY straight
      // into check_ins, as fast as psql \copy. A batch that repeats a stored row
      // (a retry after a lost answer, a resend with --all, a log that grew since
      // the last sync) must not try it: the duplicate key would abort the COPY
      // and leave an ERROR line in the server log. Every stored row of this
      // scanner lies in the check-in time range of the receipt that brought it
      // (migration 0004) or has no receipt, so one probe of the scanner's few
      // receipts decides; it errs only towards the idempotent path, when a new
      // batch's time range overlaps an older one without repeating it.
      timeRange = {rows.front().ms, rows.front().ms};
      for (const Row& row : rows) {
        timeRange.first = std::min(timeRange.first, row.ms);
        timeRange.second = std::max(timeRange.second, row.ms);
      }
      const bool seenBefore =
          tx.exec_params1(
                "SELECT EXISTS (SELECT 1 FROM sync_receipts s WHERE s.event_id = $1 AND s.scanner_id = $2 "
                "  AND s.min_check_in_time <= $4 AND s.max_check_in_time >= $3) "
                "OR EXISTS (SELECT 1 FROM check_ins c WHERE c.event_id = $1 AND c.receipt_id IS NULL "
                "  AND c.scanner_id = $2 AND c.check_in_time BETWEEN $3 AND $4)",
                request.eventId, request.scannerId, timeRange.first, timeRange.second)[0]
              .as<bool>();
      bool copiedDirectly = false;
      if (!seenBefore) {
        try {
          pqxx::subtransaction direct{tx, "direct_copy"};
          {
            pqxx::stream_to copy{
                direct, "check_ins",
                std::vector<std::string>{"event_id", "ble_uuid", "check_in_time", "scanner_id", "receipt_id"}};
            for (const Row& row : rows) {
              row.ble.formatTo(text.data());
              copy << std::tie(request.eventId, text, row.ms, request.scannerId, result.receiptId);
            }
            copy.complete();
          }
          direct.commit();
          copiedDirectly = true;
          result.inserted = rows.size();
        } catch (const pqxx::unique_violation&) {
          // Some records are stored already: fall through to the idempotent path.
          result.copyConflicted = true;
        }
      }
      if (!copiedDirectly) {
        tx.exec(
            "CREATE TEMP TABLE incoming_check_ins (ble_uuid uuid NOT NULL, check_in_time bigint NOT NULL) "
            "ON COMMIT DROP");
        {
          pqxx::stream_to copy{tx, "incoming_check_ins", std::vector<std::string>{"ble_uuid", "check_in_time"}};
          for (const Row& row : rows) {
            row.ble.formatTo(text.data());
            copy << std::tie(text, row.ms);
          }
          copy.complete();
        }
        // The anti-join skips stored rows cheaply; ON CONFLICT covers a
        // concurrent request inserting the same rows right now.
        const auto inserted = tx.exec_params(
            "INSERT INTO check_ins (event_id, ble_uuid, check_in_time, scanner_id, receipt_id) "
            "SELECT $1, i.ble_uuid, i.check_in_time, $2, $3 FROM incoming_check_ins i "
            "WHERE NOT EXISTS (SELECT 1 FROM check_ins c WHERE c.event_id = $1 AND c.ble_uuid = i.ble_uuid "
            "AND c.check_in_time = i.check_in_time AND c.scanner_id = $2) "
            "ORDER BY i.ble_uuid, i.check_in_time "  // same lock order as every other batch
            "ON CONFLICT DO NOTHING",
            request.eventId, request.scannerId, result.receiptId);
        result.inserted = inserted.affected_rows();
      }

      // Distinct bleUuids of the batch as one uuid[] literal: our own
      // formatting (hex digits and dashes), never caller text.
      std::string uuids;
      uuids.reserve(rows.size() * (support::Uuid::kTextLength + 1) + 2);
      uuids += '{';
      const support::Uuid* previous = nullptr;
      for (const Row& row : rows) {
        if (previous != nullptr && *previous == row.ble) continue;  // rows are sorted
        if (previous != nullptr) uuids += ',';
        row.ble.formatTo(text.data());
        uuids += text;
        previous = &row.ble;
      }
      uuids += '}';
      const auto classes = tx.exec_params1(
          "WITH seen AS (SELECT unnest($2::uuid[]) AS ble_uuid), "
          "owners AS (SELECT ble_uuid, id AS user_id FROM users "
          "           UNION ALL SELECT ble_uuid, user_id FROM retired_ble_uuids) "
          "SELECT count(DISTINCT o.user_id) FILTER (WHERE r.user_id IS NOT NULL), "
          "       count(DISTINCT o.user_id) FILTER (WHERE o.user_id IS NOT NULL AND r.user_id IS NULL), "
          "       count(*) FILTER (WHERE o.user_id IS NULL) "
          "FROM seen s LEFT JOIN owners o ON o.ble_uuid = s.ble_uuid "
          "LEFT JOIN registrations r ON r.event_id = $1 AND r.user_id = o.user_id",
          request.eventId, uuids);
      result.registered = classes[0].as<std::size_t>();
      result.walkIns = classes[1].as<std::size_t>();
      result.unknownDevices = classes[2].as<std::size_t>();
    }
    result.duplicates = accepted - result.inserted;
    tx.exec_params(
        "UPDATE sync_receipts SET received = $2, inserted = $3, duplicates = $4, rejected = $5, "
        "min_check_in_time = CASE WHEN $6 THEN $7::bigint END, max_check_in_time = CASE WHEN $6 THEN $8::bigint END "
        "WHERE id = $1",
        result.receiptId, static_cast<std::int64_t>(result.received), static_cast<std::int64_t>(result.inserted),
        static_cast<std::int64_t>(result.duplicates), static_cast<std::int64_t>(result.rejected.size()), !rows.empty(),
        timeRange.first, timeRange.second);
    tx.commit();
    return result;
  };
  return detail::withConnection(pool, "ingest_batch", [&](pqxx::connection_base& conn) -> Result<IngestResult> {
    for (int tries = 1;; ++tries) {
      try {
        return attempt(conn);
      } catch (const pqxx::sql_error& e) {
        const bool transient = e.sqlstate() == "40P01" || e.sqlstate() == "40001";
        if (!transient || tries == 3) throw;
        support::log::warn("ingest.retry", {{"sqlstate", e.sqlstate()}, {"attempt", tries}});
      }
    }
  });
}

Result<bool> performCheckIn(ConnectionPool& pool, std::string_view eventId, const CheckInRecord& record,
                            std::int64_t receiptId) {
  return detail::withConnection(pool, "perform_check_in", [&](pqxx::connection_base& conn) -> Result<bool> {
    pqxx::work tx{conn};
    const auto r = tx.exec_params(
        "INSERT INTO check_ins (event_id, ble_uuid, check_in_time, scanner_id, receipt_id) "
        "VALUES ($1, $2::uuid, $3, $4, nullif($5, 0)) ON CONFLICT DO NOTHING",
        std::string{eventId}, record.bleUuid.toString(), record.checkInTimeMs, record.scannerId, receiptId);
    tx.commit();
    return r.affected_rows() == 1;
  });
}

}  // namespace attendance::core
