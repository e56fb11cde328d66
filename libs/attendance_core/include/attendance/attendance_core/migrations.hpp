#pragma once

#include <attendance/attendance_core/database.hpp>
#include <attendance/support/result.hpp>

namespace attendance::core {

// The schema version this binary expects (the number of the last embedded migration).
[[nodiscard]] int expectedSchemaVersion() noexcept;

struct SchemaStatus {
  int current = 0;   // 0 = never migrated
  int expected = 0;
  [[nodiscard]] bool upToDate() const noexcept { return current == expected; }
  // current > expected: the database was migrated by a newer binary.
  [[nodiscard]] bool newerThanBinary() const noexcept { return current > expected; }
};

[[nodiscard]] Result<SchemaStatus> schemaStatus(ConnectionPool& pool);

struct MigrateOutcome {
  int from = 0;
  int to = 0;
  [[nodiscard]] int applied() const noexcept { return to - from; }
};

// Applies the embedded migrations that are missing, each in its own transaction,
// all under a PostgreSQL advisory lock so concurrent migrators serialise.
// Idempotent. Errc::schema_outdated if the database is newer than this binary.
[[nodiscard]] Result<MigrateOutcome> migrate(ConnectionPool& pool);

// The message `serve` prints when the schema is not current.
inline constexpr const char* kRunMigrateHint = "run `attendance-backend migrate`";

}  // namespace attendance::core
