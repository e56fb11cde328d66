#pragma once
// Test scaffolding for attendance-backend: the shared throwaway database on the
// pg_virtualenv cluster (PG* variables) and what the backend's tests do to it, the
// real binary as a subprocess, and a clock tests move.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "core/test_database.hpp"
#include "backend.hpp"
#include "support/child_process.hpp"

namespace attendance::testing {

inline std::string backendBinary() { return std::string{ATTENDANCE_BINARY_DIR} + "/apps/backend/attendance-backend"; }

// The shared throwaway database (tests/core/test_database.hpp).
using TestDatabase = attendance::core::testing::TestDatabase;

// Runs one statement on the test's database.
inline void execSql(const TestDatabase& db, const std::string& sql) {
  pqxx::connection c{db.conninfo()};
  pqxx::nontransaction tx{c};
  tx.exec(sql);
}

// A count (or any integer) from the test's database.
inline long long number(const TestDatabase& db, const std::string& sql) { return std::stoll(db.scalar(sql)); }

// Refuses new connections and ends existing ones: "the database went away".
inline void setAvailable(const TestDatabase& db, bool available) {
  pqxx::connection admin{""};
  pqxx::nontransaction tx{admin};
  tx.exec("ALTER DATABASE " + tx.quote_name(db.name()) + " ALLOW_CONNECTIONS " + (available ? "true" : "false"));
  if (!available) {
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " + tx.quote(db.name()) +
            " AND pid <> pg_backend_pid()");
  }
}

// The real binaries as child processes (tests/support/child_process.hpp).
using Process = attendance::testing::ChildProcess;

// Runs the binary to completion; returns {exit code, stdout, stderr}.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};
inline RunResult runBackend(std::vector<std::string> args, const std::string& conninfo) {
  args.insert(args.begin(), backendBinary());
  Process p{args, {"DATABASE_URL=" + conninfo}};
  RunResult r;
  r.out = p.readAll();
  r.code = p.wait(std::chrono::seconds{60}).value_or(-1);
  r.err = p.stderrText();
  return r;
}

}  // namespace attendance::testing
