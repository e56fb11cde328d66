#include <attendance/beacon_id/rotating_id.hpp>

#include <cstring>
#include <limits>

#include <sodium.h>

#include <attendance/support/hex.hpp>

#include "sodium_init.hpp"

namespace attendance::beacon_id {

std::optional<IdentityKey> IdentityKey::parseHex(std::string_view text) noexcept {
  IdentityKey key;
  if (!support::parseHex(text, key.bytes)) return std::nullopt;
  return key;
}

std::string IdentityKey::toHex() const { return support::toHex(bytes); }

Result<RotationPeriod> RotationPeriod::create(std::chrono::seconds period) noexcept {
  if (period < kMin || period > kMax)
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  return RotationPeriod{period};
}

Result<Window> windowAt(std::int64_t unixMs, RotationPeriod period) noexcept {
  if (unixMs < 0) return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  const auto seconds = static_cast<std::uint64_t>(unixMs / 1000);
  return seconds / static_cast<std::uint64_t>(period.seconds().count());
}

Result<std::int64_t> windowStartMs(Window window, RotationPeriod period) noexcept {
  const auto periodMs = static_cast<std::uint64_t>(period.seconds().count()) * 1000U;
  constexpr auto kMaxMs = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (window > kMaxMs / periodMs) return boost::system::errc::make_error_code(boost::system::errc::value_too_large);
  return static_cast<std::int64_t>(window * periodMs);
}

Message derivationMessage(const support::BleNamespace& ns, Window window) noexcept {
  Message m{};
  std::memcpy(m.data(), kDerivationLabel.data(), kDerivationLabel.size());
  std::memcpy(m.data() + kDerivationLabel.size(), ns.bytes.data(), ns.bytes.size());
  for (std::size_t i = 0; i < 8; ++i) {
    m[kMessageBytes - 1 - i] = static_cast<std::uint8_t>(window >> (8 * i));
  }
  return m;
}

Mac derivationMac(const IdentityKey& key, const support::BleNamespace& ns, Window window) noexcept {
  detail::ensureSodium();
  const Message m = derivationMessage(ns, window);
  Mac mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.bytes.data(), key.bytes.size());
  crypto_auth_hmacsha256_update(&state, m.data(), m.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return mac;
}

Instance instanceFor(const IdentityKey& key, const support::BleNamespace& ns, Window window) noexcept {
  const Mac mac = derivationMac(key, ns, window);
  Instance instance{};
  std::memcpy(instance.data(), mac.data(), instance.size());
  return instance;
}

void instancesFor(const IdentityKey& key, const support::BleNamespace& ns, Window first,
                  std::span<Instance> out) noexcept {
  if (out.empty()) return;
  detail::ensureSodium();
  // The keyed state after the key block is the same for every window: set it up once.
  crypto_auth_hmacsha256_state keyed;
  crypto_auth_hmacsha256_init(&keyed, key.bytes.data(), key.bytes.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Message m = derivationMessage(ns, first + i);
    crypto_auth_hmacsha256_state state = keyed;
    crypto_auth_hmacsha256_update(&state, m.data(), m.size());
    Mac mac{};
    crypto_auth_hmacsha256_final(&state, mac.data());
    std::memcpy(out[i].data(), mac.data(), out[i].size());
    sodium_memzero(mac.data(), mac.size());
  }
  sodium_memzero(&keyed, sizeof keyed);
}

support::Uuid bleUuidFor(const IdentityKey& key, const support::BleNamespace& ns, Window window) noexcept {
  return ns.withInstance(instanceFor(key, ns, window));
}

Result<support::Uuid> bleUuidAt(const IdentityKey& key, const support::BleNamespace& ns, RotationPeriod period,
                                std::int64_t unixMs) noexcept {
  const auto window = windowAt(unixMs, period);
  if (!window) return window.error();
  return bleUuidFor(key, ns, *window);
}

}  // namespace attendance::beacon_id
