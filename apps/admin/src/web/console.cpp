#include "console.hpp"

#include <fmt/format.h>

#include <attendance/support/log.hpp>

namespace attendance::admin_web {

Console::Console(core::ConnectionPool& p, core::ConnectionPool& r, http_server::BlockingPool& b,
                 const support::TimeSource& c, WebOptions o, http_server::MetricsRegistry* m)
    : pool(p),
      reportPool(r),
      blocking(b),
      clock(c),
      options(o),
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
    for (const char* name :
         {"admin_report_cache_hits_total", "admin_report_cache_misses_total", "admin_report_cache_rebuilds_total",
          "admin_report_cache_incremental_total", "admin_report_refresh_runs_total"}) {
      metrics->increment(name, {}, 0);
    }
  }
  if (options.reportRefreshInterval.count() > 0) {
    refresher = std::make_unique<ReportRefresher>(blocking, clock, options.reportRefreshInterval, [this] {
      const auto rebuilt = reports.refresh(reportPool, now());
      publishCacheStats();
      if (metrics != nullptr) metrics->increment("admin_report_refresh_runs_total");
      if (rebuilt > 0)
        support::log::info("admin_web.reports_refreshed", {{"rebuilt", static_cast<std::int64_t>(rebuilt)}});
    });
  }
}

// The cache counts cumulatively; the registry's counters get the difference.
void Console::publishCacheStats() {
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

Result<std::shared_ptr<const core::CachedReport>> Console::cachedReport(std::string_view eventId) {
  auto r = reports.get(reportPool, eventId, now());
  publishCacheStats();
  return r;
}

std::string Console::sessionCookieName() const {
  return options.secureCookies ? "__Host-attendance_session" : "attendance_session";
}

std::string Console::loginCookieName() const {
  return options.secureCookies ? "__Host-attendance_login" : "attendance_login";
}

std::string Console::cookie(std::string_view name, std::string_view value, std::int64_t maxAge) const {
  return setCookieValue(name, value, maxAge, "Strict", options.secureCookies);
}

Response Console::page(const Call& call, http::status status, std::string_view title, pages::Nav nav,
                       std::string flashHtml, std::string_view content) const {
  pages::Frame f{title, nav, call.session->email, call.session->csrfToken, std::move(flashHtml)};
  return htmlResponse(status, pages::layout(f, content));
}

Response Console::failure(const Call& call, const error_code& ec) const {
  const bool api = call.rc.path.starts_with("/api/");
  Response res = api ? jsonError(statusFor(ec), messageFor(ec))
                     : (call.session ? page(call, statusFor(ec), "Error", pages::Nav::none, {},
                                            pages::errorContent("Something is not right", messageFor(ec)))
                                     : htmlResponse(statusFor(ec), pages::errorContent("Error", messageFor(ec))));
  if (ec == core::Errc::unavailable) res.set(http::field::retry_after, "2");
  return res;
}

}  // namespace attendance::admin_web
