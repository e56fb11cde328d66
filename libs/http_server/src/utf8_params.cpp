#include <attendance/http_server/utf8_params.hpp>

#include <algorithm>

#include <attendance/support/utf8.hpp>

namespace attendance::http_server {
namespace {

// One name or value of a query string, decoded as queryParameter does.
bool queryDecode(std::string_view raw, std::string& out) {
  std::string spaced{raw};
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  return percentDecode(spaced, out);
}

}  // namespace

std::optional<std::string> invalidUtf8InQuery(std::string_view query) {
  std::string name;
  std::string value;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const bool nameDecoded = queryDecode(pair.substr(0, eq), name);
    if (nameDecoded && !support::isValidUtf8(name)) return "a query parameter name is not valid UTF-8";
    if (eq == std::string_view::npos || !queryDecode(pair.substr(eq + 1), value)) continue;
    if (!support::isValidUtf8(value)) {
      if (!nameDecoded) return "a query parameter is not valid UTF-8";
      return "parameter " + clientNameForMessage(name) + " is not valid UTF-8";
    }
  }
  return std::nullopt;
}

std::optional<std::string> invalidUtf8InPath(const PathParams& params) {
  for (const auto& [name, value] : params) {
    // Names come from our own route patterns, not from the client.
    if (!support::isValidUtf8(value)) return "path parameter " + name + " is not valid UTF-8";
  }
  return std::nullopt;
}

std::string clientNameForMessage(std::string_view name) {
  constexpr std::size_t kMaxBytes = 64;
  const auto cut = support::utf8Prefix(name, kMaxBytes);
  return cut.size() < name.size() ? std::string{cut} + "..." : std::string{cut};
}

}  // namespace attendance::http_server
