#pragma once

// End-to-end scaffolding: a throwaway database on the pg_virtualenv cluster,
// child processes (the real attendance-backend and attendance-sync binaries).
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <attendance/core/events.hpp>

#include "core/test_database.hpp"
#include "support/child_process.hpp"

namespace attendance::testing {

// The shared throwaway database (tests/core), plus whole-row reads.
class TestDatabase : public attendance::core::testing::TestDatabase {
public:
  // Rows of one text column per row, "a|b|c" joined.
  [[nodiscard]] std::vector<std::string> rows(const std::string& sql) const;
};

// The same for any database: rows of `sql` on `conninfo`, fields joined with '|'.
[[nodiscard]] std::vector<std::string> rowsOf(const std::string& conninfo, const std::string& sql);

// The real binaries as child processes (tests/support/child_process.hpp).
using Child = ChildProcess;

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// What every sync end-to-end run starts from: migrates the database at `conninfo`, creates
// `event` and a scanner `scannerId` assigned to it, and returns the scanner's API key
// (nullopt when a step fails; the database is then unusable for the run).
[[nodiscard]] std::optional<std::string> prepareSyncEvent(const std::string& conninfo, const core::NewEvent& event,
                                                          const std::string& scannerId);

// Runs to completion (deadline 120 s) and collects stdout and stderr.
[[nodiscard]] RunResult runToCompletion(std::vector<std::string> args, const std::filesystem::path& scratch);

}  // namespace attendance::testing
