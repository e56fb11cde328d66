#pragma once

#include <attendance/beacon_id/resolver.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/identity_keys.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

// Ingest's side of private rotating ids (issue 11 §2, docs/beacon-spec.md "Resolving"):
// which participant an observed bleUuid of a private-ids event belongs to.
namespace attendance::core {

struct PrivateIdOptions {
  beacon_id::RotationPeriod period;  // 900 s, what GET /api/me/beacon tells broadcasters
  std::uint32_t skewWindows = 1;     // the window of checkInTime ± this is accepted
  // How far back an id is recognised as a replay (`expired_id`): a day at 15 minutes.
  std::uint32_t lookBackWindows = 96;
  // Events whose index is kept at once (least recently used goes first).
  std::size_t maxEvents = 4;
};

namespace detail {
struct EventResolverIndex;
}

// Holds the server key and, per private-ids event, the resolver index: every registered
// participant's instance per window (beacon_id::Resolver), built only for the windows the
// batches touch (each record's window ± skew; the look-back only when an id matches nobody
// there and is no participant's static bleUuid) and kept while the event's registrations
// (events.report_version) and the identity keys (identity_keys_version) are unchanged, so
// the keys are decrypted and each window hashed once per event, not once per batch.
// Thread-safe; one per backend process (BackendContext), shared by every ingest.
class PrivateIdResolver {
public:
  explicit PrivateIdResolver(std::optional<ServerKey> serverKey, PrivateIdOptions options = {});
  ~PrivateIdResolver();
  PrivateIdResolver(const PrivateIdResolver&) = delete;
  PrivateIdResolver& operator=(const PrivateIdResolver&) = delete;

  [[nodiscard]] bool hasServerKey() const noexcept { return serverKey_.has_value(); }
  [[nodiscard]] const ServerKey* serverKey() const noexcept { return serverKey_ ? &*serverKey_ : nullptr; }
  [[nodiscard]] const PrivateIdOptions& options() const noexcept { return options_; }

  // Builds the index of a private-ids event for its whole [startsAt, endsAt] (± skew) ahead of the
  // first batch, so that batch costs what a static-id batch costs (docs/beacon-spec.md "Resolving").
  // The backend calls it when a scanner fetches the event's roster (the scanner's start). Returns the
  // index entries built now (0: not a private-ids event, undated, or already built for these versions).
  // Errc::event_not_found, Errc::beacon_key_missing.
  [[nodiscard]] Result<std::size_t> prepare(ConnectionPool& pool, const std::string& eventId);

  // What prepareCurrent() did: the events it prepared (built or found built) and the index entries
  // it built now (0 when every index was current).
  struct Prepared {
    std::size_t events = 0;
    std::size_t entries = 0;
  };

  // prepare() for every dated private-ids event whose [startsAt, endsAt] is within a day of `now`
  // (at most options().maxEvents, nearest first). Nothing without a server key. A failure of one
  // event is logged and the rest are still prepared.
  [[nodiscard]] Result<Prepared> prepareCurrent(ConnectionPool& pool, std::chrono::system_clock::time_point now);

  // prepareCurrent() now and then every `interval` of `clock` until `stop`, calling `onRound` after each
  // round: what `serve` runs on a thread of its own, so the index is built before the first batch after a
  // restart and rebuilt off any request when who is registered (or their keys) changed since, whichever
  // process changed it (the admin console removes registrations too). Returns when `stop` is requested.
  void refreshCurrent(ConnectionPool& pool, const support::TimeSource& clock, std::chrono::nanoseconds interval,
                      std::stop_token stop, const std::function<void(const Result<Prepared>&)>& onRound);

  // For ingest (libs/core/src/ingest.cpp): the event's index for these versions, built or reused.
  [[nodiscard]] std::shared_ptr<detail::EventResolverIndex> indexFor(const std::string& eventId,
                                                                     std::int64_t reportVersion,
                                                                     std::int64_t keysVersion,
                                                                     const support::BleNamespace& ns);

private:
  std::optional<ServerKey> serverKey_;
  PrivateIdOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<detail::EventResolverIndex>> events_;
  std::uint64_t clock_ = 0;  // for least-recently-used eviction
};

}  // namespace attendance::core
