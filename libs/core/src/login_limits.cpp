#include <attendance/core/login_limits.hpp>

#include <algorithm>

#include "db_util.hpp"

namespace attendance::core {

namespace {

// The realm picks one of two fixed table names: never text from a request.
const char* attemptsTable(LoginRealm realm) {
  return realm == LoginRealm::admins ? "admin_login_attempts" : "participant_login_attempts";
}

// Accounts are counted by their lower-cased email, cut to the longest valid
// address (characters, not bytes, so UTF-8 stays whole).
constexpr const char* kEmailKey = "left(lower($1), 254)";

}  // namespace

Result<std::optional<std::chrono::seconds>> loginRetryAfter(ConnectionPool& pool, LoginRealm realm,
                                                            std::string_view email, std::string_view address,
                                                            const LoginLimits& limits,
                                                            std::chrono::system_clock::time_point now) {
  const std::int64_t nowMs = detail::toMs(now);
  const std::int64_t windowMs = std::chrono::duration_cast<std::chrono::milliseconds>(limits.failureWindow).count();
  const std::string table = attemptsTable(realm);
  return detail::withConnection(
      pool, "login_limits", [&](pqxx::connection_base& conn) -> Result<std::optional<std::chrono::seconds>> {
        pqxx::work tx{conn};
        // Old attempts are useless to the limits: keep the table small.
        tx.exec_params("DELETE FROM " + table + " WHERE attempted_at < to_timestamp($1 / 1000.0) - interval '1 day'",
                       nowMs);
        const auto counts = tx.exec_params1(
            std::string{"SELECT count(*) FILTER (WHERE email = "} + kEmailKey +
                "), count(*) FILTER (WHERE address = $2), "
                "min(" ATTENDANCE_SQL_MS("attempted_at") ") FILTER (WHERE email = " + kEmailKey +
                "), min(" ATTENDANCE_SQL_MS("attempted_at") ") FILTER (WHERE address = $2) "
                "FROM " + table + " WHERE NOT succeeded AND attempted_at > to_timestamp($3 / 1000.0) "
                "AND (email = " + kEmailKey + " OR address = $2)",
            std::string{email}, std::string{address}, nowMs - windowMs);
        tx.commit();
        std::optional<std::int64_t> limitedSince;
        if (counts[0].as<int>() >= limits.maxFailuresPerAccount) limitedSince = counts[2].as<std::int64_t>();
        if (counts[1].as<int>() >= limits.maxFailuresPerAddress) {
          const auto since = counts[3].as<std::int64_t>();
          limitedSince = limitedSince ? std::min(*limitedSince, since) : since;
        }
        if (!limitedSince) return std::optional<std::chrono::seconds>{};
        // Free again when the oldest counted failure leaves the window.
        const std::int64_t waitMs = std::max<std::int64_t>(1000, *limitedSince + windowMs - nowMs);
        return std::optional<std::chrono::seconds>{std::chrono::seconds{(waitMs + 999) / 1000}};
      });
}

Result<void> recordLoginAttempt(ConnectionPool& pool, LoginRealm realm, std::string_view email,
                                std::string_view address, bool succeeded, std::chrono::system_clock::time_point now) {
  const std::string table = attemptsTable(realm);
  return detail::withConnection(pool, "login_record", [&](pqxx::connection_base& conn) -> Result<void> {
    pqxx::work tx{conn};
    tx.exec_params("INSERT INTO " + table + " (email, address, attempted_at, succeeded) VALUES (" + kEmailKey +
                       ", $2, to_timestamp($3 / 1000.0), $4)",
                   std::string{email}, std::string{address}, detail::toMs(now), succeeded);
    if (succeeded) {
      tx.exec_params("DELETE FROM " + table + " WHERE email = " + kEmailKey + " AND NOT succeeded", std::string{email});
    }
    tx.commit();
    return {};
  });
}

}  // namespace attendance::core
