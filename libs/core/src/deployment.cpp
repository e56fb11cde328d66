#include <attendance/core/deployment.hpp>

#include "db_util.hpp"

namespace attendance::core {
namespace {

support::BleNamespace parseNamespace(const pqxx::field& f) {
  // The column's CHECK guarantees 10 bytes, so 20 hex digits.
  const auto ns = support::BleNamespace::parseHex(f.as<std::string>());
  if (!ns) throw detail::CoreFailure{Errc::internal};
  return *ns;
}

constexpr const char* kDeploymentSql =
    "SELECT encode(d.ble_namespace, 'hex'), " ATTENDANCE_SQL_MS("d.created_at") ", (SELECT count(*) FROM users), "
    "(SELECT count(*) FROM users u WHERE substring(uuid_send(u.ble_uuid) FROM 1 FOR 10) <> d.ble_namespace) "
    "FROM deployment d";

}  // namespace

Result<Deployment> readDeployment(ConnectionPool& pool) {
  return detail::withConnection(pool, "read_deployment", [&](pqxx::connection_base& conn) -> Result<Deployment> {
    pqxx::read_transaction tx{conn};
    const auto r = tx.exec(kDeploymentSql);
    if (r.empty()) return make_error_code(Errc::schema_outdated);
    Deployment d;
    d.bleNamespace = parseNamespace(r[0][0]);
    d.createdAt = detail::fromMs(r[0][1].as<std::int64_t>());
    d.participants = r[0][2].as<std::int64_t>();
    d.participantsOutsideNamespace = r[0][3].as<std::int64_t>();
    return d;
  });
}

Result<support::BleNamespace> readBleNamespace(ConnectionPool& pool) {
  return detail::withConnection(pool, "read_ble_namespace",
                                [&](pqxx::connection_base& conn) -> Result<support::BleNamespace> {
                                  pqxx::read_transaction tx{conn};
                                  const auto r = tx.exec("SELECT encode(ble_namespace, 'hex') FROM deployment");
                                  if (r.empty()) return make_error_code(Errc::schema_outdated);
                                  return parseNamespace(r[0][0]);
                                });
}

}  // namespace attendance::core
