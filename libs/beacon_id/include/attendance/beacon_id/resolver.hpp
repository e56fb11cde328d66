#pragma once

#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

// The trusted side of private rotating ids: from an observed bleUuid and the time it was seen
// to the participant whose key derived it (docs/beacon-spec.md "Resolving"). Only the backend
// holds keys; the scanner logs ids as it hears them. The backend's ingest uses it (libs/core/src/private_ids.cpp).
namespace attendance::beacon_id {

struct ResolverOptions {
  RotationPeriod period;
  // The index holds every key's instance for each window in [firstWindow, lastWindow]: the
  // windows of the check-ins to resolve, ± skewWindows, plus as far back as a replay should be
  // recognised as one (an id from a window outside the range is `unknown`, not `expired`).
  Window firstWindow = 0;
  Window lastWindow = 0;
  // An id of a window within ± skewWindows of the check-in's window is accepted (phone and
  // scanner clocks disagree, the phone switched ids late).
  std::uint32_t skewWindows = 1;
};

// Keys × windows beyond this are refused (errc::value_too_large): 16 bytes each, 1 GiB.
inline constexpr std::size_t kMaxIndexEntries = std::size_t{1} << 26;

enum class Verdict : std::uint8_t {
  matched,            // derived by exactly one participant's key for a window within ± skew
  expired,            // derived by a key, but for a window outside ± skew: a replay (or a phone clock far off)
  unknown,            // in the namespace, derived by no key for any indexed window
  outside_namespace,  // not this deployment's namespace
  ambiguous,          // two participants' keys derive it within ± skew (48-bit collision): refuse to guess
};
// "matched", "expired", "unknown", "outside-namespace", "ambiguous".
[[nodiscard]] std::string_view verdictName(Verdict v) noexcept;

struct Resolution {
  Verdict verdict = Verdict::unknown;
  std::size_t participant = 0;  // matched, expired: the position of its key in the set given to create()
  Window window = 0;            // matched, expired: the window the id was derived for
  std::int64_t offset = 0;      // matched, expired: window − the check-in's window (in [−skew, skew] when matched)
  friend bool operator==(const Resolution&, const Resolution&) = default;
};

// How the index computes one key's instances for a run of windows: out[i] must be
// instanceFor(key, ns, first + i). instancesFor (libsodium) by default; a backend may pass a faster
// one of its own (core passes OpenSSL's SHA-256, which uses the CPU's SHA instructions).
using InstanceDeriver = void (*)(const IdentityKey& key, const support::BleNamespace& ns, Window first,
                                 std::span<Instance> out) noexcept;

// An index of instance → (participant, window) built once per event (or range of windows), so
// resolving a record is one binary search, not one HMAC per participant.
class Resolver {
public:
  // errc::invalid_argument when lastWindow < firstWindow or a window's start is not representable
  // in Unix milliseconds; errc::value_too_large beyond kMaxIndexEntries. Costs keys × windows
  // HMAC-SHA-256 computations (through `derive`) and a sort of as many entries.
  [[nodiscard]] static Result<Resolver> create(const support::BleNamespace& ns, std::span<const IdentityKey> keys,
                                               const ResolverOptions& options, InstanceDeriver derive = &instancesFor);

  // What `observed`, seen at `checkInTimeMs` (Unix epoch ms), is. errc::invalid_argument for a time
  // before 1970. Outcomes that are not errors (expired, unknown, ...) are verdicts.
  [[nodiscard]] Result<Resolution> resolve(const support::Uuid& observed, std::int64_t checkInTimeMs) const noexcept;

  [[nodiscard]] std::size_t participants() const noexcept { return participants_; }
  [[nodiscard]] std::size_t entries() const noexcept { return entries_.size(); }
  [[nodiscard]] const ResolverOptions& options() const noexcept { return options_; }

private:
  struct Entry {
    std::uint64_t instance;  // the 6 bytes, big-endian, as an integer
    std::uint32_t participant;
    std::uint32_t windowOffset;  // window − firstWindow
  };
  Resolver(const support::BleNamespace& ns, const ResolverOptions& options, std::size_t participants,
           std::vector<Entry> entries);
  static void sortByInstance(std::vector<Entry>& entries);

  support::BleNamespace ns_;
  ResolverOptions options_;
  std::size_t participants_ = 0;
  std::vector<Entry> entries_;  // sorted by instance
};

}  // namespace attendance::beacon_id
