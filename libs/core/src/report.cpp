#include <attendance/core/report.hpp>

#include "db_util.hpp"
#include "report_compute.hpp"
#include "report_index.hpp"
#include "report_rows.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace attendance::core {

std::string_view toString(ParticipantStatus s) noexcept {
  switch (s) {
    case ParticipantStatus::attended: return "attended";
    case ParticipantStatus::no_show: return "no-show";
    case ParticipantStatus::walk_in: return "walk-in";
  }
  return "no-show";
}

std::string_view toString(OverrideAction a) noexcept { return a == OverrideAction::revoke ? "revoke" : "check_in"; }

std::optional<TimePoint> arrivalOf(const ParticipantRow& p) noexcept {
  if (p.manual && p.manual->action == OverrideAction::revoke) return std::nullopt;
  if (p.seen.firstSeen) return p.seen.firstSeen;
  if (p.manual) return p.manual->at;
  return std::nullopt;
}

namespace detail {
namespace {

void merge(Sightings& into, ReportInput::Seen&& s) {
  const auto first = fromMs(s.firstMs);
  const auto last = fromMs(s.lastMs);
  if (!into.firstSeen || first < *into.firstSeen) into.firstSeen = first;
  if (!into.lastSeen || last > *into.lastSeen) into.lastSeen = last;
  into.count += s.count;
  if (into.scanners.empty()) {
    into.scanners = std::move(s.scanners);
  } else {
    into.scanners.insert(into.scanners.end(), std::make_move_iterator(s.scanners.begin()),
                         std::make_move_iterator(s.scanners.end()));
  }
  if (into.scanners.size() > 1) {
    std::sort(into.scanners.begin(), into.scanners.end());
    into.scanners.erase(std::unique(into.scanners.begin(), into.scanners.end()), into.scanners.end());
  }
}

int statusRank(ParticipantStatus s) {
  switch (s) {
    case ParticipantStatus::attended: return 0;
    case ParticipantStatus::walk_in: return 1;
    case ParticipantStatus::no_show: return 2;
  }
  return 2;
}

}  // namespace

void addSighting(Sightings& into, std::int64_t firstMs, std::int64_t lastMs, std::int64_t count,
                 std::string_view scanner) {
  const auto first = fromMs(firstMs);
  const auto last = fromMs(lastMs);
  if (!into.firstSeen || first < *into.firstSeen) into.firstSeen = first;
  if (!into.lastSeen || last > *into.lastSeen) into.lastSeen = last;
  into.count += count;
  const auto at = std::lower_bound(into.scanners.begin(), into.scanners.end(), scanner);
  if (at == into.scanners.end() || *at != scanner) into.scanners.emplace(at, scanner);
}

int compareParticipants(const ParticipantRow& a, const ParticipantRow& b) {
  const int ra = statusRank(a.status);
  const int rb = statusRank(b.status);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (const int c = a.displayName.compare(b.displayName); c != 0) return c;
  return a.email.compare(b.email);
}

void sortScanners(std::vector<ScannerRow>& scanners) {
  std::sort(scanners.begin(), scanners.end(),
            [](const ScannerRow& a, const ScannerRow& b) { return a.scannerId < b.scannerId; });
}

bool anySynced(const std::vector<ScannerRow>& scanners) {
  return std::any_of(scanners.begin(), scanners.end(),
                     [](const ScannerRow& s) { return s.syncs > 0 || s.recordsStored > 0; });
}

void sortUnknownDevices(std::vector<UnknownDeviceRow>& unknown) {
  std::sort(unknown.begin(), unknown.end(), [](const UnknownDeviceRow& a, const UnknownDeviceRow& b) {
    return std::tie(*a.seen.firstSeen, a.bleUuid.bytes) < std::tie(*b.seen.firstSeen, b.bleUuid.bytes);
  });
}

void countTotals(EventReport& r) {
  r.registered = r.attended = r.noShows = r.walkIns = 0;
  for (const auto& p : r.participants) {
    switch (p.status) {
      case ParticipantStatus::attended:
        ++r.registered;
        ++r.attended;
        break;
      case ParticipantStatus::no_show:
        ++r.registered;
        ++r.noShows;
        break;
      case ParticipantStatus::walk_in: ++r.walkIns; break;
    }
  }
  r.unknownDevices = static_cast<std::int64_t>(r.unknown.size());
  r.erasedIds = static_cast<std::int64_t>(r.erased.size());
  r.attendanceRate = r.registered == 0 ? 0.0 : static_cast<double>(r.attended) / static_cast<double>(r.registered);
}

void countOverrides(EventReport& r) {
  std::map<std::string_view, OverrideAction> latest;  // audit is oldest first: the last one wins
  for (const auto& o : r.audit) latest[o.userId] = o.action;
  r.manualCheckIns = r.revoked = 0;
  for (const auto& [user, action] : latest) ++(action == OverrideAction::revoke ? r.revoked : r.manualCheckIns);
}

std::vector<ArrivalBucket> arrivalsOf(const EventReport& r, std::chrono::minutes& width) {
  // Each participant's first check-in, bucketed on multiples of the width since the epoch.
  std::vector<std::int64_t> firsts;
  firsts.reserve(r.participants.size());
  for (const auto& p : r.participants) {
    if (const auto at = arrivalOf(p)) firsts.push_back(toMs(*at));
  }
  std::vector<ArrivalBucket> arrivals;
  std::int64_t widthMs = std::max<std::int64_t>(1, width.count()) * 60'000;
  if (!firsts.empty()) {
    const auto [lo, hi] = std::minmax_element(firsts.begin(), firsts.end());
    auto floorDiv = [](std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); };
    while ((floorDiv(*hi, widthMs) - floorDiv(*lo, widthMs) + 1) > kMaxArrivalBuckets) widthMs *= 2;
    const std::int64_t first = floorDiv(*lo, widthMs);
    const std::int64_t last = floorDiv(*hi, widthMs);
    arrivals.resize(static_cast<std::size_t>(last - first + 1));
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      arrivals[i].start = fromMs((first + static_cast<std::int64_t>(i)) * widthMs);
    }
    for (const auto ms : firsts) ++arrivals[static_cast<std::size_t>(floorDiv(ms, widthMs) - first)].arrivals;
  }
  width = std::chrono::minutes{widthMs / 60'000};
  return arrivals;
}

void computeArrivals(EventReport& r, std::chrono::minutes bucketWidth) {
  r.arrivals = arrivalsOf(r, bucketWidth);
  r.bucketWidth = bucketWidth;
}

EventReport computeReport(ReportInput in, const ReportOptions& options) {
  EventReport r;
  r.event = std::move(in.event);
  r.version = in.version;
  r.generatedAt = in.now;
  r.synced = in.synced;
  r.scanners = std::move(in.scanners);
  sortScanners(r.scanners);

  // People become rows (first occurrence of a userId wins: registered ones come
  // first from buildReport). The views point into the rows, which do not move
  // until the sort below: the vector is reserved up front.
  std::vector<ParticipantRow> rows;
  rows.reserve(in.people.size());
  NameIndex personIndex{in.people.size()};
  UuidIndex ownerOf{in.people.size() + in.owners.size()};
  for (auto& p : in.people) {
    if (personIndex.find(p.userId) != NameIndex::kNone) continue;
    const auto index = static_cast<std::uint32_t>(rows.size());
    ParticipantRow& row = rows.emplace_back();
    row.userId = std::move(p.userId);
    row.displayName = std::move(p.displayName);
    row.email = std::move(p.email);
    row.bleUuid = p.bleUuid;
    row.status = p.registered ? ParticipantStatus::no_show : ParticipantStatus::walk_in;
    personIndex.tryEmplace(row.userId, index);  // a view of the row's own string
    ownerOf.tryEmplace(row.bleUuid, index);     // a person owns their current bleUuid
  }
  for (const auto& o : in.owners) {
    if (const auto person = personIndex.find(o.userId); person != NameIndex::kNone)
      ownerOf.tryEmplace(o.bleUuid, person);
  }

  UuidIndex erased{in.erased.size()};
  for (const auto& e : in.erased) erased.tryEmplace(e, 0);
  for (auto& s : in.seen) {
    const auto owner = ownerOf.find(s.bleUuid);
    if (owner == UuidIndex::kNone) {
      // A deleted participant's id is counted apart, never shown as a device (ADR 0076).
      UnknownDeviceRow& u = (erased.find(s.bleUuid) != UuidIndex::kNone ? r.erased : r.unknown).emplace_back();
      u.bleUuid = s.bleUuid;
      merge(u.seen, std::move(s));
      continue;
    }
    auto& row = rows[owner];
    merge(row.seen, std::move(s));
    if (row.status == ParticipantStatus::no_show) row.status = ParticipantStatus::attended;
  }
  // The latest override of each participant decides over the scanner
  // (migration 0010): a manual check-in makes a registered person attended and
  // keeps an unregistered one as a walk-in; a revocation makes a registered
  // person a no-show (their sightings stay visible) and removes a walk-in.
  for (const auto& o : in.overrides) {
    const auto person = personIndex.find(o.userId);
    if (person == NameIndex::kNone) continue;  // buildReport lists every override's person
    rows[person].manual = ManualState{o.action, o.at, o.adminEmail, o.reason};
  }
  for (auto& row : rows) {
    if (!row.manual) continue;
    const bool revoked = row.manual->action == OverrideAction::revoke;
    if (row.status != ParticipantStatus::walk_in)
      row.status = revoked ? ParticipantStatus::no_show : ParticipantStatus::attended;
  }
  // A walk-in is a known user who was seen or checked in by hand; one who was
  // neither registered nor seen (or was revoked) is not in the report.
  std::erase_if(rows, [](const ParticipantRow& p) {
    if (p.status != ParticipantStatus::walk_in) return false;
    if (p.manual) return p.manual->action == OverrideAction::revoke;
    return p.seen.count == 0;
  });

  // Attended, walk-ins, then no-shows; by name, then email (unique per user) within.
  // Sorting indices moves each row once instead of O(log n) times.
  std::vector<std::uint32_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0U);
  std::sort(order.begin(), order.end(), [&rows](std::uint32_t ia, std::uint32_t ib) {
    if (const int c = compareParticipants(rows[ia], rows[ib]); c != 0) return c < 0;
    return ia < ib;
  });
  r.participants.reserve(rows.size());
  for (const auto i : order) r.participants.push_back(std::move(rows[i]));

  sortUnknownDevices(r.unknown);
  r.audit = std::move(in.overrides);
  countTotals(r);
  countOverrides(r);
  computeArrivals(r, options.bucketWidth);
  return r;
}

bool foldReportSummary(pqxx::connection_base& conn, const std::string& eventId) {
  pqxx::work tx{conn};
  tx.exec("SET LOCAL jit = off");
  if (!tx.exec_params1(kReportFoldLockSql, eventId)[0].as<bool>()) return false;
  tx.exec_params(kReportFoldSql, eventId);
  tx.commit();
  return true;
}

}  // namespace detail

namespace {
// read_only_sql_transaction: a write on a hot standby.
constexpr std::string_view kReadOnlySqlState = "25006";
using detail::int64;
using detail::readVersionRow;
using detail::text;
using detail::uuid;
}  // namespace

Result<ReportVersion> readReportVersion(ConnectionPool& pool, std::string_view eventId) {
  return detail::withConnection(pool, "report_version", [&](pqxx::connection_base& conn) -> Result<ReportVersion> {
    // One statement: its snapshot covers all four numbers.
    pqxx::nontransaction tx{conn};
    const auto r = tx.exec_params(detail::kReportVersionSql, std::string{eventId});
    if (r.empty()) return make_error_code(Errc::event_not_found);
    return readVersionRow(r[0]);
  });
}

// First folds receipts synced since the last report into the summary table
// (migration 0002; a short write transaction, skipped when another report is
// folding the event or when it fails). Then five small round trips in one
// read-only REPEATABLE READ snapshot: the event, receipts per scanner, the
// check-ins per (bleUuid, scanner) from the summary plus whatever is not folded
// yet, the registered users, and the owners of the few bleUuids no registered
// user currently has (walk-ins, retired bleUuids). The snapshot alone decides
// the numbers: folding only changes how fast they are read. No join over all
// users per request; rows are read straight from libpq's buffers
// (docs/benchmarks-core.md).
Result<EventReport> buildReport(ConnectionPool& pool, std::string_view eventId, TimePoint now,
                                const ReportOptions& options) {
  return detail::buildReportTracked(pool, eventId, now, options, nullptr);
}

Result<EventReport> detail::buildReportTracked(ConnectionPool& pool, std::string_view eventId, TimePoint now,
                                               const ReportOptions& options, std::vector<std::int64_t>* receiptIds) {
  auto input =
      detail::withConnection(pool, "build_report", [&](pqxx::connection_base& conn) -> Result<detail::ReportInput> {
        const std::string id{eventId};
        try {
          (void)detail::foldReportSummary(conn, id);
        } catch (const pqxx::broken_connection&) {
          throw;
        } catch (const pqxx::sql_error& e) {
          // E.g. the event was deleted meanwhile, or a read-only connection (a
          // streaming replica, docs/scaling.md: expected there, so not logged):
          // the report below still counts every check-in.
          if (e.sqlstate() != kReadOnlySqlState) {
            support::log::warn("report.fold_failed",
                               {{"event_id", id}, {"sqlstate", e.sqlstate()}, {"error", e.what()}});
          }
        }
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
        // Large events push the aggregate past jit_above_cost; compiling costs more than it saves here.
        tx.exec("SET LOCAL jit = off");
        detail::ReportInput in;
        in.now = now;
        const auto ev = tx.exec_params(detail::kReportEventSql, id);
        if (ev.empty()) return make_error_code(Errc::event_not_found);
        in.event.id = ev[0][0].as<std::string>();
        in.event.name = ev[0][1].as<std::string>();
        in.event.venue = ev[0][2].as<std::string>();
        if (!ev[0][3].is_null()) in.event.startsAt = detail::fromMs(int64(ev[0][3]));
        if (!ev[0][4].is_null()) in.event.endsAt = detail::fromMs(int64(ev[0][4]));
        in.event.createdAt = detail::fromMs(int64(ev[0][5]));
        const auto version = tx.exec_params(detail::kReportVersionSql, id);
        if (version.empty()) return make_error_code(Errc::event_not_found);
        in.version = readVersionRow(version[0]);

        if (receiptIds != nullptr) {
          // The receipts this snapshot saw, for the incremental update (report_incremental.cpp).
          receiptIds->clear();
          for (const auto& row : tx.exec_params(detail::kReportReceiptIdsSql, id)) receiptIds->push_back(int64(row[0]));
        }
        std::map<std::string, ScannerRow, std::less<>> scannerRows;
        for (const auto& row : tx.exec_params(detail::kReportReceiptsSql, id)) {
          ScannerRow& s = scannerRows[row[0].as<std::string>()];
          s.scannerId = row[0].as<std::string>();
          s.lastSyncAt = detail::fromMs(int64(row[1]));
          s.syncs = int64(row[2]);
          s.recordsReceived = int64(row[3]);
          s.recordsResent = int64(row[4]);
          s.recordsRefused = int64(row[5]);
        }

        // Per (bleUuid, scanner): merged per bleUuid here, counted per scanner.
        {
          const auto seen = tx.exec_params(detail::kReportSeenSql, id);
          detail::UuidIndex seenIndex{seen.size()};
          in.seen.reserve(seen.size());
          ScannerRow* lastScanner = nullptr;
          for (const auto& row : seen) {
            const auto ble = uuid(row[0]);
            const std::string_view scanner = text(row[1]);
            const auto first = int64(row[2]);
            const auto last = int64(row[3]);
            const auto n = int64(row[4]);
            const auto [index, inserted] = seenIndex.tryEmplace(ble, static_cast<std::uint32_t>(in.seen.size()));
            if (inserted) {
              auto& fresh = in.seen.emplace_back();
              fresh.bleUuid = ble;
              fresh.firstMs = first;
              fresh.lastMs = last;
            }
            auto& s = in.seen[index];
            s.firstMs = std::min(s.firstMs, first);
            s.lastMs = std::max(s.lastMs, last);
            s.count += n;
            s.scanners.emplace_back(scanner);
            if (lastScanner == nullptr || lastScanner->scannerId != scanner) {
              auto found = scannerRows.find(scanner);
              if (found == scannerRows.end()) found = scannerRows.emplace(std::string{scanner}, ScannerRow{}).first;
              lastScanner = &found->second;
              if (lastScanner->scannerId.empty()) lastScanner->scannerId = std::string{scanner};
            }
            lastScanner->recordsStored += n;
          }

          // Registered users; each one's current bleUuid is matched against the sightings.
          const auto registered = tx.exec_params(detail::kReportRegisteredSql, id);
          std::vector<bool> matched(in.seen.size(), false);
          in.people.reserve(registered.size());
          for (const auto& row : registered) {
            auto& p = in.people.emplace_back();
            p.userId.assign(text(row[0]));
            p.displayName.assign(text(row[1]));
            p.email.assign(text(row[2]));
            p.bleUuid = uuid(row[3]);
            p.registered = true;
            if (const auto index = seenIndex.find(p.bleUuid); index != detail::UuidIndex::kNone) matched[index] = true;
          }

          // The rest: walk-ins' current bleUuids, retired bleUuids, unknown devices.
          // The uuid[] literal is built from uuids PostgreSQL just formatted.
          std::string rest = "{";
          for (std::size_t i = 0; i < in.seen.size(); ++i) {
            if (matched[i]) continue;
            if (rest.size() > 1) rest += ',';
            const auto at = rest.size();
            rest.resize(at + support::Uuid::kTextLength);
            in.seen[i].bleUuid.formatTo(rest.data() + at);
          }
          rest += '}';
          if (rest.size() > 2) {
            for (const auto& row : tx.exec_params(detail::kReportOwnersSql, id, rest)) {
              if (row[1].is_null()) {  // erased_ble_uuids: nobody's any more
                in.erased.push_back(uuid(row[0]));
                continue;
              }
              std::string userId{text(row[1])};
              if (row[5].as<bool>() == false) {
                auto& p = in.people.emplace_back();
                p.userId = userId;
                p.displayName.assign(text(row[2]));
                p.email.assign(text(row[3]));
                p.bleUuid = uuid(row[4]);
                p.registered = false;
              }
              in.owners.push_back({uuid(row[0]), std::move(userId)});
            }
          }
        }
        // Manual check-ins and revocations; their unregistered people join the
        // candidates (computeReport keeps only those checked in or seen).
        for (const auto& row : tx.exec_params(detail::kReportOverridesSql, id)) {
          OverrideEntry& o = in.overrides.emplace_back();
          o.id = int64(row[0]);
          o.userId.assign(text(row[1]));
          o.displayName.assign(text(row[2]));
          o.email.assign(text(row[3]));
          o.action = text(row[6]) == "revoke" ? OverrideAction::revoke : OverrideAction::check_in;
          o.adminEmail.assign(text(row[7]));
          o.reason.assign(text(row[8]));
          o.at = detail::fromMs(int64(row[9]));
          if (row[5].as<bool>() == false) {
            auto& p = in.people.emplace_back();
            p.userId = o.userId;
            p.displayName = o.displayName;
            p.email = o.email;
            p.bleUuid = uuid(row[4]);
            p.registered = false;
          }
        }
        for (auto& [name, row] : scannerRows) {
          if (row.syncs > 0 || row.recordsStored > 0) in.synced = true;
          in.scanners.push_back(std::move(row));
        }
        return in;
      });
  if (!input) return input.error();
  return detail::computeReport(std::move(*input), options);
}

}  // namespace attendance::core
