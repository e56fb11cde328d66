#include <attendance/attendance_core/report.hpp>

#include "db_util.hpp"
#include "report_compute.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace attendance::core {

std::string_view toString(ParticipantStatus s) noexcept {
  switch (s) {
    case ParticipantStatus::attended: return "attended";
    case ParticipantStatus::no_show: return "no-show";
    case ParticipantStatus::walk_in: return "walk-in";
  }
  return "no-show";
}

namespace detail {
namespace {

void merge(Sightings& into, const ReportInput::Seen& s) {
  const auto first = fromMs(s.firstMs);
  const auto last = fromMs(s.lastMs);
  if (!into.firstSeen || first < *into.firstSeen) into.firstSeen = first;
  if (!into.lastSeen || last > *into.lastSeen) into.lastSeen = last;
  into.count += s.count;
  into.scanners.insert(into.scanners.end(), s.scanners.begin(), s.scanners.end());
  std::sort(into.scanners.begin(), into.scanners.end());
  into.scanners.erase(std::unique(into.scanners.begin(), into.scanners.end()), into.scanners.end());
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

EventReport computeReport(const ReportInput& in, const ReportOptions& options) {
  EventReport r;
  r.event = in.event;
  r.generatedAt = in.now;
  r.synced = in.synced;
  r.scanners = in.scanners;
  std::sort(r.scanners.begin(), r.scanners.end(),
            [](const ScannerRow& a, const ScannerRow& b) { return a.scannerId < b.scannerId; });

  std::unordered_map<std::string_view, std::size_t> personIndex;
  personIndex.reserve(in.people.size());
  r.participants.reserve(in.people.size());
  for (const auto& p : in.people) {
    if (personIndex.contains(p.userId)) continue;
    personIndex.emplace(p.userId, r.participants.size());
    ParticipantRow row;
    row.userId = p.userId;
    row.displayName = p.displayName;
    row.email = p.email;
    row.bleUuid = p.bleUuid;
    row.status = p.registered ? ParticipantStatus::no_show : ParticipantStatus::walk_in;
    r.participants.push_back(std::move(row));
  }
  std::unordered_map<support::Uuid, std::string_view, support::UuidHash> owner;
  owner.reserve(in.owners.size());
  for (const auto& o : in.owners) owner.emplace(o.bleUuid, o.userId);

  for (const auto& s : in.seen) {
    const auto it = owner.find(s.bleUuid);
    const auto person = it == owner.end() ? personIndex.end() : personIndex.find(it->second);
    if (person == personIndex.end()) {
      UnknownDeviceRow u;
      u.bleUuid = s.bleUuid;
      merge(u.seen, s);
      r.unknown.push_back(std::move(u));
      continue;
    }
    auto& row = r.participants[person->second];
    merge(row.seen, s);
    if (row.status == ParticipantStatus::no_show) row.status = ParticipantStatus::attended;
  }
  // A walk-in is a known user who was seen; one who was neither registered nor seen is not in the report.
  std::erase_if(r.participants,
                [](const ParticipantRow& p) { return p.status == ParticipantStatus::walk_in && p.seen.count == 0; });

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
  r.attendanceRate = r.registered == 0 ? 0.0 : static_cast<double>(r.attended) / static_cast<double>(r.registered);

  std::sort(r.participants.begin(), r.participants.end(), [](const ParticipantRow& a, const ParticipantRow& b) {
    const int ra = statusRank(a.status);
    const int rb = statusRank(b.status);
    return std::tie(ra, a.displayName, a.email) < std::tie(rb, b.displayName, b.email);
  });
  std::sort(r.unknown.begin(), r.unknown.end(), [](const UnknownDeviceRow& a, const UnknownDeviceRow& b) {
    return std::tie(*a.seen.firstSeen, a.bleUuid.bytes) < std::tie(*b.seen.firstSeen, b.bleUuid.bytes);
  });

  // Arrivals: each participant's first check-in, bucketed on multiples of the width since the epoch.
  std::vector<std::int64_t> firsts;
  for (const auto& p : r.participants) {
    if (p.seen.firstSeen) firsts.push_back(toMs(*p.seen.firstSeen));
  }
  std::int64_t widthMs = std::max<std::int64_t>(1, options.bucketWidth.count()) * 60'000;
  if (!firsts.empty()) {
    const auto [lo, hi] = std::minmax_element(firsts.begin(), firsts.end());
    auto floorDiv = [](std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); };
    while ((floorDiv(*hi, widthMs) - floorDiv(*lo, widthMs) + 1) > kMaxArrivalBuckets) widthMs *= 2;
    const std::int64_t first = floorDiv(*lo, widthMs);
    const std::int64_t last = floorDiv(*hi, widthMs);
    r.arrivals.resize(static_cast<std::size_t>(last - first + 1));
    for (std::size_t i = 0; i < r.arrivals.size(); ++i) {
      r.arrivals[i].start = fromMs((first + static_cast<std::int64_t>(i)) * widthMs);
    }
    for (const auto ms : firsts) ++r.arrivals[static_cast<std::size_t>(floorDiv(ms, widthMs) - first)].arrivals;
  }
  r.bucketWidth = std::chrono::minutes{widthMs / 60'000};
  return r;
}

}  // namespace detail


Result<EventReport> buildReport(ConnectionPool& pool, std::string_view eventId, TimePoint now,
                                const ReportOptions& options) {
  auto input = detail::withConnection(pool, "build_report", [&](pqxx::connection_base& conn) -> Result<detail::ReportInput> {
    // One snapshot for every query below.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
    // Large events push the aggregate past jit_above_cost; compiling costs more than it saves here.
    tx.exec("SET LOCAL jit = off");
    const std::string id{eventId};
    detail::ReportInput in;
    in.now = now;
    const auto ev = tx.exec_params(
        "SELECT e.id, e.name, e.venue, " ATTENDANCE_SQL_MS("e.starts_at") ", " ATTENDANCE_SQL_MS(
            "e.ends_at") ", " ATTENDANCE_SQL_MS("e.created_at") " FROM events e WHERE e.id = $1",
        id);
    if (ev.empty()) return make_error_code(Errc::event_not_found);
    in.event.id = ev[0][0].as<std::string>();
    in.event.name = ev[0][1].as<std::string>();
    in.event.venue = ev[0][2].as<std::string>();
    if (!ev[0][3].is_null()) in.event.startsAt = detail::fromMs(ev[0][3].as<std::int64_t>());
    if (!ev[0][4].is_null()) in.event.endsAt = detail::fromMs(ev[0][4].as<std::int64_t>());
    in.event.createdAt = detail::fromMs(ev[0][5].as<std::int64_t>());

    // Receipts per scanner.
    std::map<std::string, ScannerRow> scannerRows;
    const auto receipts = tx.exec_params(
        "SELECT scanner_id, " ATTENDANCE_SQL_MS("max(received_at)") ", count(*), coalesce(sum(received), 0) "
        "FROM sync_receipts WHERE event_id = $1 GROUP BY scanner_id",
        id);
    for (const auto& row : receipts) {
      ScannerRow& s = scannerRows[row[0].as<std::string>()];
      s.scannerId = row[0].as<std::string>();
      s.lastSyncAt = detail::fromMs(row[1].as<std::int64_t>());
      s.syncs = row[2].as<std::int64_t>();
      s.recordsReceived = row[3].as<std::int64_t>();
    }

    // One pass over the event's check-ins: aggregates per (bleUuid, scanner),
    // with the owner of the bleUuid (current or retired) when there is one.
    const auto seen = tx.exec_params(
        "WITH agg AS (SELECT ble_uuid, scanner_id, min(check_in_time) AS first, max(check_in_time) AS last, "
        "             count(*) AS n FROM check_ins WHERE event_id = $1 GROUP BY ble_uuid, scanner_id), "
        "owners AS (SELECT ble_uuid, id AS user_id FROM users "
        "           UNION ALL SELECT ble_uuid, user_id FROM retired_ble_uuids) "
        "SELECT a.ble_uuid::text, a.scanner_id, a.first, a.last, a.n, o.user_id::text "
        "FROM agg a LEFT JOIN owners o ON o.ble_uuid = a.ble_uuid",
        id);
    std::unordered_map<support::Uuid, std::size_t, support::UuidHash> seenIndex;
    seenIndex.reserve(seen.size());
    std::unordered_set<std::string> ownerIds;
    for (const auto& row : seen) {
      const auto ble = support::Uuid::parse(row[0].c_str()).value_or(support::Uuid{});
      std::string scanner = row[1].as<std::string>();
      const auto first = row[2].as<std::int64_t>();
      const auto last = row[3].as<std::int64_t>();
      const auto n = row[4].as<std::int64_t>();
      auto [it, inserted] = seenIndex.try_emplace(ble, in.seen.size());
      if (inserted) {
        detail::ReportInput::Seen fresh;
        fresh.bleUuid = ble;
        fresh.firstMs = first;
        fresh.lastMs = last;
        in.seen.push_back(std::move(fresh));
        if (!row[5].is_null()) {
          std::string owner = row[5].as<std::string>();
          in.owners.push_back({in.seen.back().bleUuid, owner});
          ownerIds.insert(std::move(owner));
        }
      }
      auto& s = in.seen[it->second];
      s.firstMs = std::min(s.firstMs, first);
      s.lastMs = std::max(s.lastMs, last);
      s.count += n;
      ScannerRow& sr = scannerRows[scanner];
      if (sr.scannerId.empty()) sr.scannerId = scanner;
      sr.recordsStored += n;
      s.scanners.push_back(std::move(scanner));
    }
    for (auto& [name, row] : scannerRows) {
      if (row.syncs > 0 || row.recordsStored > 0) in.synced = true;
      in.scanners.push_back(std::move(row));
    }

    // Registered users.
    const auto registered = tx.exec_params(
        "SELECT u.id::text, u.display_name, u.email, u.ble_uuid::text "
        "FROM registrations r JOIN users u ON u.id = r.user_id WHERE r.event_id = $1",
        id);
    in.people.reserve(registered.size());
    for (const auto& row : registered) {
      detail::ReportInput::Person p;
      p.userId = row[0].as<std::string>();
      p.displayName = row[1].as<std::string>();
      p.email = row[2].as<std::string>();
      p.bleUuid = support::Uuid::parse(row[3].as<std::string>()).value_or(support::Uuid{});
      p.registered = true;
      ownerIds.erase(p.userId);
      in.people.push_back(std::move(p));
    }

    // Seen but not registered: the walk-ins' details, by id. The uuid[] literal
    // is built from ids PostgreSQL just formatted (hex and dashes only).
    if (!ownerIds.empty()) {
      std::string ids = "{";
      for (const auto& uid : ownerIds) {
        if (ids.size() > 1) ids += ',';
        ids += uid;
      }
      ids += '}';
      const auto walkIns = tx.exec_params(
          "SELECT u.id::text, u.display_name, u.email, u.ble_uuid::text FROM users u WHERE u.id = ANY($1::uuid[])",
          ids);
      for (const auto& row : walkIns) {
        detail::ReportInput::Person p;
        p.userId = row[0].as<std::string>();
        p.displayName = row[1].as<std::string>();
        p.email = row[2].as<std::string>();
        p.bleUuid = support::Uuid::parse(row[3].as<std::string>()).value_or(support::Uuid{});
        p.registered = false;
        in.people.push_back(std::move(p));
      }
    }
    return in;
  });
  if (!input) return input.error();
  return detail::computeReport(*input, options);
}

}  // namespace attendance::core
