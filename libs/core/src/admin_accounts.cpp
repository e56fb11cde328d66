#include <attendance/core/admin_accounts.hpp>

#include <attendance/core/error.hpp>
#include <attendance/support/utf8.hpp>

#include "db_util.hpp"
#include "secrets.hpp"

#include <algorithm>
#include <cctype>

namespace attendance::core {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool plausibleEmail(std::string_view e) {
  return e.size() >= 3 && e.size() <= 254 && std::count(e.begin(), e.end(), '@') == 1 && e.front() != '@' &&
         e.back() != '@' && std::none_of(e.begin(), e.end(), [](unsigned char c) { return c <= ' '; });
}

}  // namespace

std::string randomToken() { return detail::randomSecret(""); }

Result<std::int64_t> createAdmin(ConnectionPool& pool, std::string_view email, std::string_view password,
                                 const AdminAuthConfig& auth, std::chrono::system_clock::time_point now) {
  if (!plausibleEmail(email)) return make_error_code(Errc::invalid_argument);
  if (password.size() < auth.minPasswordLength || password.size() > auth.maxPasswordLength) {
    return make_error_code(Errc::invalid_argument);
  }
  auto hash = detail::hashPassword(password, auth.opsLimit, auth.memLimit);
  if (!hash) return make_error_code(Errc::internal);  // out of memory
  return detail::withConnection(pool, "create_admin", [&](pqxx::connection_base& c) -> Result<std::int64_t> {
    pqxx::work tx{c};
    const auto row = tx.exec_params1(
        "INSERT INTO admin_accounts (email, password_hash, created_at) "
        "VALUES ($1, $2, to_timestamp($3 / 1000.0)) RETURNING id",
        std::string(email), *hash, detail::toMs(now));
    tx.commit();
    return row[0].as<std::int64_t>();
  });
}

Result<AdminSignIn> signInAdmin(ConnectionPool& pool, std::string_view email, std::string_view password,
                                std::string_view address, const AdminAuthConfig& auth,
                                std::chrono::system_clock::time_point now) {
  // The attempt counter is keyed by the email as typed, cut where no real address
  // reaches, and at a character boundary so the key stays UTF-8.
  const std::string key = lower(support::utf8Prefix(email, 254));

  // Step 1: the limits (shared with participant sign-ins); no password is checked while limited.
  auto wait = loginRetryAfter(pool, LoginRealm::admins, key, address, auth.loginLimits, now);
  if (!wait) return wait.error();
  AdminSignIn outcome;
  if (*wait) {
    outcome.kind = AdminSignIn::Kind::rate_limited;
    outcome.retryAfter = **wait;
    return outcome;
  }

  struct Account {
    std::int64_t id = 0;
    std::string email;
    std::string hash;
  };
  auto found = detail::withConnection(
      pool, "admin_sign_in_account", [&](pqxx::connection_base& c) -> Result<std::optional<Account>> {
        pqxx::read_transaction tx{c};
        const auto rows = tx.exec_params(
            "SELECT id, email, password_hash FROM admin_accounts WHERE lower(email) = $1 AND NOT disabled", key);
        if (rows.empty()) return std::optional<Account>{};
        return std::optional<Account>{
            Account{rows[0][0].as<std::int64_t>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()}};
      });
  if (!found) return found.error();
  const auto& account = *found;

  // Step 2: the expensive hash, outside any transaction (an unknown email costs one too).
  bool ok = false;
  if (account) {
    ok = detail::verifyPassword(account->hash, password);
  } else {
    detail::burnPasswordCheck(password, auth.opsLimit, auth.memLimit);
  }

  // Step 3: record the attempt; on success create the session.
  if (auto recorded = recordLoginAttempt(pool, LoginRealm::admins, key, address, ok, now); !recorded) {
    return recorded.error();
  }
  if (!ok) {
    outcome.kind = AdminSignIn::Kind::wrong_credentials;
    return outcome;
  }
  const std::int64_t nowMs = detail::toMs(now);
  return detail::withConnection(pool, "admin_sign_in_session", [&](pqxx::connection_base& c) -> Result<AdminSignIn> {
    pqxx::work tx{c};
    tx.exec_params("DELETE FROM admin_sessions WHERE expires_at < to_timestamp($1 / 1000.0)", nowMs);
    AdminSignIn out;
    out.kind = AdminSignIn::Kind::ok;
    out.sessionToken = randomToken();
    out.session.adminId = account->id;
    out.session.email = account->email;
    out.session.csrfToken = randomToken();
    out.session.expiresAt = now + auth.sessionLifetime;
    tx.exec_params(
        "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, created_at, expires_at) "
        "VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0))",
        detail::sha256Hex(out.sessionToken), account->id, out.session.csrfToken, nowMs,
        detail::toMs(out.session.expiresAt));
    tx.commit();
    return out;
  });
}

Result<std::optional<AdminSession>> findAdminSession(ConnectionPool& pool, std::string_view token,
                                                     std::chrono::system_clock::time_point now) {
  if (token.empty() || token.size() > 128) return std::optional<AdminSession>{};
  return detail::withConnection(pool, "find_admin_session",
                                [&](pqxx::connection_base& c) -> Result<std::optional<AdminSession>> {
                                  pqxx::read_transaction tx{c};
                                  const auto rows = tx.exec_params(
        "SELECT a.id, a.email, s.csrf_token, " ATTENDANCE_SQL_MS("s.expires_at") " "
        "FROM admin_sessions s JOIN admin_accounts a ON a.id = s.admin_id "
        "WHERE s.token_hash = $1 AND s.expires_at > to_timestamp($2 / 1000.0) AND NOT a.disabled",
        detail::sha256Hex(token), detail::toMs(now));
                                  if (rows.empty()) return std::optional<AdminSession>{};
                                  AdminSession s;
                                  s.adminId = rows[0][0].as<std::int64_t>();
                                  s.email = rows[0][1].as<std::string>();
                                  s.csrfToken = rows[0][2].as<std::string>();
                                  s.expiresAt = detail::fromMs(rows[0][3].as<std::int64_t>());
                                  return std::optional<AdminSession>{std::move(s)};
                                });
}

Result<void> endAdminSession(ConnectionPool& pool, std::string_view token) {
  return detail::withConnection(pool, "end_admin_session", [&](pqxx::connection_base& c) -> Result<void> {
    pqxx::work tx{c};
    tx.exec_params("DELETE FROM admin_sessions WHERE token_hash = $1", detail::sha256Hex(token));
    tx.commit();
    return {};
  });
}

}  // namespace attendance::core
