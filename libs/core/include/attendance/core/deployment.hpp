#pragma once

#include <attendance/core/database.hpp>
#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstdint>

// The deployment itself: its BLE namespace (migration 0007, ADR 0027).
namespace attendance::core {

struct Deployment {
  support::BleNamespace bleNamespace;  // generated once by migrate
  std::chrono::system_clock::time_point createdAt;
  std::int64_t participants = 0;                  // users
  std::int64_t participantsOutsideNamespace = 0;  // users whose bleUuid predates the namespace
};

// Errc::schema_outdated before migration 0007.
[[nodiscard]] Result<Deployment> readDeployment(ConnectionPool& pool);
// Only the namespace (the roster route and user creation need nothing else).
[[nodiscard]] Result<support::BleNamespace> readBleNamespace(ConnectionPool& pool);

}  // namespace attendance::core
