#include "admin_session.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "support/admin_form.hpp"

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

}  // namespace

asio::awaitable<std::string> signInToAdmin(Connection& c, const std::string& email, const std::string& password,
                                           std::chrono::milliseconds timeout) {
  const Reply page = co_await c.exchange(makeRequest(http::verb::get, "/login"), timeout);
  const std::string loginCookie = testing::setCookieValue(page.setCookie, "attendance_login");
  const std::string csrf = testing::csrfField(page.body);
  if (page.status != 200 || loginCookie.empty() || csrf.empty()) {
    throw std::runtime_error(fmt::format("GET /login answered {} {}", page.status, page.error.message()));
  }
  Request post =
      makeRequest(http::verb::post, "/login",
                  "csrf=" + formEncode(csrf) + "&email=" + formEncode(email) + "&password=" + formEncode(password),
                  "application/x-www-form-urlencoded");
  post.set(http::field::cookie, "attendance_login=" + loginCookie);
  Reply signedIn = co_await c.exchange(post, timeout);
  // Many sign-ins at once: the console's hashing queue answers 429 + Retry-After
  // for the rest, and a person tries again a moment later.
  for (int retry = 0; signedIn.status == 429 && retry < 30; ++retry) {
    asio::steady_timer wait{co_await asio::this_coro::executor, std::chrono::seconds{1}};
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    signedIn = co_await c.exchange(post, timeout);
  }
  const std::string session = testing::setCookieValue(signedIn.setCookie, "attendance_session");
  if (signedIn.status != 303 || session.empty()) {
    throw std::runtime_error(fmt::format("POST /login answered {} {}: {}", signedIn.status, signedIn.error.message(),
                                         signedIn.body.substr(0, 200)));
  }
  co_return "attendance_session=" + session;
}

}  // namespace attendance::bench
