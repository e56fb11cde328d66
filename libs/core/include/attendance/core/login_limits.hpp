#pragma once

// Sign-in limits: failures within a window, per account and per client address,
// kept in PostgreSQL so that every server instance counts the same attempts.
// No password is checked while a limit holds; a success forgives the account's
// failures (not the address's).

#include <chrono>
#include <optional>
#include <string_view>

#include <attendance/core/database.hpp>
#include <attendance/support/result.hpp>

namespace attendance::core {

// Whose sign-ins: each realm has its own table of attempts.
enum class LoginRealm {
  participants,  // participant_login_attempts (migration 0005)
  admins,        // admin_login_attempts (migration 0050)
};

struct LoginLimits {
  int maxFailuresPerAccount = 5;
  int maxFailuresPerAddress = 20;
  std::chrono::seconds failureWindow = std::chrono::minutes{15};
};

// How long `email` from `address` must wait before the next attempt, or nullopt
// when it may try now. Also drops attempts older than a day.
[[nodiscard]] Result<std::optional<std::chrono::seconds>> loginRetryAfter(ConnectionPool& pool, LoginRealm realm,
                                                                          std::string_view email,
                                                                          std::string_view address,
                                                                          const LoginLimits& limits,
                                                                          std::chrono::system_clock::time_point now);

// Records one attempt; a success also forgives the account's earlier failures.
[[nodiscard]] Result<void> recordLoginAttempt(ConnectionPool& pool, LoginRealm realm, std::string_view email,
                                              std::string_view address, bool succeeded,
                                              std::chrono::system_clock::time_point now);

}  // namespace attendance::core
