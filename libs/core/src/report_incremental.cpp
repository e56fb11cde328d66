// The incremental update of a cached report after new sync receipts
// (ReportCache, docs/adr/0035-report-cache-validated-by-a-transactional-data-version.md):
// when only the receipt count of the data version moved, the new snapshot's
// data is the cached snapshot's plus the check-ins of the receipts it did not
// see (every check-in commits with its receipt; receipts, unreceipted rows,
// users, registrations and the event row did not change). So the report is the
// cached one with those check-ins merged in, by the same rules computeReport
// uses (report.cpp): sightings, statuses, walk-ins, unknown devices, scanners,
// totals, the participants' order and the arrival buckets.
#include "db_util.hpp"
#include "report_compute.hpp"
#include "report_index.hpp"
#include "report_rows.hpp"

#include <algorithm>
#include <iterator>
#include <map>

namespace attendance::core::detail {

namespace {

// More new receipts than this in one update: a full build (keeps the bigint[] small).
constexpr std::size_t kMaxNewReceipts = 10'000;

std::string uuidArray(const std::vector<support::Uuid>& uuids) {
  std::string out = "{";
  out.reserve(uuids.size() * (support::Uuid::kTextLength + 1) + 2);
  for (const auto& u : uuids) {
    if (out.size() > 1) out += ',';
    const auto at = out.size();
    out.resize(at + support::Uuid::kTextLength);
    u.formatTo(out.data() + at);
  }
  out += '}';
  return out;
}

std::string idArray(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (const auto id : ids) {
    if (out.size() > 1) out += ',';
    out += std::to_string(id);
  }
  out += '}';
  return out;
}

bool sameEvent(const Event& a, const Event& b) {
  return a.id == b.id && a.name == b.name && a.venue == b.venue && a.startsAt == b.startsAt && a.endsAt == b.endsAt &&
         a.createdAt == b.createdAt;
}

}  // namespace

std::optional<EventReport> applyReceipts(const EventReport& base, ReceiptDelta delta, const OwnerLookup& lookupOwners,
                                         std::chrono::minutes bucketWidth) {
  EventReport r = base;
  r.version = delta.version;
  r.generatedAt = delta.now;

  // Scanners: the receipts' numbers are read again in full (few rows); the
  // stored rows grow by the new check-ins.
  auto scannerRow = [&r](std::string_view scannerId) -> ScannerRow& {
    for (auto& s : r.scanners) {
      if (s.scannerId == scannerId) return s;
    }
    ScannerRow& s = r.scanners.emplace_back();
    s.scannerId = std::string{scannerId};
    return s;
  };
  for (const auto& receipt : delta.receipts) {
    ScannerRow& s = scannerRow(receipt.scannerId);
    s.lastSyncAt = receipt.lastSyncAt;
    s.syncs = receipt.syncs;
    s.recordsReceived = receipt.recordsReceived;
    s.recordsResent = receipt.recordsResent;
    s.recordsRefused = receipt.recordsRefused;
  }
  {
    std::map<std::string_view, std::int64_t> stored;
    for (const auto& s : delta.seen) stored[s.scannerId] += s.count;
    for (const auto& [scannerId, n] : stored) scannerRow(scannerId).recordsStored += n;
  }
  sortScanners(r.scanners);
  r.synced = anySynced(r.scanners);

  // Where each bleUuid goes: a participant's row (every participant's current
  // bleUuid), an unknown device's row, or, for the rest, whoever the owner
  // lookup names (walk-ins and retired bleUuids, as in buildReport).
  const std::size_t baseRows = r.participants.size();
  UuidIndex rowOf{baseRows + delta.seen.size()};
  for (std::size_t i = 0; i < baseRows; ++i) rowOf.tryEmplace(r.participants[i].bleUuid, static_cast<std::uint32_t>(i));
  UuidIndex unknownOf{r.unknown.size() + delta.seen.size()};
  for (std::size_t i = 0; i < r.unknown.size(); ++i) {
    unknownOf.tryEmplace(r.unknown[i].bleUuid, static_cast<std::uint32_t>(i));
  }
  UuidIndex erasedOf{r.erased.size() + delta.seen.size()};
  for (std::size_t i = 0; i < r.erased.size(); ++i) {
    erasedOf.tryEmplace(r.erased[i].bleUuid, static_cast<std::uint32_t>(i));
  }
  std::vector<support::Uuid> unmatched;
  UuidIndex unmatchedIndex{delta.seen.size()};
  for (const auto& s : delta.seen) {
    if (rowOf.find(s.bleUuid) != UuidIndex::kNone || unknownOf.find(s.bleUuid) != UuidIndex::kNone ||
        erasedOf.find(s.bleUuid) != UuidIndex::kNone) {
      continue;
    }
    if (unmatchedIndex.tryEmplace(s.bleUuid, static_cast<std::uint32_t>(unmatched.size())).second) {
      unmatched.push_back(s.bleUuid);
    }
  }
  if (!unmatched.empty()) {
    const std::vector<OwnerRow> owners = lookupOwners(unmatched);
    // A person owns their current bleUuid before anyone who retired it
    // (computeReport indexes people's current bleUuids first).
    std::vector<const OwnerRow*> chosen(unmatched.size(), nullptr);
    for (const auto& o : owners) {
      const auto k = unmatchedIndex.find(o.bleUuid);
      if (k == UuidIndex::kNone) continue;
      const OwnerRow*& c = chosen[k];
      const bool current = o.currentBleUuid == o.bleUuid;
      if (c == nullptr || (current && c->currentBleUuid != c->bleUuid)) c = &o;
    }
    for (std::size_t k = 0; k < unmatched.size(); ++k) {
      const OwnerRow* o = chosen[k];
      if (o != nullptr && o->erased) {  // a deleted participant's: counted apart (ADR 0076)
        erasedOf.tryEmplace(unmatched[k], static_cast<std::uint32_t>(r.erased.size()));
        r.erased.emplace_back().bleUuid = unmatched[k];
        continue;
      }
      if (o == nullptr) {  // nobody's: an unknown device seen for the first time
        unknownOf.tryEmplace(unmatched[k], static_cast<std::uint32_t>(r.unknown.size()));
        r.unknown.emplace_back().bleUuid = unmatched[k];
        continue;
      }
      auto row = rowOf.find(o->currentBleUuid);
      if (row != UuidIndex::kNone) {
        if (r.participants[row].userId != o->userId) return std::nullopt;
      } else {
        // Every registered user has a row already (registrations did not change).
        if (o->registered) return std::nullopt;
        row = static_cast<std::uint32_t>(r.participants.size());
        ParticipantRow& p = r.participants.emplace_back();
        p.userId = o->userId;
        p.displayName = o->displayName;
        p.email = o->email;
        p.bleUuid = o->currentBleUuid;
        p.status = ParticipantStatus::walk_in;
        rowOf.tryEmplace(p.bleUuid, row);
      }
      rowOf.tryEmplace(unmatched[k], row);
    }
  }

  // Rows whose place in the order changes: no-shows now attended, new walk-ins.
  std::vector<char> moved(r.participants.size(), 0);
  std::fill(moved.begin() + static_cast<std::ptrdiff_t>(baseRows), moved.end(), 1);
  for (const auto& s : delta.seen) {
    if (const auto row = rowOf.find(s.bleUuid); row != UuidIndex::kNone) {
      ParticipantRow& p = r.participants[row];
      addSighting(p.seen, s.firstMs, s.lastMs, s.count, s.scannerId);
      if (p.status == ParticipantStatus::no_show) {
        p.status = ParticipantStatus::attended;
        moved[row] = 1;
      }
      continue;
    }
    if (const auto gone = erasedOf.find(s.bleUuid); gone != UuidIndex::kNone) {
      addSighting(r.erased[gone].seen, s.firstMs, s.lastMs, s.count, s.scannerId);
      continue;
    }
    const auto device = unknownOf.find(s.bleUuid);
    if (device == UuidIndex::kNone) return std::nullopt;  // cannot happen: every bleUuid was placed above
    addSighting(r.unknown[device].seen, s.firstMs, s.lastMs, s.count, s.scannerId);
  }

  // The rows that kept their key are still in computeReport's order; the moved
  // ones are sorted by the same comparison and merged in (keys are unique: the
  // email is).
  std::vector<std::uint32_t> kept;
  std::vector<std::uint32_t> movedRows;
  kept.reserve(r.participants.size());
  for (std::uint32_t i = 0; i < r.participants.size(); ++i) (moved[i] != 0 ? movedRows : kept).push_back(i);
  if (!movedRows.empty()) {
    const auto before = [&r](std::uint32_t a, std::uint32_t b) {
      return compareParticipants(r.participants[a], r.participants[b]) < 0;
    };
    std::sort(movedRows.begin(), movedRows.end(), before);
    std::vector<std::uint32_t> order;
    order.reserve(r.participants.size());
    std::merge(kept.begin(), kept.end(), movedRows.begin(), movedRows.end(), std::back_inserter(order), before);
    std::vector<ParticipantRow> rows;
    rows.reserve(order.size());
    for (const auto i : order) rows.push_back(std::move(r.participants[i]));
    r.participants = std::move(rows);
  }

  sortUnknownDevices(r.unknown);
  countTotals(r);
  computeArrivals(r, bucketWidth);
  return r;
}

Result<std::optional<UpdatedReport>> updateReport(ConnectionPool& pool, const EventReport& base,
                                                  const std::vector<std::int64_t>& baseReceiptIds, TimePoint now,
                                                  std::chrono::minutes bucketWidth, std::int64_t maxNewCheckIns) {
  using Answer = std::optional<UpdatedReport>;
  // Overrides decide over sightings (a revoked person stays a no-show, a revoked
  // walk-in leaves the report): the merge below does not apply those rules, so
  // an event with any override is always built in full.
  if (!base.audit.empty()) return Answer{};
  return withConnection(pool, "update_report", [&](pqxx::connection_base& conn) -> Result<Answer> {
    const std::string& id = base.event.id;
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
    tx.exec("SET LOCAL jit = off");
    const auto ev = tx.exec_params(kReportEventSql, id);
    if (ev.empty()) return make_error_code(Errc::event_not_found);
    Event event;
    event.id = ev[0][0].as<std::string>();
    event.name = ev[0][1].as<std::string>();
    event.venue = ev[0][2].as<std::string>();
    if (!ev[0][3].is_null()) event.startsAt = fromMs(int64(ev[0][3]));
    if (!ev[0][4].is_null()) event.endsAt = fromMs(int64(ev[0][4]));
    event.createdAt = fromMs(int64(ev[0][5]));
    // Also catches an event deleted and created again under the same id.
    if (!sameEvent(event, base.event)) return Answer{};
    const auto versionRows = tx.exec_params(kReportVersionSql, id);
    if (versionRows.empty()) return make_error_code(Errc::event_not_found);
    const ReportVersion version = readVersionRow(versionRows[0]);
    const ReportVersion& was = base.version;
    if (version.event != was.event || version.users != was.users || version.unreceipted != was.unreceipted ||
        version.receipts <= was.receipts) {
      return Answer{};
    }

    UpdatedReport out;
    std::vector<std::int64_t> fresh;
    std::int64_t newRows = 0;
    for (const auto& row : tx.exec_params(kReportReceiptCountsSql, id)) {
      const auto receipt = int64(row[0]);
      out.receiptIds.push_back(receipt);
      if (!std::binary_search(baseReceiptIds.begin(), baseReceiptIds.end(), receipt)) {
        fresh.push_back(receipt);
        newRows += int64(row[1]);
      }
    }
    // Every receipt the cached report saw must still be there (they are only
    // deleted with the event), and the count must be the version's.
    if (out.receiptIds.size() - fresh.size() != baseReceiptIds.size() ||
        static_cast<std::int64_t>(out.receiptIds.size()) != version.receipts) {
      return Answer{};
    }
    if (fresh.empty() || fresh.size() > kMaxNewReceipts || newRows > maxNewCheckIns) return Answer{};

    ReceiptDelta delta;
    delta.version = version;
    delta.now = now;
    for (const auto& row : tx.exec_params(kReportReceiptsSql, id)) {
      ScannerRow& s = delta.receipts.emplace_back();
      s.scannerId.assign(text(row[0]));
      s.lastSyncAt = fromMs(int64(row[1]));
      s.syncs = int64(row[2]);
      s.recordsReceived = int64(row[3]);
      s.recordsResent = int64(row[4]);
      s.recordsRefused = int64(row[5]);
    }
    for (const auto& row : tx.exec_params(kReportNewSeenSql, id, idArray(fresh))) {
      auto& s = delta.seen.emplace_back();
      s.bleUuid = uuid(row[0]);
      s.scannerId.assign(text(row[1]));
      s.firstMs = int64(row[2]);
      s.lastMs = int64(row[3]);
      s.count = int64(row[4]);
    }
    const OwnerLookup lookup = [&](const std::vector<support::Uuid>& uuids) {
      std::vector<OwnerRow> owners;
      for (const auto& row : tx.exec_params(kReportOwnersSql, id, uuidArray(uuids))) {
        OwnerRow& o = owners.emplace_back();
        o.bleUuid = uuid(row[0]);
        if (row[1].is_null()) {  // erased_ble_uuids
          o.erased = true;
          continue;
        }
        o.userId.assign(text(row[1]));
        o.displayName.assign(text(row[2]));
        o.email.assign(text(row[3]));
        o.currentBleUuid = uuid(row[4]);
        o.registered = row[5].as<bool>();
      }
      return owners;
    };
    auto updated = applyReceipts(base, std::move(delta), lookup, bucketWidth);
    if (!updated) return Answer{};
    out.report = std::move(*updated);
    return Answer{std::move(out)};
  });
}

}  // namespace attendance::core::detail
