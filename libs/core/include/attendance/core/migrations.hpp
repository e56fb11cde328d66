#pragma once

#include <attendance/core/database.hpp>
#include <attendance/support/result.hpp>

namespace attendance::core {

// The schema version this binary expects (the number of the last embedded migration).
[[nodiscard]] int expectedSchemaVersion() noexcept;
// How many migrations are embedded (core's plus the admin web app's).
[[nodiscard]] int embeddedMigrationCount() noexcept;

struct SchemaStatus {
  int current = 0;   // highest applied version; 0 = never migrated
  int expected = 0;  // highest embedded version
  int missing = 0;   // embedded migrations not applied yet
  [[nodiscard]] bool upToDate() const noexcept { return missing == 0 && current <= expected; }
  // current > expected: the database was migrated by a newer binary.
  [[nodiscard]] bool newerThanBinary() const noexcept { return current > expected; }
};

[[nodiscard]] Result<SchemaStatus> schemaStatus(ConnectionPool& pool);

struct MigrateOutcome {
  int from = 0;   // schema version before
  int to = 0;     // schema version after
  int count = 0;  // migrations applied now (versions may have gaps between owners' ranges)
  [[nodiscard]] int applied() const noexcept { return count; }
};

// Applies the embedded migrations newer than the database's version, each in its own transaction,
// all under a PostgreSQL advisory lock so concurrent migrators serialise.
// Idempotent. Errc::schema_outdated if the database is newer than this binary.
[[nodiscard]] Result<MigrateOutcome> migrate(ConnectionPool& pool);

// The message `serve` prints when the schema is not current.
inline constexpr const char* kRunMigrateHint = "run `attendance-backend migrate`";

}  // namespace attendance::core
