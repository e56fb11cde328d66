#pragma once

#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

// Private rotating ids (docs/beacon-spec.md, ADR 0029): a participant's phone broadcasts
// namespace ‖ instance, where the 6-byte instance is derived from the participant's secret
// identity key and the current time window, so it changes every period and only a holder of
// the key (the backend) can tell whose it is. Pure functions: no clock, no I/O, no randomness.
// Not yet used by the scanner, the backend or a broadcaster (issue 11, next step).
namespace attendance::beacon_id {

// The domain-separation label at the start of every derivation message (ASCII, no terminator).
inline constexpr std::string_view kDerivationLabel = "attendance-eid-v1";
inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kInstanceBytes = 6;
inline constexpr std::size_t kMacBytes = 32;
// label (17) ‖ namespace (10) ‖ window, unsigned 64-bit big-endian (8).
inline constexpr std::size_t kMessageBytes = kDerivationLabel.size() + support::BleNamespace::kBytes + 8;

using Instance = std::array<std::uint8_t, kInstanceBytes>;
using Mac = std::array<std::uint8_t, kMacBytes>;
using Message = std::array<std::uint8_t, kMessageBytes>;
// floor(Unix seconds / period seconds).
using Window = std::uint64_t;

// A participant's secret identity key: 32 random bytes the backend generates (never derived
// from anything the participant or the scanner knows).
struct IdentityKey {
  std::array<std::uint8_t, kKeyBytes> bytes{};

  // Exactly 64 hex digits, either case.
  [[nodiscard]] static std::optional<IdentityKey> parseHex(std::string_view text) noexcept;
  // 64 lowercase hex digits.
  [[nodiscard]] std::string toHex() const;

  friend bool operator==(const IdentityKey&, const IdentityKey&) = default;
};

// How long one instance is broadcast. Whole seconds, 1 s to 1 day; 15 minutes by default.
class RotationPeriod {
public:
  static constexpr std::chrono::seconds kDefault{900};
  static constexpr std::chrono::seconds kMin{1};
  static constexpr std::chrono::seconds kMax{86400};

  constexpr RotationPeriod() noexcept = default;
  // errc::invalid_argument outside [kMin, kMax].
  [[nodiscard]] static Result<RotationPeriod> create(std::chrono::seconds period) noexcept;

  [[nodiscard]] constexpr std::chrono::seconds seconds() const noexcept { return seconds_; }
  friend constexpr bool operator==(RotationPeriod, RotationPeriod) = default;

private:
  constexpr explicit RotationPeriod(std::chrono::seconds s) noexcept : seconds_(s) {}
  std::chrono::seconds seconds_ = kDefault;
};

// The window containing `unixMs` (Unix epoch milliseconds, the unit of checkInTime):
// floor(floor(unixMs / 1000) / period). errc::invalid_argument for a time before 1970.
[[nodiscard]] Result<Window> windowAt(std::int64_t unixMs, RotationPeriod period) noexcept;
// The first millisecond of `window`; errc::value_too_large when it is not representable.
[[nodiscard]] Result<std::int64_t> windowStartMs(Window window, RotationPeriod period) noexcept;

// "attendance-eid-v1" ‖ namespace ‖ window as 8 bytes big-endian: the HMAC input.
[[nodiscard]] Message derivationMessage(const support::BleNamespace& ns, Window window) noexcept;
// HMAC-SHA-256(key, derivationMessage(ns, window)).
[[nodiscard]] Mac derivationMac(const IdentityKey& key, const support::BleNamespace& ns, Window window) noexcept;
// The first 6 bytes of derivationMac.
[[nodiscard]] Instance instanceFor(const IdentityKey& key, const support::BleNamespace& ns, Window window) noexcept;
// out[i] = instanceFor(key, ns, first + i) for every i: one key's instances for a run of windows
// (the key's HMAC set-up is done once for all of them).
void instancesFor(const IdentityKey& key, const support::BleNamespace& ns, Window first,
                  std::span<Instance> out) noexcept;
// namespace ‖ instanceFor(...): the 16 bytes broadcast during `window` (the bleUuid).
[[nodiscard]] support::Uuid bleUuidFor(const IdentityKey& key, const support::BleNamespace& ns, Window window) noexcept;
// bleUuidFor the window containing `unixMs`; errc::invalid_argument for a time before 1970.
[[nodiscard]] Result<support::Uuid> bleUuidAt(const IdentityKey& key, const support::BleNamespace& ns,
                                              RotationPeriod period, std::int64_t unixMs) noexcept;

}  // namespace attendance::beacon_id
