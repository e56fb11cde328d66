#include "admin_session.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

namespace attendance::bench {

namespace {

std::string formEncode(std::string_view s) {
  std::string out;
  for (const unsigned char ch : s) {
    if (std::isalnum(ch) != 0 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

std::string csrfFromPage(const std::string& html) {
  const std::string marker = "name=\"csrf\" value=\"";
  const auto at = html.find(marker);
  if (at == std::string::npos) return {};
  const auto start = at + marker.size();
  return html.substr(start, html.find('"', start) - start);
}

}  // namespace

std::string setCookieValue(const std::string& setCookies, const std::string& name) {
  std::size_t line = 0;
  while (line < setCookies.size()) {
    const auto end = std::min(setCookies.find('\n', line), setCookies.size());
    const std::string_view cookie{setCookies.data() + line, end - line};
    if (cookie.starts_with(name + "=")) {
      const auto value = cookie.substr(name.size() + 1);
      return std::string{value.substr(0, value.find(';'))};
    }
    line = end + 1;
  }
  return {};
}

asio::awaitable<std::string> signInToAdmin(Connection& c, const std::string& email, const std::string& password,
                                           std::chrono::milliseconds timeout) {
  const Reply page = co_await c.exchange(makeRequest(http::verb::get, "/login"), timeout);
  const std::string loginCookie = setCookieValue(page.setCookie, "attendance_login");
  const std::string csrf = csrfFromPage(page.body);
  if (page.status != 200 || loginCookie.empty() || csrf.empty()) {
    throw std::runtime_error(fmt::format("GET /login answered {} {}", page.status, page.error.message()));
  }
  Request post = makeRequest(http::verb::post, "/login",
                             "csrf=" + formEncode(csrf) + "&email=" + formEncode(email) +
                                 "&password=" + formEncode(password),
                             "application/x-www-form-urlencoded");
  post.set(http::field::cookie, "attendance_login=" + loginCookie);
  const Reply signedIn = co_await c.exchange(post, timeout);
  const std::string session = setCookieValue(signedIn.setCookie, "attendance_session");
  if (signedIn.status != 303 || session.empty()) {
    throw std::runtime_error(fmt::format("POST /login answered {} {}: {}", signedIn.status,
                                         signedIn.error.message(), signedIn.body.substr(0, 200)));
  }
  co_return "attendance_session=" + session;
}

}  // namespace attendance::bench
