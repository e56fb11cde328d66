#include <attendance/support/ble_namespace.hpp>

#include <attendance/support/hex.hpp>

#include <cstring>

namespace attendance::support {

std::optional<BleNamespace> BleNamespace::parseHex(std::string_view text) noexcept {
  BleNamespace ns;
  if (!support::parseHex(text, ns.bytes)) return std::nullopt;
  return ns;
}

std::string BleNamespace::toHex() const { return support::toHex(bytes); }

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
