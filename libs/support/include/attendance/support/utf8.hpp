#pragma once

#include <cstddef>
#include <string_view>

// The one UTF-8 check and the one boundary-safe cut. Text from clients must pass
// isValidUtf8 before it reaches PostgreSQL (a UTF8 database refuses anything
// else with an error, which would otherwise surface as a 500), and text we shorten
// must be cut with utf8Prefix so that valid text stays valid.
namespace attendance::support {

// Length (1-4) of the well-formed UTF-8 sequence starting at text[i], or 0 when the
// bytes there are not one (RFC 3629): a stray continuation byte, 0xC0/0xC1/0xF5-0xFF,
// an overlong form, a surrogate U+D800..U+DFFF, a code point above U+10FFFF, or a
// sequence cut short by the end of the text. Requires i < text.size().
[[nodiscard]] std::size_t utf8SequenceLength(std::string_view text, std::size_t i) noexcept;

// True when the whole text is well-formed UTF-8 (the empty text is).
[[nodiscard]] bool isValidUtf8(std::string_view text) noexcept;

// The longest prefix of `text` of at most maxBytes bytes that does not end inside
// a multi-byte character: valid UTF-8 in gives valid UTF-8 out. (Invalid input is
// cut at most three bytes short of maxBytes and stays invalid.)
[[nodiscard]] std::string_view utf8Prefix(std::string_view text, std::size_t maxBytes) noexcept;

}  // namespace attendance::support
