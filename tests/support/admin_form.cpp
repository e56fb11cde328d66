#include "admin_form.hpp"

#include <cctype>
#include <cstddef>

namespace attendance::testing {

std::string csrfField(std::string_view html) {
  constexpr std::string_view marker = "name=\"csrf\" value=\"";
  const auto at = html.find(marker);
  if (at == std::string_view::npos) return {};
  const auto start = at + marker.size();
  const auto end = html.find('"', start);
  if (end == std::string_view::npos) return {};
  return std::string{html.substr(start, end - start)};
}

std::string setCookieValue(std::string_view headers, std::string_view name) {
  constexpr std::string_view header = "set-cookie:";
  std::size_t line = 0;
  while (line < headers.size()) {
    const auto next = headers.find('\n', line);
    const auto end = next == std::string_view::npos ? headers.size() : next;
    std::string_view cookie = headers.substr(line, end - line);
    line = end + 1;
    if (cookie.size() >= header.size()) {
      bool isHeader = true;
      for (std::size_t i = 0; i < header.size(); ++i) {
        isHeader = isHeader && std::tolower(static_cast<unsigned char>(cookie[i])) == header[i];
      }
      if (isHeader) cookie.remove_prefix(header.size());
    }
    while (!cookie.empty() && cookie.front() == ' ') cookie.remove_prefix(1);
    if (cookie.size() <= name.size() || !cookie.starts_with(name) || cookie[name.size()] != '=') continue;
    const auto value = cookie.substr(name.size() + 1);
    return std::string{value.substr(0, value.find_first_of(";\r"))};
  }
  return {};
}

}  // namespace attendance::testing
