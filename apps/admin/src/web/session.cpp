// The session guard and the CSRF check in front of every handler.
#include "console.hpp"

#include <any>

#include <attendance/support/log.hpp>

namespace attendance::admin_web {

namespace {

// /login, with the page asked for as `next` when it was a GET of another page
// than the default landing (a form post cannot be replayed after sign-in).
std::string signInFor(const RequestContext& rc) {
  const auto method = rc.request.method();
  if (method != http::verb::get && method != http::verb::head) return "/login";
  const std::string_view target = rc.request.target();
  if (target == "/" || target == "/events" || !safeNextPath(target)) return "/login";
  return "/login?next=" + urlEncode(target);
}

}  // namespace

// Header guard of every Access::session route: no session, no body read.
std::optional<Response> Console::requireSession(RequestContext& rc) {
  const bool api = rc.path.starts_with("/api/");
  std::string token(cookieValue(rc.request[http::field::cookie], sessionCookieName()));
  auto found = core::findAdminSession(pool, token, now());
  if (!found) {
    Call call{rc, std::nullopt, {}, {}};
    return failure(call, found.error());
  }
  if (!*found) {
    if (api) return jsonError(http::status::unauthorized, "sign in first");
    return redirect(signInFor(rc));
  }
  rc.principal = SignedIn{std::move(token), std::move(**found)};
  return std::nullopt;
}

Response Console::dispatch(Access access, Fn fn, RequestContext& rc) {
  Call call{rc, std::nullopt, {}, {}};
  const bool api = rc.path.starts_with("/api/");
  const auto method = rc.request.method();
  const bool changes = method != http::verb::get && method != http::verb::head;
  if (changes && isFormRequest(rc.request)) {
    auto form = parseForm(rc.request.body());
    if (!form) {
      const std::string& why = form.error().message;
      return api ? jsonError(http::status::bad_request, why)
                 : htmlResponse(http::status::bad_request, pages::errorContent("Bad request", why));
    }
    call.form = std::move(*form);
  }
  if (access == Access::session) {
    auto& signedIn = std::any_cast<SignedIn&>(rc.principal);
    call.token = std::move(signedIn.token);
    call.session = std::move(signedIn.session);
    if (changes) {
      std::string token = call.field("csrf");
      if (token.empty()) token = std::string(rc.request["X-CSRF-Token"]);
      if (!http_server::constantTimeEquals(token, call.session->csrfToken)) {
        support::log::warn("admin_web.csrf_refused", {{"path", rc.path}});
        return api ? jsonError(http::status::forbidden, "missing or wrong CSRF token")
                   : page(call, http::status::forbidden, "Refused", pages::Nav::none, {},
                          pages::errorContent("Refused",
                                              "The form expired or did not come from this site. "
                                              "Reload the page and try again."));
      }
    }
  }
  return (this->*fn)(call);
}

}  // namespace attendance::admin_web
