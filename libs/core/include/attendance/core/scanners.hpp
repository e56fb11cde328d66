#pragma once

#include <attendance/core/database.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attendance::core {

struct CreatedScanner {
  std::string scannerId;
  std::string apiKey;     // shown once; only its SHA-256 is stored
  std::string keyPrefix;  // safe to display ("att_AbCdEfGh")
};

struct ScannerInfo {
  std::string scannerId;
  std::string keyPrefix;
  std::chrono::system_clock::time_point createdAt;
  std::optional<std::chrono::system_clock::time_point> revokedAt;
  std::optional<std::chrono::system_clock::time_point> lastSyncAt;
  std::int64_t recordsReceived = 0;
};

// 1..128 characters of [A-Za-z0-9._:-].
[[nodiscard]] bool isValidScannerId(std::string_view id) noexcept;

// Errc::invalid_argument (bad id), Errc::conflict (id exists, even revoked).
[[nodiscard]] Result<CreatedScanner> createScanner(ConnectionPool& pool, std::string_view scannerId,
                                                   std::chrono::system_clock::time_point now);

// The scannerId the key belongs to. Errc::unauthorized for unknown, malformed or
// revoked keys (same answer for all three); constant-time hash comparison.
[[nodiscard]] Result<std::string> authenticateScanner(ConnectionPool& pool, std::string_view apiKey);

// Errc::scanner_not_found; revoking twice keeps the first revocation time.
[[nodiscard]] Result<void> revokeScanner(ConnectionPool& pool, std::string_view scannerId,
                                         std::chrono::system_clock::time_point now);

[[nodiscard]] Result<std::vector<ScannerInfo>> listScanners(ConnectionPool& pool);

}  // namespace attendance::core
