#include <attendance/core/migrations.hpp>

#include "db_util.hpp"
#include "migrations_list.hpp"

#include <algorithm>
#include <set>

namespace attendance::core {
namespace {

// pg_advisory_lock key shared by every migrator ("attnd" in ASCII).
constexpr long long kMigrationLockKey = 0x617474'6e64LL;

struct Applied {
  int max = 0;
  int missing = 0;  // embedded migrations not recorded in the database
};

Applied appliedVersions(pqxx::transaction_base& tx) {
  Applied a;
  const auto& list = detail::embeddedMigrations();
  const auto exists = tx.exec("SELECT to_regclass('attendance_schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) {
    a.missing = static_cast<int>(list.size());
    return a;
  }
  std::set<int> versions;
  for (const auto& row : tx.exec("SELECT version FROM attendance_schema_migrations")) {
    versions.insert(row[0].as<int>());
  }
  if (!versions.empty()) a.max = *versions.rbegin();
  for (const auto& m : list) a.missing += versions.contains(m.version) ? 0 : 1;
  return a;
}

}  // namespace

int expectedSchemaVersion() noexcept {
  const auto& list = detail::embeddedMigrations();
  return list.empty() ? 0 : list.back().version;
}

int embeddedMigrationCount() noexcept { return static_cast<int>(detail::embeddedMigrations().size()); }

Result<SchemaStatus> schemaStatus(ConnectionPool& pool) {
  return detail::withConnection(pool, "schema_status", [](pqxx::connection_base& conn) -> Result<SchemaStatus> {
    pqxx::read_transaction tx{conn};
    SchemaStatus status;
    const Applied applied = appliedVersions(tx);
    status.current = applied.max;
    status.missing = applied.missing;
    status.expected = expectedSchemaVersion();
    return status;
  });
}

Result<MigrateOutcome> migrate(ConnectionPool& pool) {
  const auto& list = detail::embeddedMigrations();
  for (std::size_t i = 1; i < list.size(); ++i) {
    // Strictly ascending (CMake checks it too): the order they were written in.
    if (list[i].version <= list[i - 1].version) return make_error_code(Errc::internal);
  }
  return detail::withConnection(pool, "migrate", [&](pqxx::connection_base& conn) -> Result<MigrateOutcome> {
    // A session-level lock: held across the per-migration transactions and
    // released by the server if this process dies.
    {
      pqxx::nontransaction lock{conn};
      lock.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
    }
    struct Unlock {
      pqxx::connection_base& c;
      ~Unlock() {
        try {
          pqxx::nontransaction release{c};
          release.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
        } catch (...) {  // the connection is gone, and with it the lock
        }
      }
    } unlock{conn};

    MigrateOutcome outcome;
    std::set<int> applied;
    {
      pqxx::work tx{conn};
      tx.exec(
          "CREATE TABLE IF NOT EXISTS attendance_schema_migrations ("
          " version integer PRIMARY KEY, name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
      for (const auto& row : tx.exec("SELECT version FROM attendance_schema_migrations")) {
        applied.insert(row[0].as<int>());
      }
      tx.commit();
    }
    outcome.from = applied.empty() ? 0 : *applied.rbegin();
    outcome.to = outcome.from;
    if (outcome.from > expectedSchemaVersion()) {
      support::log::error("db.schema_newer_than_binary",
                          {{"current", outcome.from}, {"expected", expectedSchemaVersion()}});
      return make_error_code(Errc::schema_outdated);
    }
    // Every embedded migration not yet recorded, in version order (core's and
    // the admin app's ranges interleave over time).
    for (const auto& m : list) {
      if (applied.contains(m.version)) continue;
      pqxx::work tx{conn};
      tx.exec(std::string{m.sql});
      tx.exec_params("INSERT INTO attendance_schema_migrations (version, name) VALUES ($1, $2)", m.version,
                     std::string{m.name});
      tx.commit();
      outcome.to = std::max(outcome.to, m.version);
      ++outcome.count;
      support::log::info("db.migration_applied", {{"version", m.version}, {"name", m.name}});
    }
    return outcome;
  });
}

}  // namespace attendance::core
