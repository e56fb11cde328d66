// Fuzz target: the admin console's form and cookie parsing and HTML escaping
// (apps/admin/src/web/html.hpp), all fed attacker-controlled bytes.
// Registration (integrator): attendance_add_fuzz_target(admin_web_form LIBS attendance_admin_lib)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <attendance/support/utf8.hpp>

#include "web/html.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto form = attendance::admin_web::parseForm(input);
  if (form) {
    for (const auto& [key, value] : *form) {
      // Every accepted field is UTF-8: nothing else may reach a query.
      if (!attendance::support::isValidUtf8(key) || !attendance::support::isValidUtf8(value)) std::abort();
      // Whatever a form carries, escaped output never contains markup characters.
      const std::string safe = attendance::admin_web::escape(value);
      if (safe.find_first_of("<>\"'") != std::string::npos) std::abort();
      (void)attendance::admin_web::urlEncode(key);
    }
  } else if (form.error().message.empty()) {
    std::abort();  // a refusal always says why
  }
  (void)attendance::admin_web::cookieValue(input, "attendance_session");
  return 0;
}
