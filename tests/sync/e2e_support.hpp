#pragma once

// End-to-end scaffolding: a throwaway database on the pg_virtualenv cluster,
// child processes (the real attendance-backend and attendance-sync binaries).
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "attendance_core/test_database.hpp"

namespace attendance::testing {

// The shared throwaway database (tests/attendance_core), plus whole-row reads.
class TestDatabase : public attendance::core::testing::TestDatabase {
public:
  // Rows of one text column per row, "a|b|c" joined.
  [[nodiscard]] std::vector<std::string> rows(const std::string& sql) const;
};

// A child process; stdout through a pipe (line by line), stderr to a file.
class Child {
public:
  Child(std::vector<std::string> args, std::vector<std::string> extraEnv, const std::filesystem::path& stderrFile);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  [[nodiscard]] std::optional<std::string> readLine();
  [[nodiscard]] std::string readAll();
  // Exit code (128 + signal when killed), or nullopt at the deadline.
  [[nodiscard]] std::optional<int> wait(std::chrono::milliseconds deadline);
  void kill(int signal);
  [[nodiscard]] int pid() const { return pid_; }

private:
  int pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  void* out_ = nullptr;  // FILE*
};

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs to completion (deadline 120 s) and collects stdout and stderr.
[[nodiscard]] RunResult runToCompletion(std::vector<std::string> args, const std::filesystem::path& scratch);

}  // namespace attendance::testing
