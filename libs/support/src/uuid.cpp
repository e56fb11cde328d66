#include <attendance/support/uuid.hpp>

#include <attendance/support/hex.hpp>

namespace attendance::support {
namespace {

constexpr std::array<bool, 36> kDashAt = [] {
  std::array<bool, 36> d{};
  d[8] = d[13] = d[18] = d[23] = true;
  return d;
}();

constexpr std::array<std::uint8_t, 12> kSigBaseTail{0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                                                    0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb};

}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view text) noexcept {
  if (text.size() != kTextLength) return std::nullopt;
  Uuid u;
  std::size_t out = 0;
  for (std::size_t i = 0; i < kTextLength;) {
    if (kDashAt[i]) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hexDigitValue(text[i]);
    const int lo = hexDigitValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    u.bytes[out++] = static_cast<std::uint8_t>((hi << 4) | lo);
    i += 2;
  }
  return u;
}

void Uuid::formatTo(char* out) const noexcept {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
    out[pos++] = kHexDigits[bytes[i] >> 4];
    out[pos++] = kHexDigits[bytes[i] & 0x0f];
  }
}

std::string Uuid::toString() const {
  std::string s(kTextLength, '\0');
  formatTo(s.data());
  return s;
}

bool Uuid::isBluetoothSigBased() const noexcept {
  return std::memcmp(bytes.data() + 4, kSigBaseTail.data(), kSigBaseTail.size()) == 0;
}

}  // namespace attendance::support
