#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <attendance/attendance_core/database.hpp>
#include <attendance/attendance_core/users.hpp>
#include <attendance/http_server/blocking_pool.hpp>
#include <attendance/http_server/router.hpp>
#include <attendance/support/clock.hpp>

namespace attendance::admin_web {

struct WebOptions {
  // Argon2id cost for admin passwords and the sign-in limits.
  unsigned long long adminOpsLimit = 2;
  std::size_t adminMemLimit = 64U * 1024U * 1024U;
  std::chrono::seconds sessionLifetime = std::chrono::hours{12};
  int maxFailuresPerAccount = 5;
  int maxFailuresPerAddress = 20;
  std::chrono::seconds failureWindow = std::chrono::minutes{15};
  // Served over HTTPS (directly or behind a TLS proxy): cookies get `Secure`
  // and the `__Host-` prefix.
  bool secureCookies = false;
  // Password hashing for participants created from the console.
  core::AuthConfig participantAuth;

  [[nodiscard]] static WebOptions forTests();
};

// The admin web application: every page, JSON API and asset route, added to a
// router of the shared HTTP layer. Database work runs on `blocking`.
class WebApp {
public:
  WebApp(core::ConnectionPool& pool, http_server::BlockingPool& blocking, const support::TimeSource& clock,
         WebOptions options);
  ~WebApp();
  WebApp(const WebApp&) = delete;
  WebApp& operator=(const WebApp&) = delete;

  void addRoutes(http_server::Router& router);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::admin_web
