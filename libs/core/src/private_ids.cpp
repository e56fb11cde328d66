#include <attendance/core/private_ids.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/log.hpp>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "db_util.hpp"
#include "instance_derivation.hpp"
#include "private_ids_ingest.hpp"

namespace attendance::core {
namespace detail {

// One private-ids event's resolver index under one (report_version, identity_keys_version).
struct EventResolverIndex {
  std::int64_t reportVersion = 0;
  std::int64_t keysVersion = 0;
  support::BleNamespace ns;
  std::uint64_t lastUsed = 0;

  // The index this one replaces (same event and namespace, older versions) until the keys are loaded:
  // when the same participants have the same keys, its entries are reused instead of rebuilt.
  std::shared_ptr<EventResolverIndex> previous;

  std::mutex mutex;  // guards everything below
  bool loaded = false;
  // BLAKE2b of the rows the keys came from (user, static bleUuid, sealed key, in user order).
  std::array<unsigned char, crypto_generichash_BYTES> membership{};
  std::vector<beacon_id::IdentityKey> keys;  // registered participants with a key
  std::vector<support::Uuid> staticIds;      // their static bleUuids, same order
  struct Run {
    beacon_id::Window last = 0;
    std::shared_ptr<const beacon_id::Resolver> resolver;
  };
  std::map<beacon_id::Window, Run> runs;  // by first window; never overlapping

  EventResolverIndex() = default;
  EventResolverIndex(const EventResolverIndex&) = delete;
  EventResolverIndex& operator=(const EventResolverIndex&) = delete;
  ~EventResolverIndex() {
    if (!keys.empty()) sodium_memzero(keys.data(), keys.size() * sizeof keys[0]);
  }

  const Run* runContaining(beacon_id::Window w) const {
    auto it = runs.upper_bound(w);
    if (it == runs.begin()) return nullptr;
    --it;
    return w <= it->second.last ? &it->second : nullptr;
  }
};

}  // namespace detail

PrivateIdResolver::PrivateIdResolver(std::optional<ServerKey> serverKey, PrivateIdOptions options)
    : serverKey_(std::move(serverKey)), options_(options) {}

PrivateIdResolver::~PrivateIdResolver() { serverKey_.reset(); }

std::shared_ptr<detail::EventResolverIndex> PrivateIdResolver::indexFor(const std::string& eventId,
                                                                        std::int64_t reportVersion,
                                                                        std::int64_t keysVersion,
                                                                        const support::BleNamespace& ns) {
  std::lock_guard lock{mutex_};
  auto& slot = events_[eventId];
  if (!slot || slot->reportVersion != reportVersion || slot->keysVersion != keysVersion || slot->ns.bytes != ns.bytes) {
    auto fresh = std::make_shared<detail::EventResolverIndex>();
    // The versions move for more than who is indexed (an override at the door, an event edit, a key
    // made for a participant of another event): keep the old index at hand to reuse if nothing changed.
    if (slot && slot->ns.bytes == ns.bytes) fresh->previous = std::move(slot);
    slot = std::move(fresh);
    slot->reportVersion = reportVersion;
    slot->keysVersion = keysVersion;
    slot->ns = ns;
  }
  slot->lastUsed = ++clock_;
  auto index = slot;
  while (events_.size() > std::max<std::size_t>(1, options_.maxEvents)) {
    auto oldest = std::min_element(events_.begin(), events_.end(), [](const auto& a, const auto& b) {
      return a.second->lastUsed < b.second->lastUsed;
    });
    events_.erase(oldest);
  }
  return index;
}

namespace detail {
namespace {

// Decrypts the keys of the event's registered participants (those who have one).
void loadKeys(pqxx::transaction_base& tx, const ServerKey& server, const std::string& eventId,
              EventResolverIndex& index) {
  const auto rows = tx.exec_params(
      "SELECT k.user_id::text, u.ble_uuid::text, k.key_version, encode(k.nonce, 'hex'), encode(k.ciphertext, 'hex') "
      "FROM registrations r JOIN participant_identity_keys k ON k.user_id = r.user_id "
      "JOIN users u ON u.id = r.user_id WHERE r.event_id = $1 ORDER BY k.user_id",
      eventId);
  crypto_generichash_state digest;
  crypto_generichash_init(&digest, nullptr, 0, index.membership.size());
  for (const auto& row : rows) {
    for (int c = 0; c < 5; ++c) {
      crypto_generichash_update(&digest, reinterpret_cast<const unsigned char*>(row[c].c_str()), row[c].size());
      crypto_generichash_update(&digest, reinterpret_cast<const unsigned char*>("|"), 1);
    }
  }
  crypto_generichash_final(&digest, index.membership.data(), index.membership.size());
  if (auto previous = std::move(index.previous)) {
    std::lock_guard lock{previous->mutex};
    if (previous->loaded && previous->membership == index.membership) {
      index.keys = previous->keys;
      index.staticIds = previous->staticIds;
      index.runs = previous->runs;  // immutable resolvers, shared
      return;
    }
  }
  index.keys.reserve(rows.size());
  index.staticIds.reserve(rows.size());
  std::size_t unreadable = 0;
  for (const auto& row : rows) {
    const auto userId = support::Uuid::parse(row[0].c_str());
    const auto ble = support::Uuid::parse(row[1].c_str());
    const auto sealed = parseSealedIdentityKey(row[2].as<std::int16_t>(), row[3].c_str(), row[4].c_str());
    const bool ok = userId && ble && sealed;
    std::optional<beacon_id::IdentityKey> key = ok ? openIdentityKey(server, *userId, *sealed) : std::nullopt;
    if (!key) {
      ++unreadable;
      continue;
    }
    index.keys.push_back(*key);
    index.staticIds.push_back(*ble);
  }
  if (unreadable > 0) {
    support::log::error("ingest.identity_keys_unreadable", {{"eventId", eventId}, {"count", unreadable}});
  }
}

// Builds the windows of `wanted` no run covers yet, one Resolver per contiguous stretch
// (the keys' HMAC set-up is shared by the windows of a stretch).
void ensureWindows(EventResolverIndex& index, const PrivateIdOptions& options,
                   const std::set<beacon_id::Window>& wanted) {
  std::vector<std::pair<beacon_id::Window, beacon_id::Window>> missing;
  for (const auto w : wanted) {
    if (index.runContaining(w) != nullptr) continue;
    if (!missing.empty() && missing.back().second + 1 == w) {
      missing.back().second = w;
    } else {
      missing.emplace_back(w, w);
    }
  }
  for (const auto& [first, last] : missing) {
    beacon_id::ResolverOptions ro{options.period, first, last, 0};
    auto built = beacon_id::Resolver::create(index.ns, index.keys, ro, &deriveInstances);
    if (!built) throw CoreFailure{Errc::internal};
    index.runs.emplace(first,
                       EventResolverIndex::Run{last, std::make_shared<const beacon_id::Resolver>(std::move(*built))});
  }
}

// The participants whose key derives `id` for window `w` (0, 1, or 2 = more than one).
struct AtWindow {
  std::optional<std::size_t> participant;
  bool ambiguous = false;
};
AtWindow lookupAt(const EventResolverIndex& index, const PrivateIdOptions& options, const support::Uuid& id,
                  beacon_id::Window w) {
  const auto* run = index.runContaining(w);
  if (run == nullptr) return {};
  const auto start = beacon_id::windowStartMs(w, options.period);
  if (!start) return {};
  const auto r = run->resolver->resolve(id, *start);
  if (!r) return {};
  if (r->verdict == beacon_id::Verdict::ambiguous) return {std::nullopt, true};
  if (r->verdict == beacon_id::Verdict::matched) return {r->participant, false};
  return {};
}

std::string uuidArray(const std::vector<support::Uuid>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += ids[i].toString();
  }
  return out + "}";
}

}  // namespace

std::vector<PrivateIdVerdict> resolvePrivateIds(pqxx::transaction_base& tx, PrivateIdResolver& resolver,
                                                const std::string& eventId, std::int64_t reportVersion,
                                                std::int64_t keysVersion, const support::BleNamespace& ns,
                                                std::span<const ObservedId> observed) {
  std::vector<PrivateIdVerdict> verdicts(observed.size());
  const ServerKey* server = resolver.serverKey();
  if (server == nullptr) throw CoreFailure{Errc::beacon_key_missing};
  const PrivateIdOptions& options = resolver.options();
  const auto skew = static_cast<beacon_id::Window>(options.skewWindows);

  auto index = resolver.indexFor(eventId, reportVersion, keysVersion, ns);
  std::lock_guard lock{index->mutex};
  if (!index->loaded) {
    loadKeys(tx, *server, eventId, *index);
    index->loaded = true;
  }

  // The windows of each in-namespace record, ± skew.
  std::vector<beacon_id::Window> windows(observed.size(), 0);
  std::set<beacon_id::Window> wanted;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    if (!ns.contains(observed[i].bleUuid)) continue;
    const auto w = beacon_id::windowAt(observed[i].checkInTimeMs, options.period);
    if (!w) continue;  // before 1970: refused earlier by ingest's own checks
    windows[i] = *w;
    for (beacon_id::Window x = *w >= skew ? *w - skew : 0; x <= *w + skew; ++x) wanted.insert(x);
  }
  ensureWindows(*index, options, wanted);

  std::vector<std::size_t> misses;  // in the namespace, matched no participant within the skew
  for (std::size_t i = 0; i < observed.size(); ++i) {
    if (!ns.contains(observed[i].bleUuid)) continue;
    const auto w = windows[i];
    std::optional<std::size_t> who;
    bool ambiguous = false;
    for (beacon_id::Window x = w >= skew ? w - skew : 0; x <= w + skew; ++x) {
      const auto at = lookupAt(*index, options, observed[i].bleUuid, x);
      ambiguous = ambiguous || at.ambiguous || (at.participant && who && *who != *at.participant);
      if (at.participant) who = at.participant;
    }
    if (ambiguous) {
      verdicts[i].outcome = PrivateIdOutcome::ambiguous;
    } else if (who) {
      verdicts[i].outcome = PrivateIdOutcome::resolved;
      verdicts[i].bleUuid = index->staticIds[*who];
    } else {
      misses.push_back(i);
    }
  }
  if (misses.empty() || options.lookBackWindows <= skew) return verdicts;

  // A miss that is somebody's static bleUuid (current or retired) is today's lookup; only
  // the rest can be a replay, and only for them is the look-back built.
  std::vector<support::Uuid> missIds;
  missIds.reserve(misses.size());
  for (const auto i : misses) missIds.push_back(observed[i].bleUuid);
  std::set<support::Uuid, decltype([](const support::Uuid& a, const support::Uuid& b) { return a.bytes < b.bytes; })>
      owned;
  for (const auto& row : tx.exec_params(
           "SELECT s::text FROM unnest($1::uuid[]) AS s WHERE EXISTS (SELECT 1 FROM users u WHERE u.ble_uuid = s) "
           "OR EXISTS (SELECT 1 FROM retired_ble_uuids r WHERE r.ble_uuid = s)",
           uuidArray(missIds))) {
    if (const auto u = support::Uuid::parse(row[0].c_str())) owned.insert(*u);
  }
  std::vector<std::size_t> suspects;
  std::set<beacon_id::Window> lookBack;
  for (const auto i : misses) {
    if (owned.contains(observed[i].bleUuid)) continue;
    suspects.push_back(i);
    const auto w = windows[i];
    const beacon_id::Window from = w >= options.lookBackWindows ? w - options.lookBackWindows : 0;
    for (beacon_id::Window x = from; x + skew < w; ++x) lookBack.insert(x);
  }
  if (suspects.empty()) return verdicts;
  ensureWindows(*index, options, lookBack);
  for (const auto i : suspects) {
    const auto w = windows[i];
    const beacon_id::Window from = w >= options.lookBackWindows ? w - options.lookBackWindows : 0;
    // Each run overlapping [from, w − skew − 1] answers with its window nearest to the record's.
    for (const auto& [first, run] : index->runs) {
      if (run.last < from || first + skew >= w) continue;
      const beacon_id::Window probe = std::min<beacon_id::Window>(run.last, w - skew - 1);
      const auto start = beacon_id::windowStartMs(probe, options.period);
      if (!start) continue;
      const auto r = run.resolver->resolve(observed[i].bleUuid, *start);
      if (!r || (r->verdict != beacon_id::Verdict::matched && r->verdict != beacon_id::Verdict::expired)) continue;
      if (r->window < from || r->window + skew >= w) continue;
      const auto offset = static_cast<std::int64_t>(r->window) - static_cast<std::int64_t>(w);
      if (verdicts[i].outcome != PrivateIdOutcome::expired || offset > verdicts[i].offset) {
        verdicts[i].outcome = PrivateIdOutcome::expired;
        verdicts[i].offset = offset;
      }
    }
  }
  return verdicts;
}

}  // namespace detail

Result<std::size_t> PrivateIdResolver::prepare(ConnectionPool& pool, const std::string& eventId) {
  return detail::withConnection(pool, "prepare_private_ids", [&](pqxx::connection_base& conn) -> Result<std::size_t> {
    pqxx::read_transaction tx{conn};
    const auto r = tx.exec_params(
        "SELECT e.private_ids, e.report_version, (SELECT version FROM identity_keys_version), "
        "encode(d.ble_namespace, 'hex'), " ATTENDANCE_SQL_MS("e.starts_at") ", " ATTENDANCE_SQL_MS(
            "e.ends_at") " FROM events e CROSS JOIN deployment d WHERE e.id = $1",
        eventId);
    if (r.empty()) return make_error_code(Errc::event_not_found);
    if (!r[0][0].as<bool>() || r[0][4].is_null() || r[0][5].is_null()) return std::size_t{0};
    if (!serverKey_) return make_error_code(Errc::beacon_key_missing);
    const auto ns = support::BleNamespace::parseHex(r[0][3].c_str());
    const auto first = beacon_id::windowAt(std::max<std::int64_t>(0, r[0][4].as<std::int64_t>()), options_.period);
    const auto last = beacon_id::windowAt(std::max<std::int64_t>(0, r[0][5].as<std::int64_t>()), options_.period);
    if (!ns || !first || !last) return make_error_code(Errc::internal);
    const auto skew = static_cast<beacon_id::Window>(options_.skewWindows);
    // At most four look-backs' worth (four days at 15 minutes) ahead of time; longer events build the rest lazily.
    const beacon_id::Window from = *first >= skew ? *first - skew : 0;
    const beacon_id::Window to =
        std::min<beacon_id::Window>(*last + skew, from + 4 * std::max<beacon_id::Window>(1, options_.lookBackWindows));
    auto index = indexFor(eventId, r[0][1].as<std::int64_t>(), r[0][2].as<std::int64_t>(), *ns);
    std::lock_guard lock{index->mutex};
    if (!index->loaded) {
      detail::loadKeys(tx, *serverKey_, eventId, *index);
      index->loaded = true;
    }
    std::set<beacon_id::Window> wanted;
    for (beacon_id::Window w = from; w <= to; ++w) wanted.insert(w);
    std::size_t before = 0;
    for (const auto& [w, run] : index->runs) before += run.resolver->entries();
    detail::ensureWindows(*index, options_, wanted);
    std::size_t after = 0;
    for (const auto& [w, run] : index->runs) after += run.resolver->entries();
    return after - before;
  });
}

}  // namespace attendance::core

namespace attendance::core {

Result<PrivateIdResolver::Prepared> PrivateIdResolver::prepareCurrent(ConnectionPool& pool,
                                                                      std::chrono::system_clock::time_point now) {
  if (!serverKey_) return Prepared{};
  auto ids = detail::withConnection(
      pool, "current_private_id_events", [&](pqxx::connection_base& conn) -> Result<std::vector<std::string>> {
        pqxx::read_transaction tx{conn};
        const auto rows = tx.exec_params(
            "SELECT id FROM events WHERE private_ids AND starts_at IS NOT NULL AND ends_at IS NOT NULL "
            "AND starts_at - interval '1 day' <= to_timestamp($1::bigint / 1000.0) "
            "AND ends_at + interval '1 day' >= to_timestamp($1::bigint / 1000.0) "
            "ORDER BY abs(extract(epoch from starts_at - to_timestamp($1::bigint / 1000.0))), id LIMIT $2",
            support::toEpochMillis(now), static_cast<std::int64_t>(std::max<std::size_t>(1, options_.maxEvents)));
        std::vector<std::string> out;
        for (const auto& row : rows) out.emplace_back(row[0].c_str());
        return out;
      });
  if (!ids) return ids.error();
  Prepared prepared;
  for (const auto& id : *ids) {
    auto built = prepare(pool, id);
    if (!built) {
      support::log::warn("private_ids.prepare_failed", {{"eventId", id}, {"error", built.error().message()}});
      continue;
    }
    ++prepared.events;
    prepared.entries += *built;
  }
  return prepared;
}

void PrivateIdResolver::refreshCurrent(ConnectionPool& pool, const support::TimeSource& clock,
                                       std::chrono::nanoseconds interval, std::stop_token stop,
                                       const std::function<void(const Result<Prepared>&)>& onRound) {
  if (!serverKey_) return;
  do {
    const auto round = prepareCurrent(pool, clock.systemTime());
    if (onRound) onRound(round);
  } while (clock.waitFor(interval, stop));
}

}  // namespace attendance::core
