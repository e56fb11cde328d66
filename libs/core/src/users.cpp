#include <attendance/core/users.hpp>

#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/utf8.hpp>

#include "db_util.hpp"
#include "secrets.hpp"

#include <algorithm>

namespace attendance::core {
namespace {

constexpr std::string_view kTokenPrefix = "atp_";
constexpr std::size_t kTokenLength = 4 + 43;

constexpr const char* kUserColumns =
    "u.id::text, u.email, u.display_name, u.ble_uuid::text, u.disabled, u.password_hash IS NOT "
    "NULL, " ATTENDANCE_SQL_MS("u.created_at");

User readUser(const pqxx::row& row) {
  User u;
  u.id = row[0].as<std::string>();
  u.email = row[1].as<std::string>();
  u.displayName = row[2].as<std::string>();
  u.bleUuid = support::Uuid::parse(row[3].as<std::string>()).value_or(support::Uuid{});
  u.disabled = row[4].as<bool>();
  u.hasPassword = row[5].as<bool>();
  u.createdAt = detail::fromMs(row[6].as<std::int64_t>());
  return u;
}

bool validTextLength(std::string_view s, std::size_t min, std::size_t max) {
  return s.size() >= min && s.size() <= max && std::none_of(s.begin(), s.end(), [](char c) {
           return static_cast<unsigned char>(c) < 0x20;  // no control characters
         });
}

// A bleUuid drawn again after this many collisions means something else is wrong.
constexpr int kBleUuidAttempts = 4;

support::BleNamespace deploymentNamespace(pqxx::transaction_base& tx) {
  const auto r = tx.exec("SELECT encode(ble_namespace, 'hex') FROM deployment");
  if (r.empty()) throw detail::CoreFailure{Errc::schema_outdated};
  const auto ns = support::BleNamespace::parseHex(r[0][0].as<std::string>());
  if (!ns) throw detail::CoreFailure{Errc::internal};
  return *ns;
}

// namespace ‖ 6 random bytes (ADR 0027).
support::Uuid newBleUuid(const support::BleNamespace& ns) { return ns.withInstance(detail::randomBleInstance()); }

User insertUser(pqxx::work& tx, const NewUser& nu, const std::optional<std::string>& hash,
                std::chrono::system_clock::time_point now) {
  const auto ns = deploymentNamespace(tx);
  const auto id = detail::randomUuid().toString();
  // Nor a bleUuid someone had before: old check-ins must keep one owner.
  const std::string sql =
      std::string{
          "INSERT INTO users AS u (id, email, display_name, password_hash, ble_uuid, created_at) "
          "SELECT $1::uuid, $2, $3, $4, $5::uuid, to_timestamp($6::bigint / 1000.0) "
          "WHERE NOT EXISTS (SELECT 1 FROM retired_ble_uuids WHERE ble_uuid = $5::uuid) "
          "ON CONFLICT DO NOTHING RETURNING "} +
      kUserColumns;
  // 48 random bits per instance: a clash is unlikely (ADR 0027 has the numbers) but possible;
  // the UNIQUE constraint on users.ble_uuid catches it and a new instance is drawn.
  for (int attempt = 0; attempt < kBleUuidAttempts; ++attempt) {
    const auto ble = newBleUuid(ns).toString();
    const auto r = hash ? tx.exec_params(sql, id, nu.email, nu.displayName, *hash, ble, detail::toMs(now))
                        : tx.exec_params(sql, id, nu.email, nu.displayName, nullptr, ble, detail::toMs(now));
    if (!r.empty()) return readUser(r[0]);
    if (!tx.exec_params("SELECT 1 FROM users WHERE lower(email) = lower($1)", nu.email).empty()) break;
  }
  throw detail::CoreFailure{Errc::conflict};
}

Session insertSession(pqxx::work& tx, const std::string& userId, const AuthConfig& auth,
                      std::chrono::system_clock::time_point now) {
  Session s;
  s.token = detail::randomSecret(kTokenPrefix);
  s.userId = userId;
  s.expiresAt = now + auth.tokenLifetime;
  const auto digest = detail::sha256(s.token);
  tx.exec_params(
      "INSERT INTO participant_sessions (token_hash, user_id, created_at, expires_at) "
      "VALUES ($1, $2::uuid, to_timestamp($3::bigint / 1000.0), to_timestamp($4::bigint / 1000.0))",
      pqxx::binarystring{digest.data(), digest.size()}, userId, detail::toMs(now), detail::toMs(s.expiresAt));
  return s;
}

// LIKE pattern for a substring search, with the input's wildcards escaped.
std::string likePattern(std::string_view search) {
  std::string p = "%";
  for (char c : search) {
    if (c == '%' || c == '_' || c == '\\') p += '\\';
    p += c;
  }
  p += '%';
  return p;
}

bool validPaging(std::string_view search, std::int64_t offset, std::int64_t limit) {
  // Invalid UTF-8 would be refused by PostgreSQL as an error, not a bad argument.
  return search.size() <= kMaxSearchLength && support::isValidUtf8(search) && offset >= 0 && limit >= 1 &&
         limit <= kMaxPageLimit;
}

UserRow readParticipantRow(const pqxx::row& r) {
  UserRow p;
  p.id = r[0].as<std::string>();
  p.email = r[1].as<std::string>();
  p.displayName = r[2].as<std::string>();
  p.bleUuid = r[3].as<std::string>();
  p.disabled = r[4].as<bool>();
  return p;
}

}  // namespace

std::optional<std::string> validateNewUser(const NewUser& user, const AuthConfig& auth) {
  // Checked first: PostgreSQL refuses invalid UTF-8 with an error, and the length
  // rules below count bytes of text.
  if (!support::isValidUtf8(user.email)) return "email is not valid UTF-8";
  if (!support::isValidUtf8(user.displayName)) return "display name is not valid UTF-8";
  const auto at = user.email.find('@');
  if (!validTextLength(user.email, 3, 254) || at == std::string::npos || at == 0 || at + 1 == user.email.size() ||
      user.email.find('@', at + 1) != std::string::npos || user.email.find(' ') != std::string::npos) {
    return "email must look like name@example.org (3-254 characters, one @, no spaces)";
  }
  if (!validTextLength(user.displayName, 1, 200)) return "display name must be 1-200 characters";
  if (user.password) {
    if (user.password->size() < auth.minPasswordLength || user.password->size() > auth.maxPasswordLength) {
      return "password must be " + std::to_string(auth.minPasswordLength) + "-" +
             std::to_string(auth.maxPasswordLength) + " bytes";
    }
  }
  return std::nullopt;
}

Result<User> createUser(ConnectionPool& pool, const NewUser& user, const AuthConfig& auth,
                        std::chrono::system_clock::time_point now) {
  if (validateNewUser(user, auth)) return make_error_code(Errc::invalid_argument);
  std::optional<std::string> hash;
  if (user.password) {
    hash = detail::hashPassword(*user.password, auth);
    if (!hash) return make_error_code(Errc::internal);
  }
  return detail::withConnection(pool, "create_user", [&](pqxx::connection_base& conn) -> Result<User> {
    pqxx::work tx{conn};
    User created = insertUser(tx, user, hash, now);
    tx.commit();
    return created;
  });
}

Result<CreatedParticipant> createParticipant(ConnectionPool& pool, const NewUser& user, const AuthConfig& auth,
                                             std::chrono::system_clock::time_point now) {
  if (!user.password || validateNewUser(user, auth)) return make_error_code(Errc::invalid_argument);
  const auto hash = detail::hashPassword(*user.password, auth);
  if (!hash) return make_error_code(Errc::internal);
  return detail::withConnection(pool, "create_participant",
                                [&](pqxx::connection_base& conn) -> Result<CreatedParticipant> {
                                  pqxx::work tx{conn};
                                  CreatedParticipant out;
                                  out.user = insertUser(tx, user, hash, now);
                                  out.session = insertSession(tx, out.user.id, auth, now);
                                  tx.commit();
                                  return out;
                                });
}

Result<std::vector<User>> listUsers(ConnectionPool& pool) {
  return detail::withConnection(pool, "list_users", [&](pqxx::connection_base& conn) -> Result<std::vector<User>> {
    pqxx::read_transaction tx{conn};
    const auto rows = tx.exec(std::string{"SELECT "} + kUserColumns + " FROM users u ORDER BY lower(u.email)");
    std::vector<User> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(readUser(row));
    return out;
  });
}

Result<User> getUser(ConnectionPool& pool, std::string_view userId) {
  if (!support::Uuid::parse(userId)) return make_error_code(Errc::user_not_found);
  return detail::withConnection(pool, "get_user", [&](pqxx::connection_base& conn) -> Result<User> {
    pqxx::read_transaction tx{conn};
    const auto rows = tx.exec_params(std::string{"SELECT "} + kUserColumns + " FROM users u WHERE u.id = $1::uuid",
                                     std::string{userId});
    if (rows.empty()) return make_error_code(Errc::user_not_found);
    return readUser(rows[0]);
  });
}

Result<support::Uuid> regenerateBleUuid(ConnectionPool& pool, std::string_view userId) {
  if (!support::Uuid::parse(userId)) return make_error_code(Errc::user_not_found);
  return detail::withConnection(pool, "regenerate_ble_uuid", [&](pqxx::connection_base& conn) -> Result<support::Uuid> {
    pqxx::work tx{conn};
    const auto ns = deploymentNamespace(tx);
    const auto old =
        tx.exec_params("SELECT ble_uuid::text FROM users WHERE id = $1::uuid FOR UPDATE", std::string{userId});
    if (old.empty()) return make_error_code(Errc::user_not_found);
    // The old bleUuid stays mapped to the user so past check-ins keep their owner.
    tx.exec_params(
        "INSERT INTO retired_ble_uuids (ble_uuid, user_id, retired_at) VALUES ($1::uuid, $2::uuid, now()) "
        "ON CONFLICT DO NOTHING",
        old[0][0].as<std::string>(), std::string{userId});
    // In the namespace (ADR 0027); a drawn id that anyone has or had is drawn again.
    for (int attempt = 0; attempt < kBleUuidAttempts; ++attempt) {
      const auto fresh = newBleUuid(ns);
      const auto r = tx.exec_params(
          "UPDATE users SET ble_uuid = $2::uuid WHERE id = $1::uuid "
          "AND NOT EXISTS (SELECT 1 FROM users WHERE ble_uuid = $2::uuid) "
          "AND NOT EXISTS (SELECT 1 FROM retired_ble_uuids WHERE ble_uuid = $2::uuid)",
          std::string{userId}, fresh.toString());
      if (r.affected_rows() == 1) {
        tx.commit();
        return fresh;
      }
    }
    return make_error_code(Errc::conflict);
  });
}

Result<void> setUserDisabled(ConnectionPool& pool, std::string_view userId, bool disabled) {
  if (!support::Uuid::parse(userId)) return make_error_code(Errc::user_not_found);
  return detail::withConnection(pool, "set_user_disabled", [&](pqxx::connection_base& conn) -> Result<void> {
    pqxx::work tx{conn};
    const auto r = tx.exec_params("UPDATE users SET disabled = $2 WHERE id = $1::uuid", std::string{userId}, disabled);
    if (r.affected_rows() == 0) return make_error_code(Errc::user_not_found);
    // A disabled participant's sessions end now, not when they expire.
    if (disabled) tx.exec_params("DELETE FROM participant_sessions WHERE user_id = $1::uuid", std::string{userId});
    tx.commit();
    return {};
  });
}

Result<std::string> userIdByEmail(ConnectionPool& pool, std::string_view email) {
  // No stored email is that long or not UTF-8 (and PostgreSQL would refuse the latter).
  if (email.size() > 254 || !support::isValidUtf8(email)) return make_error_code(Errc::user_not_found);
  return detail::withConnection(pool, "user_id_by_email", [&](pqxx::connection_base& conn) -> Result<std::string> {
    pqxx::read_transaction tx{conn};
    const auto rows = tx.exec_params("SELECT id::text FROM users WHERE lower(email) = lower($1)", std::string{email});
    if (rows.empty()) return make_error_code(Errc::user_not_found);
    return rows[0][0].as<std::string>();
  });
}

Result<UserPage> listParticipants(ConnectionPool& pool, std::string_view search, std::int64_t offset,
                                  std::int64_t limit) {
  if (!validPaging(search, offset, limit)) return make_error_code(Errc::invalid_argument);
  return detail::withConnection(pool, "list_participants", [&](pqxx::connection_base& conn) -> Result<UserPage> {
    pqxx::read_transaction tx{conn};
    const std::string pattern = likePattern(search);
    // `$2` (everyone) is known when the statement is planned, so an empty search costs no ILIKE.
    const bool all = search.empty();
    UserPage page;
    page.total = tx.exec_params1("SELECT count(*) FROM users WHERE $2 OR display_name ILIKE $1 OR email ILIKE $1",
                                 pattern, all)[0]
                     .as<std::int64_t>();
    const auto rows = tx.exec_params(
        "SELECT id::text, email, display_name, ble_uuid::text, disabled FROM users "
        "WHERE $2 OR display_name ILIKE $1 OR email ILIKE $1 ORDER BY lower(display_name), lower(email) "
        "OFFSET $3 LIMIT $4",
        pattern, all, offset, limit);
    page.rows.reserve(rows.size());
    for (const auto& r : rows) page.rows.push_back(readParticipantRow(r));
    return page;
  });
}

Result<UserPage> listRegistrations(ConnectionPool& pool, std::string_view eventId, std::string_view search,
                                   std::int64_t offset, std::int64_t limit) {
  if (!validPaging(search, offset, limit)) return make_error_code(Errc::invalid_argument);
  return detail::withConnection(pool, "list_registrations", [&](pqxx::connection_base& conn) -> Result<UserPage> {
    pqxx::read_transaction tx{conn};
    const std::string pattern = likePattern(search);
    const std::string id{eventId};
    const bool all = search.empty();
    UserPage page;
    page.total =
        all ? tx.exec_params1("SELECT count(*) FROM registrations WHERE event_id = $1", id)[0].as<std::int64_t>()
            : tx.exec_params1(
                    "SELECT count(*) FROM registrations r JOIN users u ON u.id = r.user_id "
                    "WHERE r.event_id = $1 AND (u.display_name ILIKE $2 OR u.email ILIKE $2)",
                    id, pattern)[0]
                  .as<std::int64_t>();
    const auto rows = tx.exec_params(
        "SELECT u.id::text, u.email, u.display_name, u.ble_uuid::text, u.disabled, " ATTENDANCE_SQL_MS("r.created_at")
        " FROM registrations r JOIN users u ON u.id = r.user_id "
        "WHERE r.event_id = $1 AND ($5 OR u.display_name ILIKE $2 OR u.email ILIKE $2) "
        "ORDER BY lower(u.display_name), lower(u.email) OFFSET $3 LIMIT $4",
        id, pattern, offset, limit, all);
    page.rows.reserve(rows.size());
    for (const auto& r : rows) {
      UserRow p = readParticipantRow(r);
      p.registeredAt = detail::fromMs(r[5].as<std::int64_t>());
      page.rows.push_back(std::move(p));
    }
    return page;
  });
}

Result<Session> createSession(ConnectionPool& pool, std::string_view email, std::string_view password,
                              const AuthConfig& auth, std::chrono::system_clock::time_point now) {
  struct Account {
    std::string id;
    std::optional<std::string> hash;
    bool disabled = false;
  };
  if (email.size() > 254 || !support::isValidUtf8(email) || password.size() > auth.maxPasswordLength) {
    return make_error_code(Errc::unauthorized);
  }
  auto account =
      detail::withConnection(pool, "find_account", [&](pqxx::connection_base& conn) -> Result<std::optional<Account>> {
        pqxx::read_transaction tx{conn};
        const auto rows = tx.exec_params(
            "SELECT id::text, password_hash, disabled FROM users WHERE lower(email) = lower($1)", std::string{email});
        if (rows.empty()) return std::optional<Account>{};
        Account a;
        a.id = rows[0][0].as<std::string>();
        if (!rows[0][1].is_null()) a.hash = rows[0][1].as<std::string>();
        a.disabled = rows[0][2].as<bool>();
        return std::optional<Account>{std::move(a)};
      });
  if (!account) return account.error();
  // The (slow) password check runs without holding a database connection.
  if (!*account || !(*account)->hash) {
    detail::burnPasswordCheck(password, auth);
    return make_error_code(Errc::unauthorized);
  }
  if (!detail::verifyPassword(*(*account)->hash, password)) return make_error_code(Errc::unauthorized);
  if ((*account)->disabled) return make_error_code(Errc::forbidden);
  return detail::withConnection(pool, "create_session", [&](pqxx::connection_base& conn) -> Result<Session> {
    pqxx::work tx{conn};
    Session s = insertSession(tx, (*account)->id, auth, now);
    tx.commit();
    return s;
  });
}

Result<SignIn> signInParticipant(ConnectionPool& pool, std::string_view email, std::string_view password,
                                 std::string_view address, const AuthConfig& auth,
                                 std::chrono::system_clock::time_point now) {
  auto wait = loginRetryAfter(pool, LoginRealm::participants, email, address, auth.loginLimits, now);
  if (!wait) return wait.error();
  if (*wait) return SignIn{std::nullopt, *wait};
  auto session = createSession(pool, email, password, auth, now);
  // A database failure says nothing about the password: it is not an attempt.
  if (!session && session.error() != Errc::unauthorized && session.error() != Errc::forbidden) return session.error();
  if (auto recorded = recordLoginAttempt(pool, LoginRealm::participants, email, address, session.has_value(), now);
      !recorded) {
    return recorded.error();
  }
  if (!session) return session.error();
  return SignIn{std::move(*session), std::nullopt};
}

Result<User> authenticateToken(ConnectionPool& pool, std::string_view token,
                               std::chrono::system_clock::time_point now) {
  if (token.size() != kTokenLength || token.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return make_error_code(Errc::unauthorized);
  }
  const auto digest = detail::sha256(token);
  return detail::withConnection(pool, "authenticate_token", [&](pqxx::connection_base& conn) -> Result<User> {
    pqxx::read_transaction tx{conn};
    // Lookup by the SHA-256 of a 256-bit random token: timing reveals nothing usable.
    const auto rows = tx.exec_params(std::string{"SELECT "} + kUserColumns +
                                         " FROM participant_sessions s JOIN users u ON u.id = s.user_id "
                                         "WHERE s.token_hash = $1 AND s.expires_at > to_timestamp($2::bigint / 1000.0)",
                                     pqxx::binarystring{digest.data(), digest.size()}, detail::toMs(now));
    if (rows.empty()) return make_error_code(Errc::unauthorized);
    User u = readUser(rows[0]);
    if (u.disabled) return make_error_code(Errc::unauthorized);
    return u;
  });
}

Result<void> revokeSession(ConnectionPool& pool, std::string_view token) {
  const auto digest = detail::sha256(token);
  return detail::withConnection(pool, "revoke_session", [&](pqxx::connection_base& conn) -> Result<void> {
    pqxx::work tx{conn};
    tx.exec_params("DELETE FROM participant_sessions WHERE token_hash = $1",
                   pqxx::binarystring{digest.data(), digest.size()});
    tx.commit();
    return {};
  });
}

}  // namespace attendance::core
