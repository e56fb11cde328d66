#pragma once
// Test scaffolding for attendance-backend: a throwaway database on the
// pg_virtualenv cluster (PG* variables), the real binary as a subprocess, and
// the backend's router served in-process on 127.0.0.1:0.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "backend.hpp"
#include "support/child_process.hpp"

namespace attendance::testing {

inline std::string backendBinary() { return std::string{ATTENDANCE_BINARY_DIR} + "/apps/backend/attendance-backend"; }

// A database of its own, created on construction and dropped on destruction.
class TestDatabase {
public:
  TestDatabase() {
    std::random_device rd;
    name_ = "att_backend_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
    pqxx::connection admin{""};
    pqxx::nontransaction tx{admin};
    tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  }
  ~TestDatabase() {
    try {
      pqxx::connection admin{""};
      pqxx::nontransaction tx{admin};
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (...) {
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::string conninfo() const { return "dbname=" + name_; }

  long long scalar(const std::string& sql) const {
    pqxx::connection c{conninfo()};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<long long>();
  }
  void exec(const std::string& sql) const {
    pqxx::connection c{conninfo()};
    pqxx::nontransaction tx{c};
    tx.exec(sql);
  }
  // Refuses new connections and ends existing ones: "the database went away".
  void setAvailable(bool available) const {
    pqxx::connection admin{""};
    pqxx::nontransaction tx{admin};
    tx.exec("ALTER DATABASE " + tx.quote_name(name_) + " ALLOW_CONNECTIONS " + (available ? "true" : "false"));
    if (!available) {
      tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " + tx.quote(name_) +
              " AND pid <> pg_backend_pid()");
    }
  }

private:
  std::string name_;
};

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

// A wall clock tests can move forward; safe to read from server threads.
class ManualClock final : public support::TimeSource {
public:
  [[nodiscard]] std::chrono::system_clock::time_point systemTime() const override {
    return start_ + std::chrono::nanoseconds{offset_.load()};
  }
  [[nodiscard]] std::chrono::steady_clock::time_point monotonicTime() const override {
    return std::chrono::steady_clock::time_point{} + std::chrono::nanoseconds{offset_.load()};
  }
  void advance(std::chrono::nanoseconds d) { offset_ += d.count(); }
  void sleepFor(std::chrono::nanoseconds d) const override { offset_ += d.count(); }

private:
  std::chrono::system_clock::time_point start_ = std::chrono::system_clock::now();
  mutable std::atomic<std::int64_t> offset_{0};
};

}  // namespace attendance::testing
