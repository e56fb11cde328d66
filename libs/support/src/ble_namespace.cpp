#include <attendance/support/ble_namespace.hpp>

#include <cstring>

namespace attendance::support {
namespace {

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<BleNamespace> BleNamespace::parseHex(std::string_view text) noexcept {
  if (text.size() != kHexLength) return std::nullopt;
  BleNamespace ns;
  for (std::size_t i = 0; i < kBytes; ++i) {
    const int hi = hexValue(text[2 * i]);
    const int lo = hexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    ns.bytes[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return ns;
}

std::string BleNamespace::toHex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kHexLength, '0');
  for (std::size_t i = 0; i < kBytes; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0x0f];
  }
  return out;
}

bool BleNamespace::contains(const Uuid& id) const noexcept {
  return std::memcmp(id.bytes.data(), bytes.data(), kBytes) == 0;
}

Uuid BleNamespace::withInstance(const std::array<std::uint8_t, 6>& instance) const noexcept {
  Uuid u;
  std::memcpy(u.bytes.data(), bytes.data(), kBytes);
  std::memcpy(u.bytes.data() + kBytes, instance.data(), instance.size());
  return u;
}

}  // namespace attendance::support
