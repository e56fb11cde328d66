#pragma once

#include <attendance/core/database.hpp>
#include <attendance/core/login_limits.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Users (participants), their passwords and session tokens.
namespace attendance::core {

struct AuthConfig {
  // Argon2id (crypto_pwhash_str). Defaults = libsodium's INTERACTIVE level
  // (2 passes, 64 MiB): ~0.1 s per hash on a small server. Tests lower them.
  unsigned long long passwordOpsLimit = 2;
  std::size_t passwordMemLimit = 64U * 1024U * 1024U;
  std::chrono::seconds tokenLifetime = std::chrono::hours{24 * 30};
  std::size_t minPasswordLength = 8;
  std::size_t maxPasswordLength = 1024;
  // Participant sign-ins: failures per account and per address (signInParticipant).
  LoginLimits loginLimits;

  // The cheapest settings libsodium accepts: for tests only.
  [[nodiscard]] static AuthConfig forTests() {
    AuthConfig c;
    c.passwordOpsLimit = 1;
    c.passwordMemLimit = 8192;
    return c;
  }
};

struct User {
  std::string id;  // UUID text
  std::string email;
  std::string displayName;
  support::Uuid bleUuid;
  bool disabled = false;
  bool hasPassword = false;
  std::chrono::system_clock::time_point createdAt;
};

struct NewUser {
  std::string email;                    // unique, case-insensitive; 3..254 chars with one '@'
  std::string displayName;              // 1..200 chars
  std::optional<std::string> password;  // none = cannot log in (admin-created)
};

// Why `user` is not acceptable (for a 400 body or a CLI message), or nullopt.
// A password, when present, must be minPasswordLength..maxPasswordLength bytes.
[[nodiscard]] std::optional<std::string> validateNewUser(const NewUser& user, const AuthConfig& auth);

// Errc::invalid_argument, Errc::conflict (email taken).
[[nodiscard]] Result<User> createUser(ConnectionPool& pool, const NewUser& user, const AuthConfig& auth,
                                      std::chrono::system_clock::time_point now);

[[nodiscard]] Result<std::vector<User>> listUsers(ConnectionPool& pool);
// Errc::user_not_found.
[[nodiscard]] Result<User> getUser(ConnectionPool& pool, std::string_view userId);
// New random bleUuid for the user (a lost or leaked phone). Old check-ins keep the old one.
[[nodiscard]] Result<support::Uuid> regenerateBleUuid(ConnectionPool& pool, std::string_view userId);

// Changes whether the user may log in and appear in rosters; disabling also ends
// their sessions. Errc::user_not_found.
[[nodiscard]] Result<void> setUserDisabled(ConnectionPool& pool, std::string_view userId, bool disabled);

// The user id for an email (case-insensitive). Errc::user_not_found.
[[nodiscard]] Result<std::string> userIdByEmail(ConnectionPool& pool, std::string_view email);

// A row of a participant or registration list.
struct UserRow {
  std::string id;  // UUID text
  std::string email;
  std::string displayName;
  std::string bleUuid;  // UUID text
  bool disabled = false;
  std::optional<std::chrono::system_clock::time_point> registeredAt;  // registration lists only
};
struct UserPage {
  std::vector<UserRow> rows;
  std::int64_t total = 0;  // rows matching the search, over all pages
};
inline constexpr std::size_t kMaxSearchLength = 200;  // bytes
inline constexpr std::int64_t kMaxPageLimit = 1000;

// One page of users, ordered by name then email. `search` = case-insensitive substring
// of name or email ('%', '_' and '\\' match themselves); empty = everyone.
// Errc::invalid_argument: offset < 0, limit outside 1..kMaxPageLimit, search longer
// than kMaxSearchLength.
[[nodiscard]] Result<UserPage> listParticipants(ConnectionPool& pool, std::string_view search, std::int64_t offset,
                                                std::int64_t limit);

// One page of an event's registrations (registeredAt set), same search, order and
// limits as listParticipants. An unknown event has none. Errc::invalid_argument.
[[nodiscard]] Result<UserPage> listRegistrations(ConnectionPool& pool, std::string_view eventId,
                                                 std::string_view search, std::int64_t offset, std::int64_t limit);

struct Session {
  std::string token;  // shown once; stored as SHA-256
  std::string userId;
  std::chrono::system_clock::time_point expiresAt;
};

struct CreatedParticipant {
  User user;
  Session session;
};

// POST /api/participants: a user with a password plus a first session.
[[nodiscard]] Result<CreatedParticipant> createParticipant(ConnectionPool& pool, const NewUser& user,
                                                           const AuthConfig& auth,
                                                           std::chrono::system_clock::time_point now);

// POST /api/sessions. Errc::unauthorized for unknown email or wrong password
// (same answer), Errc::forbidden for a disabled user.
[[nodiscard]] Result<Session> createSession(ConnectionPool& pool, std::string_view email, std::string_view password,
                                            const AuthConfig& auth, std::chrono::system_clock::time_point now);

struct SignIn {
  std::optional<Session> session;                  // signed in
  std::optional<std::chrono::seconds> retryAfter;  // a sign-in limit holds: no password was checked
};

// createSession behind the sign-in limits of `auth.loginLimits` (per account and
// per client address, core/login_limits.hpp); every attempt is recorded.
// Errc::unauthorized / Errc::forbidden as createSession.
[[nodiscard]] Result<SignIn> signInParticipant(ConnectionPool& pool, std::string_view email, std::string_view password,
                                               std::string_view address, const AuthConfig& auth,
                                               std::chrono::system_clock::time_point now);

// Bearer token → user. Errc::unauthorized for unknown or expired tokens and disabled users.
[[nodiscard]] Result<User> authenticateToken(ConnectionPool& pool, std::string_view token,
                                             std::chrono::system_clock::time_point now);

// Ends a session (logout). Unknown tokens are not an error.
[[nodiscard]] Result<void> revokeSession(ConnectionPool& pool, std::string_view token);

}  // namespace attendance::core
