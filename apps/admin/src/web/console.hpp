#pragma once

// The admin web console behind WebApp: its shared state (the pool, the report
// cache, the sign-in settings) and one handler per route. The class is declared
// here and defined by resource: console.cpp (state, cookies, page frame,
// errors), session.cpp (the session guard and the CSRF check every route goes
// through), sign_in.cpp, asset_routes.cpp, events.cpp, report_routes.cpp,
// participants.cpp, scanners.cpp; app.cpp holds the route table.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/core/admin_accounts.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/error.hpp>
#include <attendance/core/report_cache.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/core/users.hpp>
#include <attendance/http_server/blocking_pool.hpp>
#include <attendance/http_server/message.hpp>
#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/router.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/utf8.hpp>

#include "app.hpp"
#include "html.hpp"
#include "pages.hpp"
#include "report_refresher.hpp"
#include "responses.hpp"

namespace attendance::admin_web {

using http_server::RequestContext;

inline constexpr std::int64_t kPageSize = 50;             // rows per list page
inline constexpr std::size_t kFormBodyLimit = 64 * 1024;  // bytes of a POSTed form

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

struct Console {
  core::ConnectionPool& pool;
  // Where reports are read: `pool` itself, or a streaming replica's (docs/scaling.md).
  core::ConnectionPool& reportPool;
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

  Console(core::ConnectionPool& p, core::ConnectionPool& reports, http_server::BlockingPool& b,
          const support::TimeSource& c, WebOptions o, http_server::MetricsRegistry* m);

  [[nodiscard]] core::TimePoint now() const { return clock.systemTime(); }
  void publishCacheStats();
  Result<std::shared_ptr<const core::CachedReport>> cachedReport(std::string_view eventId);

  // ---- cookies ---------------------------------------------------------------
  [[nodiscard]] std::string sessionCookieName() const;
  [[nodiscard]] std::string loginCookieName() const;
  [[nodiscard]] std::string cookie(std::string_view name, std::string_view value, std::int64_t maxAge) const;

  // ---- page helpers ----------------------------------------------------------
  Response page(const Call& call, http::status status, std::string_view title, pages::Nav nav, std::string flashHtml,
                std::string_view content) const;
  Response failure(const Call& call, const error_code& ec) const;

  // ---- dispatch (session.cpp) ------------------------------------------------
  using Fn = Response (Console::*)(Call&);
  // The session behind a request, found from its cookie by the route's header
  // guard (before any body byte is read) and handed to dispatch.
  struct SignedIn {
    std::string token;
    core::AdminSession session;
  };
  // Header guard of every Access::session route: no session, no body read.
  std::optional<Response> requireSession(RequestContext& rc);
  Response dispatch(Access access, Fn fn, RequestContext& rc);

  // ---- sign-in (sign_in.cpp) -------------------------------------------------
  // `next`: a checked path (safeNextPath) the form sends back, or empty.
  Response loginPage(http::status status, std::string_view email, std::string flashHtml,
                     std::string_view next = {}) const;
  Response getLogin(Call& call);
  Response postLogin(Call& call);
  Response postLogout(Call& call);

  // ---- assets (asset_routes.cpp) ---------------------------------------------
  Response asset(const RequestContext& rc, bool signedIn) const;
  Response getAsset(Call& call);

  // ---- events (events.cpp) ---------------------------------------------------
  Response getRoot(Call&);
  Response getEvents(Call& call);
  Response apiEvents(Call& call);
  // The refused fields of an event form, each with its message (none: the times are in starts/ends).
  pages::FieldErrors checkEventForm(const Call& call, std::string_view name, std::string_view venue,
                                    std::optional<core::TimePoint>& starts, std::optional<core::TimePoint>& ends,
                                    core::RegistrationLimits& limits);
  // The events page again (400) with the create form open as typed and the messages by its fields.
  Response refusedEventForm(Call& call, const pages::EventForm& typed);
  Response postEvents(Call& call);
  Response getEvent(Call& call);
  // The event page; with a refused form (edit, door, registration), that form as
  // typed with the messages by its fields.
  struct RefusedEventForms {
    const pages::EventForm* edit = nullptr;
    const pages::DoorForm* door = nullptr;
    const pages::RegistrationForm* registration = nullptr;
  };
  Response eventPage(Call& call, http::status status, RefusedEventForms refused);
  Response postEvent(Call& call);
  Response postEventDelete(Call& call);
  Response postRegistration(Call& call);
  Response postUnregister(Call& call);
  // The door form: a manual check-in or revoke with a reason, by the signed-in admin.
  Response postDoor(Call& call);

  // ---- report (report_routes.cpp) --------------------------------------------
  // Without page parameters: the whole report, exactly `attendance-admin report
  // --format json`. With any of offset, limit, filter, q, sort, dir: one page
  // (core::renderReportPageJson). Both from the cached report.
  Response apiReport(Call& call);
  Response reportCsv(Call& call);
  // The unknown devices alone (core's renderUnknownDevicesCsv), BOM first as reportCsv.
  Response unknownDevicesCsv(Call& call);
  // Per scanner: live or when its last batch arrived, and the report's data
  // version, which the page polls while a scanner is live (docs/admin-web.md).
  Response apiLive(Call& call);

  // ---- participants (participants.cpp) ---------------------------------------
  Response getParticipants(Call& call);
  Response apiParticipants(Call& call);
  Response postParticipants(Call& call);
  // The participants page again (400/409) with the new-participant form open as typed.
  Response participantsPage(Call& call, http::status status, const pages::ParticipantForm* refused);
  Response setDisabled(Call& call, bool disabled);
  Response postDisable(Call& call);
  Response postEnable(Call& call);
  Response postRegenerate(Call& call);

  // ---- scanners (scanners.cpp) -----------------------------------------------
  Response scannersPage(Call& call, http::status status, std::string flashHtml,
                        const std::optional<core::CreatedScanner>& created);
  Response getScanners(Call& call);
  Response apiScanners(Call& call);
  Response postScanners(Call& call);
  // Assign the scanner to the form's event: it may then sync into it and read its roster.
  Response postAssignment(Call& call);
  Response postUnassignment(Call& call);
  Response postRevoke(Call& call);
};

}  // namespace attendance::admin_web
