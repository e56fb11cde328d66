// Fuzz target: the event form's time fields (apps/admin/src/web/event_time.hpp).
// The input is split at NUL bytes into the datetime-local value, the instant
// app.js computed, and the browser's offset; any bytes must give a time or a
// clean error, never a crash or an overflow trap.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "web/event_time.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (auto& part : parts) {
    const auto nul = rest.find('\0');
    part = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
  }
  (void)attendance::admin_web::parseFormTime(parts[0], parts[1], parts[2]);
  return 0;
}
