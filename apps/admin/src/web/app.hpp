#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include <attendance/core/database.hpp>
#include <attendance/core/users.hpp>
#include <attendance/http_server/blocking_pool.hpp>
#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/router.hpp>
#include <attendance/support/clock.hpp>

namespace attendance::admin_web {

struct Console;  // console.hpp

struct WebOptions {
  // Argon2id cost for admin passwords and the sign-in limits.
  unsigned long long adminOpsLimit = 2;
  std::size_t adminMemLimit = 64U * 1024U * 1024U;
  std::chrono::seconds sessionLifetime = std::chrono::hours{12};
  int maxFailuresPerAccount = 5;
  int maxFailuresPerAddress = 20;
  std::chrono::seconds failureWindow = std::chrono::minutes{15};
  // Sign-ins (POST /login) hash on a pool of their own (Argon2id: 64 MiB and
  // ~0.1 s each): with `maxPendingPasswords` queued the next is answered 429 +
  // Retry-After at once, and the database pool (every page, every report) never
  // waits behind a burst of them.
  std::size_t passwordThreads = 1;
  std::size_t maxPendingPasswords = 16;
  // Served over HTTPS (directly or behind a TLS proxy): cookies get `Secure`
  // and the `__Host-` prefix.
  bool secureCookies = false;
  // Password hashing for participants created from the console.
  core::AuthConfig participantAuth;
  // Built reports kept in memory (core::ReportCache; the least recently used
  // event is dropped first); 0 = build every report on request.
  std::size_t reportCacheEvents = 4;
  // How often the cached reports are re-checked and the changed ones rebuilt in
  // the background, so the first view after a sync is fast too; 0 = never
  // (then the first request after a change rebuilds).
  std::chrono::milliseconds reportRefreshInterval{0};

  [[nodiscard]] static WebOptions forTests();
};

// apps/admin/openapi.json, embedded at build time: served at GET /openapi.json (docs/api.md).
[[nodiscard]] std::string_view openApiDocument();

// The admin web application: every page, JSON API and asset route, added to a
// router of the shared HTTP layer. Database work runs on `blocking`. With
// `metrics`, the report cache's hits, misses and rebuilds are counted there
// (admin_report_cache_*_total); `metrics` must outlive the WebApp. With
// `reportPool` (a streaming replica, docs/scaling.md) reports are read there and
// everything else (sessions, forms, lists) on `pool`; both must outlive the WebApp.
class WebApp {
public:
  WebApp(core::ConnectionPool& pool, http_server::BlockingPool& blocking, const support::TimeSource& clock,
         WebOptions options, http_server::MetricsRegistry* metrics = nullptr,
         core::ConnectionPool* reportPool = nullptr);
  ~WebApp();
  WebApp(const WebApp&) = delete;
  WebApp& operator=(const WebApp&) = delete;

  // Every page and JSON route of the console, and GET /openapi.json.
  void addRoutes(http_server::Router& router);

private:
  std::unique_ptr<Console> impl_;
};

}  // namespace attendance::admin_web
