#include <attendance/beacon_id/resolver.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include <sodium.h>

#include "sodium_init.hpp"

namespace attendance::beacon_id {
namespace {

std::uint64_t instanceValue(const std::uint8_t* bytes) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < kInstanceBytes; ++i) v = (v << 8) | bytes[i];
  return v;
}

}  // namespace

std::string_view verdictName(Verdict v) noexcept {
  switch (v) {
    case Verdict::matched: return "matched";
    case Verdict::expired: return "expired";
    case Verdict::unknown: return "unknown";
    case Verdict::outside_namespace: return "outside-namespace";
    case Verdict::ambiguous: return "ambiguous";
  }
  return "unknown";
}

Resolver::Resolver(const support::BleNamespace& ns, const ResolverOptions& options, std::size_t participants,
                   std::vector<Entry> entries)
    : ns_(ns), options_(options), participants_(participants), entries_(std::move(entries)) {}

Result<Resolver> Resolver::create(const support::BleNamespace& ns, std::span<const IdentityKey> keys,
                                  const ResolverOptions& options) {
  if (options.lastWindow < options.firstWindow)
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  // Every indexed window must be one a Unix-millisecond check-in time can fall in, which also
  // keeps window offsets and differences far inside 64 signed bits.
  if (!windowStartMs(options.lastWindow, options.period))
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  const std::uint64_t windows = options.lastWindow - options.firstWindow + 1;
  if (windows > kMaxIndexEntries || keys.size() > kMaxIndexEntries / windows) {
    return boost::system::errc::make_error_code(boost::system::errc::value_too_large);
  }
  detail::ensureSodium();

  std::vector<Entry> entries;
  entries.reserve(keys.size() * windows);
  for (std::size_t p = 0; p < keys.size(); ++p) {
    // The keyed state after the key block is the same for every window: set it up once per key.
    crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_init(&keyed, keys[p].bytes.data(), keys[p].bytes.size());
    for (std::uint64_t w = 0; w < windows; ++w) {
      const Message m = derivationMessage(ns, options.firstWindow + w);
      crypto_auth_hmacsha256_state state = keyed;
      crypto_auth_hmacsha256_update(&state, m.data(), m.size());
      Mac mac{};
      crypto_auth_hmacsha256_final(&state, mac.data());
      entries.push_back(Entry{instanceValue(mac.data()), static_cast<std::uint32_t>(p), static_cast<std::uint32_t>(w)});
    }
    sodium_memzero(&keyed, sizeof keyed);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.instance < b.instance; });
  return Resolver{ns, options, keys.size(), std::move(entries)};
}

Result<Resolution> Resolver::resolve(const support::Uuid& observed, std::int64_t checkInTimeMs) const noexcept {
  const auto seen = windowAt(checkInTimeMs, options_.period);
  if (!seen) return seen.error();
  if (!ns_.contains(observed)) return Resolution{Verdict::outside_namespace};

  const std::uint64_t instance = instanceValue(observed.bytes.data() + support::BleNamespace::kBytes);
  const auto [first, last] = std::equal_range(entries_.begin(), entries_.end(), Entry{instance, 0, 0},
                                              [](const Entry& a, const Entry& b) { return a.instance < b.instance; });
  if (first == last) return Resolution{Verdict::unknown};

  // Windows are below 2^53 (create() checks), so these differences cannot overflow.
  const auto distance = [&](const Entry& e) {
    const auto window = static_cast<std::int64_t>(options_.firstWindow + e.windowOffset);
    return window - static_cast<std::int64_t>(*seen);
  };
  const auto skew = static_cast<std::int64_t>(options_.skewWindows);
  const Entry* best = nullptr;  // the nearest window: within skew if any is
  bool ambiguous = false;
  for (auto it = first; it != last; ++it) {
    const std::int64_t d = distance(*it);
    const bool inSkew = d >= -skew && d <= skew;
    if (best == nullptr) {
      best = &*it;
      continue;
    }
    const std::int64_t bestD = distance(*best);
    const bool bestInSkew = bestD >= -skew && bestD <= skew;
    if (inSkew && bestInSkew && it->participant != best->participant) ambiguous = true;
    if ((inSkew && !bestInSkew) || (inSkew == bestInSkew && (d < 0 ? -d : d) < (bestD < 0 ? -bestD : bestD))) {
      best = &*it;
    }
  }
  const std::int64_t offset = distance(*best);
  const bool matched = offset >= -skew && offset <= skew;
  if (matched && ambiguous) return Resolution{Verdict::ambiguous};
  return Resolution{matched ? Verdict::matched : Verdict::expired, best->participant,
                    options_.firstWindow + best->windowOffset, offset};
}

}  // namespace attendance::beacon_id
