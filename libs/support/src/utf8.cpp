#include <attendance/support/utf8.hpp>

#include <cstdint>

namespace attendance::support {

std::size_t utf8SequenceLength(std::string_view text, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else
    return 0;
  if (len > text.size() - i) return 0;
  std::uint32_t cp = b0 & (0x7FU >> len);
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3FU);
  }
  // Overlong forms would let one character have several spellings (a classic filter
  // bypass); surrogates and code points past U+10FFFF are not characters at all.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool isValidUtf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8SequenceLength(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string_view utf8Prefix(std::string_view text, std::size_t maxBytes) noexcept {
  if (text.size() <= maxBytes) return text;
  // text[cut] is the first byte left out: while it continues a character, that
  // character started inside the prefix and must go too. A character has at most
  // three continuation bytes, so invalid input cannot make this walk far.
  std::size_t cut = maxBytes;
  for (int k = 0; k < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++k) --cut;
  return text.substr(0, cut);
}

}  // namespace attendance::support
