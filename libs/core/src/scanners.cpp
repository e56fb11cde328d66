#include <attendance/core/scanners.hpp>

#include "db_util.hpp"
#include "secrets.hpp"

#include <algorithm>
#include <cstring>

namespace attendance::core {
namespace {

constexpr std::string_view kKeyPrefix = "att_";
constexpr std::size_t kKeyLength = 4 + 43;
constexpr std::size_t kDisplayPrefixLength = 12;

bool idChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

bool base64UrlChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

bool isValidScannerId(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), idChar);
}

Result<CreatedScanner> createScanner(ConnectionPool& pool, std::string_view scannerId,
                                     std::chrono::system_clock::time_point now) {
  if (!isValidScannerId(scannerId)) return make_error_code(Errc::invalid_argument);
  CreatedScanner created;
  created.scannerId = std::string{scannerId};
  created.apiKey = detail::randomSecret(kKeyPrefix);
  created.keyPrefix = created.apiKey.substr(0, kDisplayPrefixLength);
  const auto digest = detail::sha256(created.apiKey);
  return detail::withConnection(pool, "create_scanner", [&](pqxx::connection_base& conn) -> Result<CreatedScanner> {
    pqxx::work tx{conn};
    const pqxx::binarystring hash{digest.data(), digest.size()};
    const auto r = tx.exec_params(
        "INSERT INTO scanners (scanner_id, key_hash, key_prefix, created_at) "
        "VALUES ($1, $2, $3, to_timestamp($4::bigint / 1000.0)) ON CONFLICT (scanner_id) DO NOTHING",
        created.scannerId, hash, created.keyPrefix, detail::toMs(now));
    if (r.affected_rows() == 0) return make_error_code(Errc::conflict);
    tx.commit();
    return created;
  });
}

Result<std::string> authenticateScanner(ConnectionPool& pool, std::string_view apiKey) {
  // The key's prefix is looked up as text, so the key must be of the alphabet keys are
  // made of (base64url): other bytes from the header could be invalid UTF-8, which
  // PostgreSQL refuses with an error.
  if (apiKey.size() != kKeyLength || apiKey.substr(0, kKeyPrefix.size()) != kKeyPrefix ||
      !std::all_of(apiKey.begin() + kKeyPrefix.size(), apiKey.end(), base64UrlChar)) {
    return make_error_code(Errc::unauthorized);
  }
  const auto digest = detail::sha256(apiKey);
  const std::string prefix{apiKey.substr(0, kDisplayPrefixLength)};
  return detail::withConnection(pool, "authenticate_scanner", [&](pqxx::connection_base& conn) -> Result<std::string> {
    pqxx::read_transaction tx{conn};
    const auto rows = tx.exec_params(
        "SELECT scanner_id, key_hash, revoked_at IS NOT NULL FROM scanners WHERE key_prefix = $1", prefix);
    std::optional<std::string> match;
    for (const auto& row : rows) {
      const pqxx::binarystring stored{row[1]};
      detail::Digest candidate{};
      if (stored.size() != candidate.size()) continue;
      std::memcpy(candidate.data(), stored.data(), candidate.size());
      // Every candidate is compared in full, in constant time.
      const bool equal = detail::constantTimeEqual(candidate, digest);
      if (equal && !row[2].as<bool>()) match = row[0].as<std::string>();
    }
    if (!match) return make_error_code(Errc::unauthorized);
    return *match;
  });
}

Result<void> revokeScanner(ConnectionPool& pool, std::string_view scannerId,
                           std::chrono::system_clock::time_point now) {
  return detail::withConnection(pool, "revoke_scanner", [&](pqxx::connection_base& conn) -> Result<void> {
    pqxx::work tx{conn};
    const auto r = tx.exec_params(
        "UPDATE scanners SET revoked_at = coalesce(revoked_at, to_timestamp($2::bigint / 1000.0)) "
        "WHERE scanner_id = $1",
        std::string{scannerId}, detail::toMs(now));
    if (r.affected_rows() == 0) return make_error_code(Errc::scanner_not_found);
    tx.commit();
    return {};
  });
}

Result<std::vector<ScannerInfo>> listScanners(ConnectionPool& pool) {
  return detail::withConnection(pool, "list_scanners",
                                [&](pqxx::connection_base& conn) -> Result<std::vector<ScannerInfo>> {
                                  pqxx::read_transaction tx{conn};
                                  const auto rows = tx.exec(
            "SELECT s.scanner_id, s.key_prefix, " ATTENDANCE_SQL_MS("s.created_at") ", " ATTENDANCE_SQL_MS(
                "s.revoked_at") ", " ATTENDANCE_SQL_MS("r.last_sync") ", coalesce(r.received, 0) "
                                "FROM scanners s LEFT JOIN (SELECT scanner_id, max(received_at) AS last_sync, "
                                "sum(received) AS received FROM sync_receipts GROUP BY scanner_id) r "
                                "ON r.scanner_id = s.scanner_id ORDER BY s.scanner_id");
                                  std::vector<ScannerInfo> out;
                                  out.reserve(rows.size());
                                  for (const auto& row : rows) {
                                    ScannerInfo info;
                                    info.scannerId = row[0].as<std::string>();
                                    info.keyPrefix = row[1].as<std::string>();
                                    info.createdAt = detail::fromMs(row[2].as<std::int64_t>());
                                    if (!row[3].is_null()) info.revokedAt = detail::fromMs(row[3].as<std::int64_t>());
                                    if (!row[4].is_null()) info.lastSyncAt = detail::fromMs(row[4].as<std::int64_t>());
                                    info.recordsReceived = row[5].as<std::int64_t>();
                                    out.push_back(std::move(info));
                                  }
                                  return out;
                                });
}

}  // namespace attendance::core
