#pragma once

// A throwaway database per test (inside the pg_virtualenv cluster): created with
// a unique name from the libpq PG* environment, dropped (WITH FORCE) at the end.
#include <attendance/core/database.hpp>

#include <memory>
#include <string>

namespace attendance::core::testing {

class TestDatabase {
public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  // Connection string for this database (other settings come from PG*).
  [[nodiscard]] std::string conninfo() const { return "dbname=" + name_; }
  [[nodiscard]] DatabaseConfig config(std::size_t poolSize = 4) const;
  // A pool on this database, already migrated unless told otherwise.
  [[nodiscard]] std::unique_ptr<ConnectionPool> pool(bool migrated = true, std::size_t poolSize = 4) const;

  // Runs one SQL statement and returns the first column of the first row as text ("" if none).
  [[nodiscard]] std::string scalar(const std::string& sql) const;

private:
  std::string name_;
};

}  // namespace attendance::core::testing
