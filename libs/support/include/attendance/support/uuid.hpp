#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace attendance::support {

// A participant's bleUuid: 16 raw bytes. Kept as bytes (not text) so the hot path
// hashes and compares fixed-size values without allocating.
struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  // Length of the canonical text form: 8-4-4-4-12 hex digits.
  static constexpr std::size_t kTextLength = 36;

  // Accepts the 8-4-4-4-12 form in either case; nothing else (no braces, no urn:).
  [[nodiscard]] static std::optional<Uuid> parse(std::string_view text) noexcept;
  [[nodiscard]] static Uuid fromBytes(std::span<const std::uint8_t, 16> raw) noexcept {
    Uuid u;
    std::memcpy(u.bytes.data(), raw.data(), 16);
    return u;
  }

  // Writes exactly kTextLength lowercase characters to out (no terminator).
  void formatTo(char* out) const noexcept;
  [[nodiscard]] std::string toString() const;

  // True for UUIDs on the Bluetooth SIG base xxxxxxxx-0000-1000-8000-00805f9b34fb:
  // standard services, never participant ids.
  [[nodiscard]] bool isBluetoothSigBased() const noexcept;

  friend bool operator==(const Uuid&, const Uuid&) = default;
};

struct UuidHash {
  [[nodiscard]] std::size_t operator()(const Uuid& u) const noexcept {
    // bleUuids are random (v4) or operator-assigned: mixing two words is plenty.
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, u.bytes.data(), 8);
    std::memcpy(&b, u.bytes.data() + 8, 8);
    std::uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ULL);
    h ^= h >> 32;
    return static_cast<std::size_t>(h);
  }
};

}  // namespace attendance::support
