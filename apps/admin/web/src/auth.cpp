#include "auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include <attendance/attendance_core/login_limits.hpp>
#include <attendance/support/utf8.hpp>

#include "db.hpp"

namespace attendance::admin_web {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool plausibleEmail(std::string_view e) {
  return e.size() >= 3 && e.size() <= 254 && std::count(e.begin(), e.end(), '@') == 1 && e.front() != '@' &&
         e.back() != '@' && std::none_of(e.begin(), e.end(), [](unsigned char c) { return c <= ' '; });
}

void initSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

Result<std::string> hashPassword(std::string_view password, const AuthSettings& s) {
  initSodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(), s.opsLimit, s.memLimit) != 0) {
    return core::make_error_code(core::Errc::internal);  // out of memory
  }
  return std::string(out.data());
}

// A valid hash of a random password: verifying against it costs the same as a
// real verification, so an unknown email is not faster than a wrong password.
const std::string& dummyHash(const AuthSettings& s) {
  static const std::string hash = [&] {
    auto h = hashPassword(randomToken(), s);
    return h ? *h : std::string{};
  }();
  return hash;
}

bool verifyPassword(const std::string& hash, std::string_view password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace

std::string randomToken() {
  initSodium();
  std::array<unsigned char, 32> raw{};
  randombytes_buf(raw.data(), raw.size());
  std::array<char, sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> text{};
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(text.data());
}

std::string sha256Hex(std::string_view data) {
  initSodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data());
}

Result<std::int64_t> createAdmin(core::ConnectionPool& pool, std::string_view email, std::string_view password,
                                 const AuthSettings& settings, TimePoint now) {
  if (!plausibleEmail(email)) return core::make_error_code(core::Errc::invalid_argument);
  if (password.size() < settings.minPasswordLength || password.size() > settings.maxPasswordLength) {
    return core::make_error_code(core::Errc::invalid_argument);
  }
  auto hash = hashPassword(password, settings);
  if (!hash) return hash.error();
  return db::with(pool, "create_admin", [&](pqxx::connection_base& c) -> Result<std::int64_t> {
    pqxx::work tx{c};
    const auto row = tx.exec_params1(
        "INSERT INTO admin_accounts (email, password_hash, created_at) "
        "VALUES ($1, $2, to_timestamp($3 / 1000.0)) RETURNING id",
        std::string(email), *hash, db::toMs(now));
    tx.commit();
    return row[0].as<std::int64_t>();
  });
}

Result<LoginOutcome> login(core::ConnectionPool& pool, std::string_view email, std::string_view password,
                           std::string_view address, const AuthSettings& settings, TimePoint now) {
  // The attempt counter is keyed by the email as typed, cut where no real address
  // reaches, and at a character boundary so the key stays UTF-8.
  const std::string key = lower(support::utf8Prefix(email, 254));
  const core::LoginLimits limits{settings.maxFailuresPerAccount, settings.maxFailuresPerAddress, settings.failureWindow};

  // Step 1: the limits (core's, shared with participant sign-ins); no password is checked while limited.
  auto wait = core::loginRetryAfter(pool, core::LoginRealm::admins, key, address, limits, now);
  if (!wait) return wait.error();
  LoginOutcome outcome;
  if (*wait) {
    outcome.kind = LoginOutcome::Kind::rate_limited;
    outcome.retryAfter = **wait;
    return outcome;
  }

  struct Account {
    std::int64_t id = 0;
    std::string email;
    std::string hash;
  };
  auto found = db::with(pool, "login_account", [&](pqxx::connection_base& c) -> Result<std::optional<Account>> {
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
  const bool ok = account ? verifyPassword(account->hash, password)
                          : (static_cast<void>(verifyPassword(dummyHash(settings), password)), false);

  // Step 3: record the attempt; on success create the session.
  if (auto recorded = core::recordLoginAttempt(pool, core::LoginRealm::admins, key, address, ok, now); !recorded) {
    return recorded.error();
  }
  if (!ok) {
    outcome.kind = LoginOutcome::Kind::wrong_credentials;
    return outcome;
  }
  const std::int64_t nowMs = db::toMs(now);
  return db::with(pool, "login_session", [&](pqxx::connection_base& c) -> Result<LoginOutcome> {
    pqxx::work tx{c};
    tx.exec_params("DELETE FROM admin_sessions WHERE expires_at < to_timestamp($1 / 1000.0)", nowMs);
    LoginOutcome out;
    out.kind = LoginOutcome::Kind::ok;
    out.sessionToken = randomToken();
    out.session.adminId = account->id;
    out.session.email = account->email;
    out.session.csrfToken = randomToken();
    out.session.expiresAt = now + settings.sessionLifetime;
    tx.exec_params(
        "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, created_at, expires_at) "
        "VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0))",
        sha256Hex(out.sessionToken), account->id, out.session.csrfToken, nowMs, db::toMs(out.session.expiresAt));
    tx.commit();
    return out;
  });
}

Result<std::optional<AdminSession>> findSession(core::ConnectionPool& pool, std::string_view token, TimePoint now) {
  if (token.empty() || token.size() > 128) return std::optional<AdminSession>{};
  return db::with(pool, "find_session", [&](pqxx::connection_base& c) -> Result<std::optional<AdminSession>> {
    pqxx::read_transaction tx{c};
    const auto rows = tx.exec_params(
        "SELECT a.id, a.email, s.csrf_token, (extract(epoch from s.expires_at) * 1000)::bigint "
        "FROM admin_sessions s JOIN admin_accounts a ON a.id = s.admin_id "
        "WHERE s.token_hash = $1 AND s.expires_at > to_timestamp($2 / 1000.0) AND NOT a.disabled",
        sha256Hex(token), db::toMs(now));
    if (rows.empty()) return std::optional<AdminSession>{};
    AdminSession s;
    s.adminId = rows[0][0].as<std::int64_t>();
    s.email = rows[0][1].as<std::string>();
    s.csrfToken = rows[0][2].as<std::string>();
    s.expiresAt = db::fromMs(rows[0][3].as<std::int64_t>());
    return std::optional<AdminSession>{std::move(s)};
  });
}

Result<void> endSession(core::ConnectionPool& pool, std::string_view token) {
  return db::with(pool, "end_session", [&](pqxx::connection_base& c) -> Result<void> {
    pqxx::work tx{c};
    tx.exec_params("DELETE FROM admin_sessions WHERE token_hash = $1", sha256Hex(token));
    tx.commit();
    return {};
  });
}

}  // namespace attendance::admin_web
