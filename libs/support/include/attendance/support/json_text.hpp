#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace attendance::support {

// Appends `text` as a JSON string literal (with quotes), escaping per RFC 8259.
// Invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid JSON.
// Text that needs no escaping (printable ASCII without quote or backslash, nearly every
// id and name) is copied in one append.
void appendJsonString(std::string& out, std::string_view text);

// Appends `v` as a JSON number (decimal, no allocation).
void appendJsonInt(std::string& out, std::int64_t v);

}  // namespace attendance::support
