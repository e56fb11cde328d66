#pragma once

#include <attendance/core/database.hpp>
#include <attendance/core/login_limits.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Admin accounts, their sessions and sign-in limits (the admin web console;
// tables from migrations/0050_admin_accounts_sessions_attempts.sql).
namespace attendance::core {

struct AdminAuthConfig {
  // Argon2id cost; libsodium's INTERACTIVE level by default. Tests lower it.
  unsigned long long opsLimit = 2;
  std::size_t memLimit = 64U * 1024U * 1024U;
  std::chrono::seconds sessionLifetime = std::chrono::hours{12};
  // Sign-in limits: failures within `failureWindow` per account and per address.
  LoginLimits loginLimits;
  std::size_t minPasswordLength = 10;
  std::size_t maxPasswordLength = 1024;
};

// Errc::invalid_argument (email/password), Errc::conflict (email taken).
[[nodiscard]] Result<std::int64_t> createAdmin(ConnectionPool& pool, std::string_view email, std::string_view password,
                                               const AdminAuthConfig& auth, std::chrono::system_clock::time_point now);

struct AdminSession {
  std::int64_t adminId = 0;
  std::string email;
  std::string csrfToken;
  std::chrono::system_clock::time_point expiresAt;
};

struct AdminSignIn {
  enum class Kind { ok, wrong_credentials, rate_limited } kind = Kind::wrong_credentials;
  std::string sessionToken;  // the cookie value (only on ok)
  AdminSession session;
  std::chrono::seconds retryAfter{0};  // rate_limited
};

// Checks the limits first (no password is verified while limited), then the
// password (an unknown email costs a hash too), records the attempt, and on
// success creates a session.
[[nodiscard]] Result<AdminSignIn> signInAdmin(ConnectionPool& pool, std::string_view email, std::string_view password,
                                              std::string_view address, const AdminAuthConfig& auth,
                                              std::chrono::system_clock::time_point now);

// Session for a cookie value; nullopt when unknown, expired or the admin is disabled.
[[nodiscard]] Result<std::optional<AdminSession>> findAdminSession(ConnectionPool& pool, std::string_view token,
                                                                   std::chrono::system_clock::time_point now);
[[nodiscard]] Result<void> endAdminSession(ConnectionPool& pool, std::string_view token);

// Random URL-safe token (32 bytes of entropy, 43 characters), e.g. for CSRF tokens.
[[nodiscard]] std::string randomToken();

}  // namespace attendance::core
