#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/attendance_core/database.hpp>
#include <attendance/support/result.hpp>

// Admin accounts, sessions and sign-in limits (tables from migrations/0050_*.sql, applied by core's migrate).
namespace attendance::admin_web {

using TimePoint = std::chrono::system_clock::time_point;

struct AuthSettings {
  // Argon2id cost; libsodium's INTERACTIVE level by default. Tests lower it.
  unsigned long long opsLimit = 2;
  std::size_t memLimit = 64U * 1024U * 1024U;
  std::chrono::seconds sessionLifetime = std::chrono::hours{12};
  // Sign-in limits: failures within `failureWindow` per account and per address.
  int maxFailuresPerAccount = 5;
  int maxFailuresPerAddress = 20;
  std::chrono::seconds failureWindow = std::chrono::minutes{15};
  std::size_t minPasswordLength = 10;
  std::size_t maxPasswordLength = 1024;
};

// Errc::invalid_argument (email/password), Errc::conflict (email taken).
[[nodiscard]] Result<std::int64_t> createAdmin(core::ConnectionPool& pool, std::string_view email,
                                               std::string_view password, const AuthSettings& settings,
                                               TimePoint now);

struct AdminSession {
  std::int64_t adminId = 0;
  std::string email;
  std::string csrfToken;
  TimePoint expiresAt;
};

struct LoginOutcome {
  enum class Kind { ok, wrong_credentials, rate_limited } kind = Kind::wrong_credentials;
  std::string sessionToken;  // the cookie value (only on ok)
  AdminSession session;
  std::chrono::seconds retryAfter{0};  // rate_limited
};

// Checks the limits first (no password is verified while limited), then the
// password in constant time (an unknown email costs a hash too), records the
// attempt, and on success creates a session.
[[nodiscard]] Result<LoginOutcome> login(core::ConnectionPool& pool, std::string_view email,
                                         std::string_view password, std::string_view address,
                                         const AuthSettings& settings, TimePoint now);

// Session for a cookie value; nullopt when unknown, expired or the admin is disabled.
[[nodiscard]] Result<std::optional<AdminSession>> findSession(core::ConnectionPool& pool, std::string_view token,
                                                              TimePoint now);
[[nodiscard]] Result<void> endSession(core::ConnectionPool& pool, std::string_view token);

// Random URL-safe token (32 bytes of entropy) for session ids and CSRF tokens.
[[nodiscard]] std::string randomToken();
// SHA-256 as 64 lowercase hex digits.
[[nodiscard]] std::string sha256Hex(std::string_view data);

}  // namespace attendance::admin_web
