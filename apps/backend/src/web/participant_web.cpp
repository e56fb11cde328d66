// The participant web app's routes: each handler runs as one job on the
// backend's database pool (sign-up, sign-in and deletion, which hash or check a
// password, on the password pool), like the JSON API beside it in routes.cpp.
#include "web/participant_web.hpp"

#include <any>
#include <functional>
#include <optional>

#include <boost/asio/awaitable.hpp>
#include <fmt/format.h>

#include <attendance/core/admin_accounts.hpp>
#include <attendance/core/participant_data.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/support/log.hpp>

#include "backend.hpp"
#include "web/participant_pages.hpp"
#include "web/responses.hpp"

namespace attendance::backend::web {
namespace {

namespace hs = http_server;
namespace http = hs::http;
using admin_web::cookieValue;
using admin_web::FieldErrors;
using admin_web::FormFields;
using admin_web::formValue;
using admin_web::htmlResponse;
using admin_web::redirect;
using boost::asio::awaitable;
using hs::RequestContext;
using hs::Response;

struct SignedIn {
  std::string token;
  core::User user;
  std::string csrf;
};

struct Call {
  RequestContext& rc;
  FormFields form;
  const SignedIn* signedIn = nullptr;
  [[nodiscard]] std::string field(std::string_view name) const { return formValue(form, name); }
};

class Pages {
public:
  explicit Pages(BackendContext& ctx) : ctx_(ctx) {}

  [[nodiscard]] std::chrono::system_clock::time_point now() const { return ctx_.clock.systemTime(); }

  // ---- cookies ----------------------------------------------------------------
  [[nodiscard]] std::string sessionCookieName() const {
    return ctx_.secureCookies ? "__Host-attendance_participant" : "attendance_participant";
  }
  [[nodiscard]] std::string formCookieName() const {
    return ctx_.secureCookies ? "__Host-attendance_participant_form" : "attendance_participant_form";
  }
  // Lax for the session (a link from an email lands signed in; every change is a POST with a CSRF token),
  // Strict for the sign-in form's token.
  [[nodiscard]] std::string cookie(std::string_view name, std::string_view value, std::int64_t maxAge,
                                   std::string_view sameSite) const {
    return admin_web::setCookieValue(name, value, maxAge, sameSite, ctx_.secureCookies);
  }
  [[nodiscard]] std::string sessionCookie(std::string_view token) const {
    return cookie(sessionCookieName(), token,
                  std::chrono::duration_cast<std::chrono::seconds>(ctx_.auth.tokenLifetime).count(), "Lax");
  }

  // ---- answers ----------------------------------------------------------------
  static Response page(http::status status, std::string_view title, const SignedIn* s, std::string_view flashHtml,
                       std::string_view content) {
    return htmlResponse(status, pages::layout(title, s != nullptr ? std::string_view{s->user.displayName} : "",
                                              s != nullptr ? std::string_view{s->csrf} : "", flashHtml, content));
  }
  static Response errorPage(const Call& call, http::status status, std::string_view title, std::string_view message) {
    return page(status, title, call.signedIn, {}, pages::errorContent(title, message));
  }
  static Response failure(const Call& call, const boost::system::error_code& ec) {
    if (ec == core::Errc::event_not_found) {
      return errorPage(call, http::status::not_found, "Not found", "There is no such event.");
    }
    Response res = errorPage(call, admin_web::statusFor(ec), "Something is not right", admin_web::messageFor(ec));
    if (ec == core::Errc::unavailable) res.set(http::field::retry_after, "2");
    return res;
  }
  static Response tooMany(const Call& call, std::chrono::seconds wait, std::string_view what) {
    const auto minutes = (wait.count() + 59) / 60;
    Response res = errorPage(call, http::status::too_many_requests, "Too many attempts",
                             fmt::format("{} Try again in {} minute{}.", what, minutes, minutes == 1 ? "" : "s"));
    res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(1, wait.count())));
    return res;
  }

  // A fresh token for the sign-in or sign-up form, also set as a Strict cookie:
  // a form posted from another site carries neither (double submit).
  Response formPage(http::status status, std::string_view title, bool signUp, const pages::AccountForm& typed,
                    std::string_view flashHtml) const {
    const std::string csrf = core::randomToken();
    Response res =
        page(status, title, nullptr, flashHtml, signUp ? pages::signUp(csrf, typed) : pages::signIn(csrf, typed));
    res.insert(http::field::set_cookie, cookie(formCookieName(), csrf, 3600, "Strict"));
    return res;
  }

  // The session behind the request's cookie, or nullopt.
  Result<std::optional<SignedIn>> findSession(const RequestContext& rc) const {
    std::string token{cookieValue(rc.request[http::field::cookie], sessionCookieName())};
    if (token.empty()) return std::optional<SignedIn>{};
    auto user = core::authenticateToken(ctx_.db, token, now());
    if (!user) {
      if (user.error() == core::Errc::unauthorized) return std::optional<SignedIn>{};
      return user.error();
    }
    std::string csrf = core::participantCsrfToken(token);
    return std::optional<SignedIn>{SignedIn{std::move(token), std::move(*user), std::move(csrf)}};
  }

  // ---- handlers -----------------------------------------------------------------
  Response getHome(Call& call) {
    const SignedIn& s = *call.signedIn;
    pages::HomeView view;
    view.user = &s.user;
    view.now = now();
    view.qrSvg = qrSvg(s.user.bleUuid.toString());
    auto mine = core::listMyEvents(ctx_.db, s.user.id);
    if (!mine) return failure(call, mine.error());
    view.mine = std::move(*mine);
    auto upcoming = core::listUpcomingEvents(ctx_.db, view.now, s.user.id);
    if (!upcoming) return failure(call, upcoming.error());
    view.upcoming = std::move(*upcoming);
    const std::string notice = hs::queryParameter(call.rc.request.target(), "notice");
    return page(http::status::ok, "Your events", &s, admin_web::noticeFor(pages::notices(), notice),
                pages::home(view, s.csrf));
  }

  Response getSignIn(Call& call) {
    auto found = findSession(call.rc);
    if (found && *found) return redirect("/");
    const std::string notice = hs::queryParameter(call.rc.request.target(), "notice");
    return formPage(http::status::ok, "Sign in", false, {}, admin_web::noticeFor(pages::notices(), notice));
  }

  Response getSignUp(Call& call) {
    auto found = findSession(call.rc);
    if (found && *found) return redirect("/");
    return formPage(http::status::ok, "Create an account", true, {}, {});
  }

  // Whether the form carries the token of its cookie (sign-in and sign-up forms).
  bool formTokenValid(const Call& call) const {
    const auto expected = cookieValue(call.rc.request[http::field::cookie], formCookieName());
    return !expected.empty() && hs::constantTimeEquals(call.field("csrf"), expected);
  }

  Response postSignIn(Call& call) {
    pages::AccountForm typed{call.field("email"), {}, {}};
    if (!formTokenValid(call)) {
      support::log::warn("participant_web.csrf_refused", {{"path", call.rc.path}});
      return formPage(http::status::forbidden, "Sign in", false, typed,
                      pages::flash(pages::FlashKind::error, "The form expired. Please try again."));
    }
    const std::string password = call.field("password");
    if (typed.email.empty()) typed.errors["email"] = "Enter your email.";
    if (password.empty()) typed.errors["password"] = "Enter your password.";
    if (!typed.errors.empty()) return formPage(http::status::bad_request, "Sign in", false, typed, {});
    const std::string address = call.rc.remote.to_string();
    // The JSON API's sign-in, with its per-account and per-address limits.
    auto signIn = core::signInParticipant(ctx_.db, typed.email, password, address, ctx_.auth, now());
    if (!signIn) {
      if (signIn.error() == core::Errc::unauthorized) {
        support::log::info("participant_web.sign_in_failed", {{"address", address}});
        return formPage(http::status::unauthorized, "Sign in", false, typed,
                        pages::flash(pages::FlashKind::error, "Wrong email or password."));
      }
      if (signIn.error() == core::Errc::forbidden) {
        return formPage(http::status::forbidden, "Sign in", false, typed,
                        pages::flash(pages::FlashKind::error, "This account is disabled. Ask the organizer."));
      }
      return failure(call, signIn.error());
    }
    if (signIn->retryAfter) {
      ctx_.metrics.increment("attendance_rate_limited_total", {{"kind", "sign_in"}});
      support::log::warn("participant_web.sign_in_rate_limited", {{"address", address}});
      return tooMany(call, *signIn->retryAfter, "Too many failed sign-ins.");
    }
    Response res = redirect("/");
    res.insert(http::field::set_cookie, sessionCookie(signIn->session->token));
    res.insert(http::field::set_cookie, cookie(formCookieName(), "", 0, "Strict"));
    return res;
  }

  Response postSignUp(Call& call) {
    pages::AccountForm typed{call.field("email"), call.field("displayName"), {}};
    if (!formTokenValid(call)) {
      support::log::warn("participant_web.csrf_refused", {{"path", call.rc.path}});
      return formPage(http::status::forbidden, "Create an account", true, typed,
                      pages::flash(pages::FlashKind::error, "The form expired. Please try again."));
    }
    core::NewUser user{typed.email, typed.displayName, call.field("password")};
    // The JSON API's rule (core::validateNewUser), its message shown at the field it is about.
    if (auto why = core::validateNewUser(user, ctx_.auth)) {
      const std::string& m = *why;  // starts with the field it is about
      const char* fieldName = m.starts_with("password")  ? "password"
                              : m.starts_with("display") ? "displayName"
                                                         : "email";
      typed.errors[fieldName] = m;
      return formPage(http::status::bad_request, "Create an account", true, typed, {});
    }
    auto created = core::createParticipant(ctx_.db, user, ctx_.auth, now());
    if (!created) {
      if (created.error() == core::Errc::conflict) {
        typed.errors["email"] = "A participant with this email already exists.";
        return formPage(http::status::conflict, "Create an account", true, typed, {});
      }
      return failure(call, created.error());
    }
    support::log::info("participant_web.signed_up", {{"userId", created->user.id}});
    Response res = redirect("/?notice=welcome");
    res.insert(http::field::set_cookie, sessionCookie(created->session.token));
    res.insert(http::field::set_cookie, cookie(formCookieName(), "", 0, "Strict"));
    return res;
  }

  Response postSignOut(Call& call) {
    auto r = core::revokeSession(ctx_.db, call.signedIn->token);
    if (!r) return failure(call, r.error());
    Response res = redirect("/signin?notice=signed-out");
    res.set(http::field::set_cookie, cookie(sessionCookieName(), "", 0, "Lax"));
    return res;
  }

  // The JSON API's rule (core::requestRegistration): a seat, a waitlist place, or refused when closed.
  Response postRegister(Call& call) {
    const std::string& id = call.rc.params.at("id");
    auto r = core::requestRegistration(ctx_.db, id, call.signedIn->user.id, now());
    if (!r && r.error() == core::Errc::registration_closed) {
      auto ev = core::getEvent(ctx_.db, id);
      if (!ev) return failure(call, ev.error());
      return errorPage(call, http::status::conflict, "Registration closed", pages::registrationClosedText(*ev));
    }
    if (!r) return failure(call, r.error());
    return redirect(r->status == core::RegistrationStatus::waitlisted ? "/?notice=waitlisted#my-events"
                                                                      : "/?notice=registered#my-events");
  }

  Response postUnregister(Call& call) {
    auto r = core::cancelRegistration(ctx_.db, call.rc.params.at("id"), call.signedIn->user.id);
    if (!r) return failure(call, r.error());
    return redirect(r->was == core::RegistrationStatus::waitlisted ? "/?notice=left-waitlist#my-events"
                                                                   : "/?notice=unregistered#my-events");
  }

  // One event with the participant's status; with a seat, the confirmation to show at the door.
  Response getEvent(Call& call) {
    const SignedIn& s = *call.signedIn;
    auto ev = core::getParticipantEvent(ctx_.db, call.rc.params.at("id"), s.user.id);
    if (!ev) return failure(call, ev.error());
    pages::EventPageView view;
    view.user = &s.user;
    view.now = now();
    view.event = std::move(*ev);
    if (view.event.status == core::RegistrationStatus::registered) view.qrSvg = qrSvg(s.user.bleUuid.toString());
    return page(http::status::ok, view.event.event.name, &s, {}, pages::eventPage(view, s.csrf));
  }

  Response getExport(Call& call) {
    auto json = core::exportParticipantJson(ctx_.db, call.signedIn->user.id, now());
    if (!json) return failure(call, json.error());
    Response res = admin_web::jsonOut(http::status::ok, std::move(*json));
    res.set(http::field::content_disposition, "attachment; filename=\"attendance-my-data.json\"");
    return res;
  }

  Response getAccount(Call& call) {
    const SignedIn& s = *call.signedIn;
    return page(http::status::ok, "Your account", &s, {}, pages::account(s.user, s.csrf, nullptr));
  }

  Response postDelete(Call& call) {
    const SignedIn& s = *call.signedIn;
    const std::string address = call.rc.remote.to_string();
    auto r = core::deleteParticipant(ctx_.db, s.user.id, call.field("password"), address, ctx_.auth, now());
    if (!r) {
      if (r.error() == core::Errc::unauthorized) {
        const FieldErrors errors{{"password", "That is not your password. Nothing was deleted."}};
        return page(http::status::unauthorized, "Your account", &s, {}, pages::account(s.user, s.csrf, &errors));
      }
      return failure(call, r.error());
    }
    if (r->retryAfter) {
      ctx_.metrics.increment("attendance_rate_limited_total", {{"kind", "sign_in"}});
      support::log::warn("participant_web.delete_rate_limited", {{"address", address}});
      return tooMany(call, *r->retryAfter, "Too many wrong passwords. Nothing was deleted.");
    }
    support::log::info("participant_web.account_deleted", {{"userId", s.user.id}});
    Response res = redirect("/signin?notice=deleted");
    res.set(http::field::set_cookie, cookie(sessionCookieName(), "", 0, "Lax"));
    return res;
  }

  Response getStylesheet(Call&) {
    Response res = hs::textResponse(http::status::ok, std::string{pages::stylesheet()}, "text/css; charset=utf-8");
    admin_web::harden(res, true);
    res.set(http::field::cache_control, "public, max-age=300");
    return res;
  }

  // ---- dispatch -------------------------------------------------------------------
  using Fn = Response (Pages::*)(Call&);

  // Parses the form of a POST and, for a signed-in route, checks its CSRF token.
  Response dispatch(Fn fn, RequestContext& rc) {
    Call call{rc, {}, std::any_cast<SignedIn>(&rc.principal)};
    if (rc.request.method() == http::verb::post) {
      auto form = admin_web::parseForm(rc.request.body());
      if (!form) return errorPage(call, http::status::bad_request, "Bad request", form.error().message);
      call.form = std::move(*form);
      if (call.signedIn != nullptr && !hs::constantTimeEquals(call.field("csrf"), call.signedIn->csrf)) {
        support::log::warn("participant_web.csrf_refused", {{"path", rc.path}});
        return errorPage(call, http::status::forbidden, "Refused",
                         "The form expired or did not come from this site. Reload the page and try again.");
      }
    }
    return (this->*fn)(call);
  }

  BackendContext& ctx_;
};

enum class Access { open, session, signIn };

}  // namespace

void addParticipantPages(hs::Router& router, BackendContext& ctx) {
  auto pagesPtr = std::make_shared<Pages>(ctx);
  // Runs `work` on the database pool (or the password pool) with an HTML answer for a full pool.
  auto onPool = [&ctx](RequestContext& rc, std::function<std::optional<Response>()> work,
                       bool passwords) -> awaitable<std::optional<Response>> {
    std::optional<Response> res;
    try {
      res = co_await (passwords ? ctx.passwords : ctx.blocking).run(std::move(work));
    } catch (const hs::PoolSaturated&) {
      Response busy = htmlResponse(
          passwords ? http::status::too_many_requests : http::status::service_unavailable,
          pages::layout("Busy", {}, {}, {}, pages::errorContent("Busy", "The server is busy. Try again in a moment.")));
      busy.set(http::field::retry_after, "1");
      if (passwords) ctx.metrics.increment("attendance_rate_limited_total", {{"kind", "password_pool"}});
      res = std::move(busy);
    } catch (const std::exception& e) {
      support::log::error("participant_web.handler_failed", {{"path", rc.path}, {"error", e.what()}});
      res = htmlResponse(http::status::internal_server_error,
                         pages::layout("Error", {}, {}, {}, pages::errorContent("Error", "Something went wrong.")));
    }
    co_return res;
  };
  auto add = [&](http::verb verb, std::string pattern, Access access, Pages::Fn fn, bool passwords = false) {
    hs::RouteOptions opts;
    if (verb == http::verb::post) {
      opts.maxBody = kFormBodyLimit;
      opts.contentType = "application/x-www-form-urlencoded";
    }
    Pages* p = pagesPtr.get();
    if (access == Access::session) {
      // The session cookie is checked on the header: no body is read for a stranger.
      opts.guard = [p, onPool](RequestContext& rc) -> awaitable<std::optional<Response>> {
        co_return co_await onPool(
            rc,
            [p, &rc]() -> std::optional<Response> {
              auto found = p->findSession(rc);
              if (!found) {
                Call call{rc, {}, nullptr};
                return Pages::failure(call, found.error());
              }
              if (!*found) return redirect("/signin");
              rc.principal = std::move(**found);
              return std::nullopt;
            },
            false);
      };
    } else if (access == Access::signIn) {
      // Sign-in and sign-up: the JSON API's per-address request rate, before the body is read.
      opts.guard = [&ctx](RequestContext& rc) -> awaitable<std::optional<Response>> {
        if (auto wait = ctx.clientLimiter.acquire(rc.remote.to_string())) {
          ctx.metrics.increment("attendance_rate_limited_total", {{"kind", "client"}});
          Call call{rc, {}, nullptr};
          co_return Pages::tooMany(call, *wait, "Too many requests from your address.");
        }
        co_return std::nullopt;
      };
    }
    router.add(
        verb, std::move(pattern),
        [pagesPtr, fn, onPool, passwords](RequestContext& rc) -> awaitable<Response> {
          auto res = co_await onPool(
              rc, [p = pagesPtr.get(), fn, &rc] { return std::optional<Response>{p->dispatch(fn, rc)}; }, passwords);
          co_return std::move(*res);
        },
        opts);
  };
  using V = http::verb;
  add(V::get, "/", Access::session, &Pages::getHome);
  add(V::get, "/signin", Access::open, &Pages::getSignIn);
  add(V::post, "/signin", Access::signIn, &Pages::postSignIn, true);
  add(V::get, "/signup", Access::open, &Pages::getSignUp);
  add(V::post, "/signup", Access::signIn, &Pages::postSignUp, true);
  add(V::post, "/signout", Access::session, &Pages::postSignOut);
  add(V::get, "/events/{id}", Access::session, &Pages::getEvent);
  add(V::post, "/events/{id}/register", Access::session, &Pages::postRegister);
  add(V::post, "/events/{id}/unregister", Access::session, &Pages::postUnregister);
  add(V::get, "/me/export.json", Access::session, &Pages::getExport);
  add(V::get, "/account", Access::session, &Pages::getAccount);
  add(V::post, "/account/delete", Access::session, &Pages::postDelete, true);
  add(V::get, "/assets/participant.css", Access::open, &Pages::getStylesheet);
}

}  // namespace attendance::backend::web
