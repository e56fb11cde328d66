#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/support/uuid.hpp>

namespace attendance::support {

// A deployment's 10-byte namespace (ADR 0027): every bleUuid it hands out is
// namespace ‖ 6-byte instance, the layout of an Eddystone-UID frame and, read as
// one 16-byte value, an iBeacon proximity UUID. A scanner that knows the namespace
// can tell this deployment's participants from every other device in the room.
struct BleNamespace {
  static constexpr std::size_t kBytes = 10;
  static constexpr std::size_t kHexLength = 2 * kBytes;

  std::array<std::uint8_t, kBytes> bytes{};

  // Exactly 20 hex digits, either case; nothing else (no dashes, no 0x).
  [[nodiscard]] static std::optional<BleNamespace> parseHex(std::string_view text) noexcept;
  // 20 lowercase hex digits.
  [[nodiscard]] std::string toHex() const;

  // True when the first 10 bytes of `id` are this namespace.
  [[nodiscard]] bool contains(const Uuid& id) const noexcept;
  // namespace ‖ instance.
  [[nodiscard]] Uuid withInstance(const std::array<std::uint8_t, 6>& instance) const noexcept;

  friend bool operator==(const BleNamespace&, const BleNamespace&) = default;
};

}  // namespace attendance::support
