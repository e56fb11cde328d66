#include <attendance/attendance_core/migrations.hpp>

#include "db_util.hpp"
#include "migrations_list.hpp"

namespace attendance::core {
namespace {

// pg_advisory_lock key shared by every migrator ("attnd" in ASCII).
constexpr long long kMigrationLockKey = 0x617474'6e64LL;

int currentVersion(pqxx::transaction_base& tx) {
  const auto exists = tx.exec("SELECT to_regclass('attendance_schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  return tx.exec("SELECT coalesce(max(version), 0) FROM attendance_schema_migrations")[0][0].as<int>();
}

}  // namespace

int expectedSchemaVersion() noexcept {
  const auto& list = detail::embeddedMigrations();
  return list.empty() ? 0 : list.back().version;
}

Result<SchemaStatus> schemaStatus(ConnectionPool& pool) {
  return detail::withConnection(pool, "schema_status", [](pqxx::connection_base& conn) -> Result<SchemaStatus> {
    pqxx::read_transaction tx{conn};
    SchemaStatus status;
    status.current = currentVersion(tx);
    status.expected = expectedSchemaVersion();
    return status;
  });
}

Result<MigrateOutcome> migrate(ConnectionPool& pool) {
  const auto& list = detail::embeddedMigrations();
  for (std::size_t i = 0; i < list.size(); ++i) {
    // Versions 1..N without gaps: a gap means a lost file.
    if (list[i].version != static_cast<int>(i) + 1) return make_error_code(Errc::internal);
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
    {
      pqxx::work tx{conn};
      tx.exec(
          "CREATE TABLE IF NOT EXISTS attendance_schema_migrations ("
          " version integer PRIMARY KEY, name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
      outcome.from = currentVersion(tx);
      tx.commit();
    }
    outcome.to = outcome.from;
    if (outcome.from > expectedSchemaVersion()) {
      support::log::error("db.schema_newer_than_binary",
                          {{"current", outcome.from}, {"expected", expectedSchemaVersion()}});
      return make_error_code(Errc::schema_outdated);
    }
    for (const auto& m : list) {
      if (m.version <= outcome.from) continue;
      pqxx::work tx{conn};
      tx.exec(std::string{m.sql});
      tx.exec_params("INSERT INTO attendance_schema_migrations (version, name) VALUES ($1, $2)", m.version,
                     std::string{m.name});
      tx.commit();
      outcome.to = m.version;
      support::log::info("db.migration_applied", {{"version", m.version}, {"name", m.name}});
    }
    return outcome;
  });
}

}  // namespace attendance::core
