#pragma once

// Hexadecimal text: the one reader and writer of every UUID, namespace and key's hex form.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace attendance::support {

// Lowercase digits, indexed by a nibble's value.
inline constexpr char kHexDigits[] = "0123456789abcdef";

// The value of one hex digit (either case), or -1 for any other character.
[[nodiscard]] constexpr int hexDigitValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly 2 * out.size() hex digits (either case, nothing else) into `out`; false on any other
// text, and `out` is then unspecified.
[[nodiscard]] bool parseHex(std::string_view text, std::span<std::uint8_t> out) noexcept;

// Two lowercase digits per byte.
[[nodiscard]] std::string toHex(std::span<const std::uint8_t> bytes);

}  // namespace attendance::support
