#pragma once

#include <string>
#include <string_view>

namespace attendance::support {

// Appends `text` as a JSON string literal (with quotes), escaping per RFC 8259.
// Invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid JSON.
void appendJsonString(std::string& out, std::string_view text);

}  // namespace attendance::support
