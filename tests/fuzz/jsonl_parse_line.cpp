#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <attendance/jsonl_log/check_in.hpp>

// Properties: the parser never crashes on any bytes, and whatever it accepts
// formats to a line that parses back to the same record (format is canonical).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = attendance::jsonl_log::parseLine(text);
  if (!parsed) return 0;
  std::string line = attendance::jsonl_log::formatLine(*parsed);
  if (line.empty() || line.back() != '\n') __builtin_trap();
  line.pop_back();
  const auto again = attendance::jsonl_log::parseLine(line);
  if (!again || !(*again == *parsed)) __builtin_trap();
  return 0;
}
