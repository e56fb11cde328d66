#include "app.hpp"

#include <fmt/format.h>

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <any>
#include <charconv>
#include <functional>
#include <mutex>

#include <attendance/attendance_core/admin_accounts.hpp>
#include <attendance/attendance_core/assignments.hpp>
#include <attendance/attendance_core/error.hpp>
#include <attendance/attendance_core/events.hpp>
#include <attendance/attendance_core/report.hpp>
#include <attendance/attendance_core/report_cache.hpp>
#include <attendance/attendance_core/scanners.hpp>
#include <attendance/attendance_core/users.hpp>
#include <attendance/http_server/message.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/utf8.hpp>

#include "assets.hpp"
#include "event_time.hpp"
#include "html.hpp"
#include "pages.hpp"
#include "report_params.hpp"
#include "report_refresher.hpp"

namespace attendance::admin_web {

namespace http = http_server::http;
using http_server::Request;
using http_server::RequestContext;
using http_server::Response;

WebOptions WebOptions::forTests() {
  WebOptions o;
  o.adminOpsLimit = 1;
  o.adminMemLimit = 8192;
  o.participantAuth = core::AuthConfig::forTests();
  return o;
}

namespace {

constexpr std::int64_t kPageSize = 50;
constexpr std::size_t kFormBodyLimit = 64 * 1024;

// Every page and API answer: no caching of private data, no framing, no inline
// script or style (so an injected <script> would not run even if escaping failed).
void harden(Response& res, bool cacheable = false) {
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "same-origin");
  if (!cacheable) res.set(http::field::cache_control, "no-store");
}

Response htmlResponse(http::status status, std::string body) {
  Response res = http_server::textResponse(status, std::move(body), "text/html; charset=utf-8");
  harden(res);
  return res;
}

Response jsonOut(http::status status, std::string body) {
  Response res = http_server::jsonResponse(status, std::move(body));
  harden(res);
  return res;
}

Response jsonError(http::status status, std::string_view message) {
  Response res = http_server::errorResponse(status, message);
  harden(res);
  return res;
}

Response redirect(std::string_view location) {
  Response res{http::status::see_other, 11};
  res.set(http::field::location, location);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = "See " + std::string(location);
  res.prepare_payload();
  harden(res);
  return res;
}

http::status statusFor(const error_code& ec) { return static_cast<http::status>(core::httpStatusFor(ec)); }

std::string_view messageFor(const error_code& ec) {
  using core::Errc;
  if (ec == Errc::unavailable) return "The database is unavailable. Try again in a moment.";
  if (ec == Errc::event_not_found) return "There is no such event.";
  if (ec == Errc::user_not_found) return "There is no such participant.";
  if (ec == Errc::scanner_not_found) return "There is no such scanner.";
  if (ec == Errc::conflict) return "That already exists.";
  if (ec == Errc::invalid_argument) return "Some of the values are not acceptable.";
  if (ec == Errc::schema_outdated) return "The database schema is outdated: run `attendance-backend migrate`.";
  return "Something went wrong.";
}

std::int64_t pageParam(std::string_view target) {
  const std::string v = http_server::queryParameter(target, "page");
  std::int64_t page = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), page);
  if (ec != std::errc{} || ptr != v.data() + v.size() || page < 0) return 0;
  return std::min<std::int64_t>(page, 1'000'000);
}

std::int64_t intParam(std::string_view target, std::string_view name, std::int64_t fallback, std::int64_t lo,
                      std::int64_t hi) {
  const std::string v = http_server::queryParameter(target, name);
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size()) return fallback;
  return std::clamp(n, lo, hi);
}

bool isFormRequest(const Request& req) {
  const auto ct = req[http::field::content_type];
  return ct.substr(0, ct.find(';')) == "application/x-www-form-urlencoded";
}

}  // namespace

enum class Access { open, session };

struct Call {
  RequestContext& rc;
  std::optional<core::AdminSession> session;
  std::string token;
  FormFields form;

  [[nodiscard]] std::string field(std::string_view name) const { return formValue(form, name); }
  [[nodiscard]] const std::string& param(const char* name) const { return rc.params.at(name); }
  [[nodiscard]] std::string query(std::string_view name) const {
    return http_server::queryParameter(rc.request.target(), name);
  }
  // Longer searches are cut, at a character boundary: half a character is not UTF-8.
  [[nodiscard]] std::string search() const {
    return std::string{support::utf8Prefix(query("q"), core::kMaxSearchLength)};
  }
};

struct WebApp::Impl {
  core::ConnectionPool& pool;
  http_server::BlockingPool& blocking;
  const support::TimeSource& clock;
  WebOptions options;
  core::AdminAuthConfig auth;
  // Every report answer (JSON, pages, CSV) comes from here (docs/adr/0064).
  core::ReportCache reports;
  http_server::MetricsRegistry* metrics;
  std::mutex metricsMutex;
  core::ReportCache::Stats published;  // what metrics has been told so far
  // Sign-ins only (Argon2id), apart from `blocking`.
  http_server::BlockingPool passwords;
  // Last member: destroyed first, so no refresh runs while the rest goes away.
  std::unique_ptr<ReportRefresher> refresher;

  Impl(core::ConnectionPool& p, http_server::BlockingPool& b, const support::TimeSource& c, WebOptions o,
       http_server::MetricsRegistry* m)
      : pool(p),
        blocking(b),
        clock(c),
        options(std::move(o)),
        reports(core::ReportCache::Options{options.reportCacheEvents}),
        metrics(m),
        passwords(options.passwordThreads, options.maxPendingPasswords) {
    auth.opsLimit = options.adminOpsLimit;
    auth.memLimit = options.adminMemLimit;
    auth.sessionLifetime = options.sessionLifetime;
    auth.loginLimits = {options.maxFailuresPerAccount, options.maxFailuresPerAddress, options.failureWindow};
    if (metrics != nullptr) {
      metrics->describeCounter("admin_report_cache_hits_total", "Report requests answered from the cached report");
      metrics->describeCounter("admin_report_cache_misses_total", "Report requests that had to wait for a build");
      metrics->describeCounter("admin_report_cache_rebuilds_total",
                               "Reports built (on request or by the background refresh)");
      metrics->describeCounter("admin_report_cache_incremental_total",
                               "Of those, reports updated with only the new sync receipts' check-ins");
      metrics->describeCounter("admin_report_refresh_runs_total",
                               "Background checks of the cached reports' data versions");
      metrics->describeCounter("admin_sign_ins_refused_total",
                               "Sign-ins answered 429 because the password hashing queue was full");
      metrics->increment("admin_sign_ins_refused_total", {}, 0);
      for (const char* name : {"admin_report_cache_hits_total", "admin_report_cache_misses_total",
                               "admin_report_cache_rebuilds_total", "admin_report_cache_incremental_total",
                               "admin_report_refresh_runs_total"}) {
        metrics->increment(name, {}, 0);
      }
    }
    if (options.reportRefreshInterval.count() > 0) {
      refresher = std::make_unique<ReportRefresher>(blocking, options.reportRefreshInterval, [this] {
        const auto rebuilt = reports.refresh(pool, now());
        publishCacheStats();
        if (metrics != nullptr) metrics->increment("admin_report_refresh_runs_total");
        if (rebuilt > 0) support::log::info("admin_web.reports_refreshed", {{"rebuilt", static_cast<std::int64_t>(rebuilt)}});
      });
    }
  }

  // The cache counts cumulatively; the registry's counters get the difference.
  void publishCacheStats() {
    if (metrics == nullptr) return;
    std::lock_guard lock{metricsMutex};
    const auto current = reports.stats();
    metrics->increment("admin_report_cache_hits_total", {}, static_cast<double>(current.hits - published.hits));
    metrics->increment("admin_report_cache_misses_total", {}, static_cast<double>(current.misses - published.misses));
    metrics->increment("admin_report_cache_rebuilds_total", {},
                       static_cast<double>(current.rebuilds - published.rebuilds));
    metrics->increment("admin_report_cache_incremental_total", {},
                       static_cast<double>(current.incremental - published.incremental));
    published = current;
  }

  Result<std::shared_ptr<const core::CachedReport>> cachedReport(std::string_view eventId) {
    auto r = reports.get(pool, eventId, now());
    publishCacheStats();
    return r;
  }

  [[nodiscard]] core::TimePoint now() const { return clock.systemTime(); }

  // ---- cookies -----------------------------------------------------------
  [[nodiscard]] std::string sessionCookieName() const {
    return options.secureCookies ? "__Host-attendance_session" : "attendance_session";
  }
  [[nodiscard]] std::string loginCookieName() const {
    return options.secureCookies ? "__Host-attendance_login" : "attendance_login";
  }
  [[nodiscard]] std::string cookie(std::string_view name, std::string_view value, std::int64_t maxAge) const {
    return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", name, value, maxAge,
                       options.secureCookies ? "; Secure" : "");
  }

  // ---- page helpers ------------------------------------------------------
  Response page(const Call& call, http::status status, std::string_view title, pages::Nav nav, std::string flashHtml,
                std::string_view content) const {
    pages::Frame f{title, nav, call.session->email, call.session->csrfToken, std::move(flashHtml)};
    return htmlResponse(status, pages::layout(f, content));
  }

  Response failure(const Call& call, const error_code& ec) const {
    const bool api = call.rc.path.starts_with("/api/");
    Response res = api ? jsonError(statusFor(ec), messageFor(ec))
                       : (call.session ? page(call, statusFor(ec), "Error", pages::Nav::none, {},
                                              pages::errorContent("Something is not right", messageFor(ec)))
                                       : htmlResponse(statusFor(ec), pages::errorContent("Error", messageFor(ec))));
    if (ec == core::Errc::unavailable) res.set(http::field::retry_after, "2");
    return res;
  }

  // ---- dispatch ----------------------------------------------------------
  using Fn = Response (Impl::*)(Call&);

  // The session behind a request, found from its cookie by the route's header
  // guard (before any body byte is read) and handed to dispatch.
  struct SignedIn {
    std::string token;
    core::AdminSession session;
  };

  // Header guard of every Access::session route: no session, no body read.
  std::optional<Response> requireSession(RequestContext& rc) {
    const bool api = rc.path.starts_with("/api/");
    std::string token(cookieValue(rc.request[http::field::cookie], sessionCookieName()));
    auto found = core::findAdminSession(pool, token, now());
    if (!found) {
      Call call{rc, std::nullopt, {}, {}};
      return failure(call, found.error());
    }
    if (!*found) return api ? jsonError(http::status::unauthorized, "sign in first") : redirect("/login");
    rc.principal = SignedIn{std::move(token), std::move(**found)};
    return std::nullopt;
  }

  Response dispatch(Access access, Fn fn, RequestContext& rc) {
    Call call{rc, std::nullopt, {}, {}};
    const bool api = rc.path.starts_with("/api/");
    const auto method = rc.request.method();
    const bool changes = method != http::verb::get && method != http::verb::head;
    std::string formError;
    if (changes && isFormRequest(rc.request) && !parseForm(rc.request.body(), call.form, formError)) {
      return api ? jsonError(http::status::bad_request, formError)
                 : htmlResponse(http::status::bad_request, pages::errorContent("Bad request", formError));
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
                            pages::errorContent("Refused", "The form expired or did not come from this site. "
                                                           "Reload the page and try again."));
        }
      }
    }
    return (this->*fn)(call);
  }

  // ---- sign-in -----------------------------------------------------------
  Response loginPage(http::status status, std::string_view email, std::string flashHtml) const {
    const std::string csrf = core::randomToken();
    Response res = htmlResponse(status, pages::login(csrf, email, flashHtml));
    res.set(http::field::set_cookie, cookie(loginCookieName(), csrf, 3600));
    return res;
  }

  Response getLogin(Call& call) {
    const auto token = cookieValue(call.rc.request[http::field::cookie], sessionCookieName());
    if (!token.empty()) {
      auto found = core::findAdminSession(pool, token, now());
      if (found && *found) return redirect("/events");
    }
    return loginPage(http::status::ok, {}, {});
  }

  Response postLogin(Call& call) {
    const std::string email = call.field("email");
    const std::string password = call.field("password");
    const auto expected = cookieValue(call.rc.request[http::field::cookie], loginCookieName());
    if (expected.empty() || !http_server::constantTimeEquals(call.field("csrf"), expected)) {
      return loginPage(http::status::forbidden, email,
                       pages::flash(pages::FlashKind::error, "The sign-in form expired. Please try again."));
    }
    if (email.empty() || password.empty()) {
      return loginPage(http::status::bad_request, email,
                       pages::flash(pages::FlashKind::error, "Enter your email and password."));
    }
    auto outcome = core::signInAdmin(pool, email, password, call.rc.remote.to_string(), auth, now());
    if (!outcome) return failure(call, outcome.error());
    switch (outcome->kind) {
      case core::AdminSignIn::Kind::rate_limited: {
        const auto minutes = (outcome->retryAfter.count() + 59) / 60;
        support::log::warn("admin_web.login_rate_limited", {{"address", call.rc.remote.to_string()}});
        Response res = loginPage(
            http::status::too_many_requests, email,
            pages::flash(pages::FlashKind::error,
                         fmt::format("Too many failed sign-ins. Try again in {} minute{}.", minutes, minutes == 1 ? "" : "s")));
        res.set(http::field::retry_after, std::to_string(outcome->retryAfter.count()));
        return res;
      }
      case core::AdminSignIn::Kind::wrong_credentials:
        support::log::info("admin_web.login_failed", {{"address", call.rc.remote.to_string()}});
        return loginPage(http::status::unauthorized, email,
                         pages::flash(pages::FlashKind::error, "Wrong email or password."));
      case core::AdminSignIn::Kind::ok:
        break;
    }
    support::log::info("admin_web.login", {{"admin", outcome->session.adminId}});
    Response res = redirect("/events");
    const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(auth.sessionLifetime).count();
    res.insert(http::field::set_cookie, cookie(sessionCookieName(), outcome->sessionToken, lifetime));
    res.insert(http::field::set_cookie, cookie(loginCookieName(), "", 0));
    return res;
  }

  Response postLogout(Call& call) {
    auto r = core::endAdminSession(pool, call.token);
    if (!r) return failure(call, r.error());
    Response res = redirect("/login");
    res.set(http::field::set_cookie, cookie(sessionCookieName(), "", 0));
    return res;
  }

  // ---- assets ------------------------------------------------------------
  Response asset(const RequestContext& rc, bool signedIn) const {
    const std::string& name = rc.params.at("name");
    const assets::Asset* a = assets::find(name);
    // Only what browsers load; templates and SQL stay private. app.css and the
    // icon are public because the sign-in page uses them.
    const bool servable = a != nullptr && (name.ends_with(".css") || name.ends_with(".js") || name.ends_with(".svg"));
    if (!servable) return htmlResponse(http::status::not_found, pages::errorContent("Not found", "No such file."));
    if (name.ends_with(".js") && !signedIn) return redirect("/login");
    const std::string etag = "\"" + std::string(a->etag) + "\"";
    if (rc.request[http::field::if_none_match] == etag) {
      Response res{http::status::not_modified, 11};
      res.set(http::field::etag, etag);
      harden(res, true);
      return res;
    }
    Response res = http_server::textResponse(http::status::ok, std::string(a->body), a->contentType);
    res.set(http::field::etag, etag);
    // URLs carry ?v=<assets version>, so a new build is fetched at once.
    res.set(http::field::cache_control, "public, max-age=31536000, immutable");
    harden(res, true);
    return res;
  }

  Response getAsset(Call& call) {
    bool signedIn = false;
    if (call.rc.params.at("name").ends_with(".js")) {
      auto found = core::findAdminSession(pool, cookieValue(call.rc.request[http::field::cookie], sessionCookieName()), now());
      signedIn = found && *found;
    }
    return asset(call.rc, signedIn);
  }

  // ---- events ------------------------------------------------------------
  Response getRoot(Call&) { return redirect("/events"); }

  Response getEvents(Call& call) {
    auto list = core::listEventSummaries(pool);
    if (!list) return failure(call, list.error());
    return page(call, http::status::ok, "Events", pages::Nav::events, pages::noticeFor(call.query("notice")),
                pages::events(*list, now(), call.session->csrfToken));
  }

  Response apiEvents(Call& call) {
    auto list = core::listEventSummaries(pool);
    if (!list) return failure(call, list.error());
    return jsonOut(http::status::ok, core::renderEventsJson(*list));
  }

  Response eventForm(Call& call, const std::string& eventId, std::string_view name, std::string_view venue,
                     std::optional<core::TimePoint>& starts, std::optional<core::TimePoint>& ends, bool& ok) {
    ok = false;
    auto s = parseFormTime(call.field("starts"), call.field("startsUtc"), call.field("tzOffset"));
    auto e = parseFormTime(call.field("ends"), call.field("endsUtc"), call.field("tzOffset"));
    std::string problem;
    if (!s || !e) problem = "Start and end must be dates and times.";
    else if (*s && *e && **e < **s) problem = "The end must not be before the start.";
    else if (name.empty() || name.size() > 200) problem = "The name must be 1 to 200 characters.";
    else if (venue.size() > 200) problem = "The venue must be at most 200 characters.";
    if (!problem.empty()) {
      const std::string back = eventId.empty() ? "/events" : "/events/" + urlEncode(eventId);
      return page(call, http::status::bad_request, "Check the form", pages::Nav::events,
                  pages::flash(pages::FlashKind::error, problem),
                  "<p><a class=\"btn\" href=\"" + escape(back) + "\">Back</a></p>");
    }
    starts = *s;
    ends = *e;
    ok = true;
    return {};
  }

  Response postEvents(Call& call) {
    core::NewEvent ev;
    ev.name = call.field("name");
    ev.venue = call.field("venue");
    const std::string id = call.field("id");
    if (!id.empty()) ev.id = id;
    bool ok = false;
    Response bad = eventForm(call, {}, ev.name, ev.venue, ev.startsAt, ev.endsAt, ok);
    if (!ok) return bad;
    if (ev.id && !core::isValidEventId(*ev.id)) {
      return page(call, http::status::bad_request, "Check the form", pages::Nav::events,
                  pages::flash(pages::FlashKind::error, "Event ids use 1 to 128 letters, digits, '.', '_', ':' or '-'."),
                  "<p><a class=\"btn\" href=\"/events\">Back</a></p>");
    }
    auto created = core::createEvent(pool, ev, now());
    if (!created) return failure(call, created.error());
    return redirect("/events/" + urlEncode(created->id) + "?notice=event-created");
  }

  Response getEvent(Call& call) {
    const std::string& id = call.param("id");
    auto ev = core::getEvent(pool, id);
    if (!ev) return failure(call, ev.error());
    pages::EventView view;
    view.event = std::move(*ev);
    view.search = call.search();
    view.page = pageParam(call.rc.request.target());
    view.pageSize = kPageSize;
    auto regs = core::listRegistrations(pool, id, view.search, view.page * kPageSize, kPageSize);
    if (!regs) return failure(call, regs.error());
    view.registrations = std::move(*regs);
    auto any = core::eventHasCheckIns(pool, id);
    if (!any) return failure(call, any.error());
    view.hasCheckIns = *any;
    return page(call, http::status::ok, view.event.name, pages::Nav::events, pages::noticeFor(call.query("notice")),
                pages::event(view, call.session->csrfToken));
  }

  Response postEvent(Call& call) {
    const std::string& id = call.param("id");
    core::EventEdit edit;
    edit.name = call.field("name");
    edit.venue = call.field("venue");
    bool ok = false;
    Response bad = eventForm(call, id, edit.name, edit.venue, edit.startsAt, edit.endsAt, ok);
    if (!ok) return bad;
    auto r = core::updateEvent(pool, id, edit);
    if (!r) return failure(call, r.error());
    return redirect("/events/" + urlEncode(id) + "?notice=event-updated");
  }

  Response postEventDelete(Call& call) {
    const std::string& id = call.param("id");
    auto r = core::deleteEvent(pool, id, call.field("force") == "1");
    if (!r && r.error() == core::Errc::conflict) {
      return page(call, http::status::conflict, "Not deleted", pages::Nav::events,
                  pages::flash(pages::FlashKind::error,
                               "This event has check-ins. Tick \"Also delete the check-ins\" to delete it anyway."),
                  "<p><a class=\"btn\" href=\"/events/" + escape(urlEncode(id)) + "\">Back to the event</a></p>");
    }
    if (!r) return failure(call, r.error());
    support::log::info("admin_web.event_deleted", {{"event", id}, {"admin", call.session->adminId}});
    return redirect("/events?notice=event-deleted");
  }

  Response postRegistration(Call& call) {
    const std::string& id = call.param("id");
    const std::string back = "/events/" + urlEncode(id);
    auto user = core::userIdByEmail(pool, call.field("email"));
    if (!user && user.error() == core::Errc::user_not_found) return redirect(back + "?notice=no-such-user");
    if (!user) return failure(call, user.error());
    auto r = core::registerForEvent(pool, id, *user, now());
    if (!r) return failure(call, r.error());
    return redirect(back + (*r == core::RegistrationOutcome::created ? "?notice=registered" : "?notice=already-registered"));
  }

  Response postUnregister(Call& call) {
    const std::string& id = call.param("id");
    auto r = core::unregisterFromEvent(pool, id, call.param("userId"));
    if (!r) return failure(call, r.error());
    return redirect("/events/" + urlEncode(id) + "?notice=unregistered");
  }

  // ---- report ------------------------------------------------------------
  // Without page parameters: the whole report, exactly `attendance-admin report
  // --format json`. With any of offset, limit, filter, q, sort, dir: one page
  // (core::renderReportPageJson). Both from the cached report.
  Response apiReport(Call& call) {
    ReportRequest request = parseReportRequest(call.rc.query);
    if (!request.error.empty()) return jsonError(http::status::bad_request, request.error);
    auto cached = cachedReport(call.param("id"));
    if (!cached) return failure(call, cached.error());
    if (!request.paged) return jsonOut(http::status::ok, (*cached)->json());
    return jsonOut(http::status::ok, (*cached)->pageJson(request.query));
  }

  Response reportCsv(Call& call) {
    const std::string& id = call.param("id");
    auto cached = cachedReport(id);
    if (!cached) return failure(call, cached.error());
    // The byte order mark makes Excel read the file as UTF-8 (LibreOffice and
    // csv parsers skip it); the rest is core's RFC 4180 output.
    const std::string& csv = (*cached)->csv();
    std::string body;
    body.reserve(3 + csv.size());
    body += "\xEF\xBB\xBF";
    body += csv;
    std::string filename = "attendance-" + id + ".csv";
    std::replace(filename.begin(), filename.end(), ':', '-');  // ids are [A-Za-z0-9._:-]
    Response res = http_server::textResponse(http::status::ok, std::move(body), "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, "attachment; filename=\"" + filename + "\"");
    harden(res);
    return res;
  }

  // ---- participants ------------------------------------------------------
  Response getParticipants(Call& call) {
    pages::ParticipantsView view;
    view.search = call.search();
    view.pageNo = pageParam(call.rc.request.target());
    view.pageSize = kPageSize;
    auto p = core::listParticipants(pool, view.search, view.pageNo * kPageSize, kPageSize);
    if (!p) return failure(call, p.error());
    view.page = std::move(*p);
    return page(call, http::status::ok, "Participants", pages::Nav::participants,
                pages::noticeFor(call.query("notice")), pages::participants(view, call.session->csrfToken));
  }

  Response apiParticipants(Call& call) {
    const std::string search = call.search();
    const auto offset = intParam(call.rc.request.target(), "offset", 0, 0, 1'000'000'000);
    const auto limit = intParam(call.rc.request.target(), "limit", 100, 1, 1000);
    auto p = core::listParticipants(pool, search, offset, limit);
    if (!p) return failure(call, p.error());
    std::string out = fmt::format("{{\"total\":{},\"offset\":{},\"limit\":{},\"participants\":[", p->total, offset, limit);
    bool first = true;
    for (const auto& u : p->rows) {
      if (!first) out += ',';
      first = false;
      out += "{\"id\":";
      support::appendJsonString(out, u.id);
      out += ",\"email\":";
      support::appendJsonString(out, u.email);
      out += ",\"displayName\":";
      support::appendJsonString(out, u.displayName);
      out += ",\"bleUuid\":";
      support::appendJsonString(out, u.bleUuid);
      out += u.disabled ? ",\"disabled\":true}" : ",\"disabled\":false}";
    }
    out += "]}";
    return jsonOut(http::status::ok, std::move(out));
  }

  Response postParticipants(Call& call) {
    core::NewUser user;
    user.email = call.field("email");
    user.displayName = call.field("name");
    auto created = core::createUser(pool, user, options.participantAuth, now());
    if (!created && (created.error() == core::Errc::invalid_argument || created.error() == core::Errc::conflict)) {
      const std::string_view why = created.error() == core::Errc::conflict
                                       ? "A participant with that email already exists."
                                       : "Enter a name (1 to 200 characters) and a valid email.";
      return page(call, http::status::bad_request, "Check the form", pages::Nav::participants,
                  pages::flash(pages::FlashKind::error, why), "<p><a class=\"btn\" href=\"/participants\">Back</a></p>");
    }
    if (!created) return failure(call, created.error());
    return redirect("/participants?notice=participant-created&q=" + urlEncode(created->email));
  }

  Response setDisabled(Call& call, bool disabled) {
    auto r = core::setUserDisabled(pool, call.param("id"), disabled);
    if (!r) return failure(call, r.error());
    return redirect(std::string("/participants?notice=") + (disabled ? "participant-disabled" : "participant-enabled"));
  }
  Response postDisable(Call& call) { return setDisabled(call, true); }
  Response postEnable(Call& call) { return setDisabled(call, false); }

  Response postRegenerate(Call& call) {
    auto r = core::regenerateBleUuid(pool, call.param("id"));
    if (!r) return failure(call, r.error());
    return redirect("/participants?notice=ble-regenerated");
  }

  // ---- scanners ----------------------------------------------------------
  Response scannersPage(Call& call, http::status status, std::string flashHtml,
                        const std::optional<core::CreatedScanner>& created) {
    auto list = core::listScanners(pool);
    if (!list) return failure(call, list.error());
    auto assignments = core::listAssignments(pool);
    if (!assignments) return failure(call, assignments.error());
    auto events = core::listEvents(pool);
    if (!events) return failure(call, events.error());
    pages::ScannersView view{std::move(*list), std::move(*assignments), std::move(*events)};
    Response res = page(call, status, "Scanners", pages::Nav::scanners, std::move(flashHtml),
                        pages::scanners(view, call.session->csrfToken, created));
    return res;
  }

  Response getScanners(Call& call) {
    return scannersPage(call, http::status::ok, pages::noticeFor(call.query("notice")), std::nullopt);
  }

  Response apiScanners(Call& call) {
    auto list = core::listScanners(pool);
    if (!list) return failure(call, list.error());
    auto assignments = core::listAssignments(pool);
    if (!assignments) return failure(call, assignments.error());
    std::string out = "{\"scanners\":[";
    bool first = true;
    for (const auto& s : *list) {
      if (!first) out += ',';
      first = false;
      out += "{\"scannerId\":";
      support::appendJsonString(out, s.scannerId);
      out += ",\"keyPrefix\":";
      support::appendJsonString(out, s.keyPrefix);
      out += fmt::format(",\"createdAt\":\"{}\",\"revokedAt\":{},\"lastSyncAt\":{},\"recordsReceived\":{}}}",
                         core::formatIsoUtc(s.createdAt),
                         s.revokedAt ? "\"" + core::formatIsoUtc(*s.revokedAt) + "\"" : "null",
                         s.lastSyncAt ? "\"" + core::formatIsoUtc(*s.lastSyncAt) + "\"" : "null", s.recordsReceived);
      out.pop_back();  // the object's '}': its events follow
      out += ",\"events\":[";
      bool firstEvent = true;
      for (const auto& a : *assignments) {
        if (a.scannerId != s.scannerId) continue;
        if (!firstEvent) out += ',';
        firstEvent = false;
        support::appendJsonString(out, a.eventId);
      }
      out += "]}";
    }
    out += "]}";
    return jsonOut(http::status::ok, std::move(out));
  }

  Response postScanners(Call& call) {
    const std::string id = call.field("scannerId");
    auto created = core::createScanner(pool, id, now());
    if (!created && created.error() == core::Errc::invalid_argument) {
      return scannersPage(call, http::status::bad_request,
                          pages::flash(pages::FlashKind::error,
                                       "Scanner ids use 1 to 128 letters, digits, '.', '_', ':' or '-'."),
                          std::nullopt);
    }
    if (!created && created.error() == core::Errc::conflict) {
      return scannersPage(call, http::status::conflict,
                          pages::flash(pages::FlashKind::error, "A scanner with that id exists (ids are never reused)."),
                          std::nullopt);
    }
    if (!created) return failure(call, created.error());
    support::log::info("admin_web.scanner_created", {{"scanner", created->scannerId}, {"admin", call.session->adminId}});
    // Rendered directly (not redirected): the key must never be in a URL or a log.
    return scannersPage(call, http::status::created, {}, *created);
  }

  // Assign the scanner to the form's event: it may then sync into it and read its roster.
  Response postAssignment(Call& call) {
    auto r = core::assignScanner(pool, call.param("id"), call.field("eventId"), now());
    if (!r) return failure(call, r.error());
    support::log::info("admin_web.scanner_assigned",
                       {{"scanner", call.param("id")}, {"event", call.field("eventId")}, {"admin", call.session->adminId}});
    return redirect(*r ? "/scanners?notice=scanner-assigned" : "/scanners?notice=already-assigned");
  }

  Response postUnassignment(Call& call) {
    auto r = core::unassignScanner(pool, call.param("id"), call.param("eventId"));
    if (!r) return failure(call, r.error());
    support::log::info("admin_web.scanner_unassigned",
                       {{"scanner", call.param("id")}, {"event", call.param("eventId")}, {"admin", call.session->adminId}});
    return redirect("/scanners?notice=scanner-unassigned");
  }

  Response postRevoke(Call& call) {
    auto r = core::revokeScanner(pool, call.param("id"), now());
    if (!r) return failure(call, r.error());
    return redirect("/scanners?notice=scanner-revoked");
  }
};

WebApp::WebApp(core::ConnectionPool& pool, http_server::BlockingPool& blocking, const support::TimeSource& clock,
               WebOptions options, http_server::MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(pool, blocking, clock, std::move(options), metrics)) {}

WebApp::~WebApp() = default;

void WebApp::addRoutes(http_server::Router& router) {
  Impl* impl = impl_.get();
  // Runs `work` on the blocking pool (sign-ins: on the password pool) with the
  // console's own answers for a busy pool and a failure (HTML pages, not the
  // server's JSON). A full password queue is 429: too many sign-ins at once.
  auto onPool = [impl](RequestContext& rc, std::function<std::optional<Response>()> work,
                       bool signIn = false) -> boost::asio::awaitable<std::optional<Response>> {
    std::optional<Response> res;
    try {
      res = co_await (signIn ? impl->passwords : impl->blocking).run(std::move(work));
    } catch (const http_server::PoolSaturated&) {
      Response busy = signIn ? htmlResponse(http::status::too_many_requests,
                                            pages::errorContent("Busy", "Too many sign-ins at once. Try again in a moment."))
                             : htmlResponse(http::status::service_unavailable,
                                            pages::errorContent("Busy", "The server is busy. Try again in a moment."));
      busy.set(http::field::retry_after, "1");
      if (signIn && impl->metrics != nullptr) impl->metrics->increment("admin_sign_ins_refused_total");
      res = std::move(busy);
    } catch (const std::exception& e) {
      support::log::error("admin_web.handler_failed", {{"path", rc.path}, {"error", e.what()}});
      res = htmlResponse(http::status::internal_server_error, pages::errorContent("Error", "Something went wrong."));
    }
    co_return res;
  };
  auto add = [&](http::verb verb, std::string pattern, Access access, Impl::Fn fn) {
    http_server::RouteOptions opts;
    if (verb == http::verb::post) opts.maxBody = kFormBodyLimit;
    if (access == Access::session) {
      // The session cookie is checked on the header: no body is read for a stranger.
      opts.guard = [impl, onPool](RequestContext& rc) -> boost::asio::awaitable<std::optional<Response>> {
        co_return co_await onPool(rc, [impl, &rc] { return impl->requireSession(rc); });
      };
    }
    // Only a sign-in hashes a password.
    const bool signIn = fn == &Impl::postLogin;
    router.add(
        verb, std::move(pattern),
        [impl, access, fn, onPool, signIn](RequestContext& rc) -> boost::asio::awaitable<Response> {
          auto res = co_await onPool(
              rc, [impl, access, fn, &rc] { return std::optional<Response>{impl->dispatch(access, fn, rc)}; },
              signIn);
          co_return std::move(*res);
        },
        opts);
  };
  using V = http::verb;
  add(V::get, "/login", Access::open, &Impl::getLogin);
  add(V::post, "/login", Access::open, &Impl::postLogin);
  add(V::get, "/assets/{name}", Access::open, &Impl::getAsset);
  add(V::post, "/logout", Access::session, &Impl::postLogout);
  add(V::get, "/", Access::session, &Impl::getRoot);
  add(V::get, "/events", Access::session, &Impl::getEvents);
  add(V::post, "/events", Access::session, &Impl::postEvents);
  add(V::get, "/events/{id}", Access::session, &Impl::getEvent);
  add(V::post, "/events/{id}", Access::session, &Impl::postEvent);
  add(V::post, "/events/{id}/delete", Access::session, &Impl::postEventDelete);
  add(V::post, "/events/{id}/registrations", Access::session, &Impl::postRegistration);
  add(V::post, "/events/{id}/registrations/{userId}/delete", Access::session, &Impl::postUnregister);
  add(V::get, "/events/{id}/report.csv", Access::session, &Impl::reportCsv);
  add(V::get, "/participants", Access::session, &Impl::getParticipants);
  add(V::post, "/participants", Access::session, &Impl::postParticipants);
  add(V::post, "/participants/{id}/disable", Access::session, &Impl::postDisable);
  add(V::post, "/participants/{id}/enable", Access::session, &Impl::postEnable);
  add(V::post, "/participants/{id}/regenerate-ble-uuid", Access::session, &Impl::postRegenerate);
  add(V::get, "/scanners", Access::session, &Impl::getScanners);
  add(V::post, "/scanners", Access::session, &Impl::postScanners);
  add(V::post, "/scanners/{id}/revoke", Access::session, &Impl::postRevoke);
  add(V::post, "/scanners/{id}/assignments", Access::session, &Impl::postAssignment);
  add(V::post, "/scanners/{id}/assignments/{eventId}/delete", Access::session, &Impl::postUnassignment);
  add(V::get, "/api/events", Access::session, &Impl::apiEvents);
  add(V::get, "/api/events/{id}/report", Access::session, &Impl::apiReport);
  add(V::get, "/api/participants", Access::session, &Impl::apiParticipants);
  add(V::get, "/api/scanners", Access::session, &Impl::apiScanners);
}

}  // namespace attendance::admin_web
