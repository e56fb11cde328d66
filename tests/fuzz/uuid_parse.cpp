#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <attendance/support/uuid.hpp>

// Property: whatever parses formats back to the same text, lowercased.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto uuid = attendance::support::Uuid::parse(text);
  if (!uuid) return 0;
  const std::string back = uuid->toString();
  for (std::size_t i = 0; i < back.size(); ++i) {
    const char c = text[i];
    const char lower = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    if (back[i] != lower) __builtin_trap();
  }
  return 0;
}
