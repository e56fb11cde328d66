// GET/POST /login and POST /logout.
#include "console.hpp"

#include <fmt/format.h>

#include <attendance/support/log.hpp>

namespace attendance::admin_web {

Response Console::loginPage(http::status status, std::string_view email, std::string flashHtml,
                            std::string_view next) const {
  const std::string csrf = core::randomToken();
  Response res = htmlResponse(status, pages::login(csrf, email, flashHtml, next));
  res.set(http::field::set_cookie, cookie(loginCookieName(), csrf, 3600));
  return res;
}

// `next` (a path on this site, safeNextPath) is where a signed-in admin goes:
// the page they asked for before signing in. Anything else is dropped.
Response Console::getLogin(Call& call) {
  const std::string next = safeNextPath(call.query("next")).value_or("");
  const auto token = cookieValue(call.rc.request[http::field::cookie], sessionCookieName());
  if (!token.empty()) {
    auto found = core::findAdminSession(pool, token, now());
    if (found && *found) return redirect(next.empty() ? "/events" : next);
  }
  return loginPage(http::status::ok, {}, {}, next);
}

Response Console::postLogin(Call& call) {
  const std::string email = call.field("email");
  const std::string password = call.field("password");
  const std::string next = safeNextPath(call.field("next")).value_or("");
  const auto expected = cookieValue(call.rc.request[http::field::cookie], loginCookieName());
  if (expected.empty() || !http_server::constantTimeEquals(call.field("csrf"), expected)) {
    return loginPage(http::status::forbidden, email,
                     pages::flash(pages::FlashKind::error, "The sign-in form expired. Please try again."), next);
  }
  if (email.empty() || password.empty()) {
    return loginPage(http::status::bad_request, email,
                     pages::flash(pages::FlashKind::error, "Enter your email and password."), next);
  }
  auto outcome = core::signInAdmin(pool, email, password, call.rc.remote.to_string(), auth, now());
  if (!outcome) return failure(call, outcome.error());
  switch (outcome->kind) {
    case core::AdminSignIn::Kind::rate_limited: {
      const auto minutes = (outcome->retryAfter.count() + 59) / 60;
      support::log::warn("admin_web.login_rate_limited", {{"address", call.rc.remote.to_string()}});
      Response res = loginPage(
          http::status::too_many_requests, email,
          pages::flash(pages::FlashKind::error, fmt::format("Too many failed sign-ins. Try again in {} minute{}.",
                                                            minutes, minutes == 1 ? "" : "s")),
          next);
      res.set(http::field::retry_after, std::to_string(outcome->retryAfter.count()));
      return res;
    }
    case core::AdminSignIn::Kind::wrong_credentials:
      support::log::info("admin_web.login_failed", {{"address", call.rc.remote.to_string()}});
      return loginPage(http::status::unauthorized, email,
                       pages::flash(pages::FlashKind::error, "Wrong email or password."), next);
    case core::AdminSignIn::Kind::ok: break;
  }
  support::log::info("admin_web.login", {{"admin", outcome->session.adminId}});
  Response res = redirect(next.empty() ? "/events" : next);
  const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(auth.sessionLifetime).count();
  res.insert(http::field::set_cookie, cookie(sessionCookieName(), outcome->sessionToken, lifetime));
  res.insert(http::field::set_cookie, cookie(loginCookieName(), "", 0));
  return res;
}

Response Console::postLogout(Call& call) {
  auto r = core::endAdminSession(pool, call.token);
  if (!r) return failure(call, r.error());
  Response res = redirect("/login");
  res.set(http::field::set_cookie, cookie(sessionCookieName(), "", 0));
  return res;
}

}  // namespace attendance::admin_web
