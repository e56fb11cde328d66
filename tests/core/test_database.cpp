#include "core/test_database.hpp"

#include <attendance/core/migrations.hpp>

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <unistd.h>

namespace attendance::core::testing {

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  name_ = "att_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(stamp % 1000000007);
  pqxx::connection admin{""};
  pqxx::nontransaction tx{admin};
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin{""};
    pqxx::nontransaction tx{admin};
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (...) {  // the cluster is thrown away anyway
  }
}

DatabaseConfig TestDatabase::config(std::size_t poolSize) const {
  DatabaseConfig c;
  c.conninfo = conninfo();
  c.poolSize = poolSize;
  c.acquireTimeout = std::chrono::milliseconds{5000};
  return c;
}

std::unique_ptr<ConnectionPool> TestDatabase::pool(bool migrated, std::size_t poolSize) const {
  auto p = std::make_unique<ConnectionPool>(config(poolSize));
  if (migrated) {
    auto r = migrate(*p);
    if (!r) throw std::runtime_error("migrate failed: " + r.error().message());
  }
  return p;
}

std::string TestDatabase::scalar(const std::string& sql) const {
  pqxx::connection c{conninfo()};
  pqxx::work tx{c};
  const auto r = tx.exec(sql);
  tx.commit();
  if (r.empty() || r[0].empty() || r[0][0].is_null()) return {};
  return r[0][0].as<std::string>();
}

}  // namespace attendance::core::testing
