#pragma once

// The SyncRun fixture: runSync against a fake backend over real loopback sockets,
// with a simulated clock and a log in a temporary directory. Shared by the test
// files of tests/sync that drive runSync.
#include "sync/fake_backend.hpp"
#include "sync/run.hpp"
#include "support/temp_dir.hpp"

#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/jsonl_log/last_seen.hpp>
#include <attendance/support/clock.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace attendance::testing::sync_run {

namespace as = attendance::sync;
namespace at = attendance::testing;
namespace jl = attendance::jsonl_log;
using namespace std::chrono_literals;

inline constexpr std::int64_t kEventTime = 1'721'471'400'000;

inline std::string uuidFor(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "a1b2c3d4-0000-4000-8000-%012d", i);
  return buf;
}

inline std::string line(int i, std::string event = "ev1", std::int64_t time = 0, std::string scanner = "S1",
                        std::optional<std::string> boot = std::nullopt,
                        std::optional<std::int64_t> bootMs = std::nullopt) {
  jl::CheckIn r;
  r.bleUuid = *attendance::support::Uuid::parse(uuidFor(i));
  r.checkInTime = time != 0 ? time : kEventTime + i * 1000;
  r.scannerId = std::move(scanner);
  r.eventId = std::move(event);
  r.rssi = -60;
  r.bootId = std::move(boot);
  r.bootMs = bootMs;
  return jl::formatLine(r);
}

// A row of the summary table: the label, spaces, the number, end of line.
inline bool hasRow(const std::string& text, const std::string& label, std::uint64_t value) {
  return std::regex_search(text, std::regex("\\n  " + std::regex_replace(label, std::regex("[()]"), "\\$&") + " +" +
                                            std::to_string(value) + "\\n"));
}

inline at::Row row(int i, std::string event = "ev1", std::int64_t time = 0) {
  return {std::move(event), uuidFor(i), time != 0 ? time : kEventTime + i * 1000, "S1"};
}

class SyncRun : public ::testing::Test {
protected:
  SyncRun() : clock(attendance::support::fromEpochMillis(kEventTime + 86'400'000)), env(clock, out, err) {
    log = dir.path() / "attendance_log.jsonl";
    keyFile = dir.path() / "key";
    std::ofstream(keyFile) << "good-key\n";
    std::ofstream(log).flush();
    env.clientHooks.unitRandom = [] { return 0.0; };
    env.bootId = [] { return std::optional<std::string>{"current-boot"}; };
    env.bootTimeMs = [] { return std::int64_t{3'600'000}; };
    env.clockSynchronized = [] { return false; };
  }

  void append(const std::string& text) { std::ofstream(log, std::ios::app) << text; }
  void appendRecords(int from, int to, const std::string& event = "ev1") {
    std::string text;
    for (int i = from; i < to; ++i) text += line(i, event);
    append(text);
  }

  as::SyncOptions options() {
    as::SyncOptions o;
    o.log = log;
    o.backendUrl = backend.url();
    o.apiKeyFile = keyFile;
    o.batchSize = 5;
    o.maxAttempts = 4;
    o.timeouts.request = 2s;
    return o;
  }

  int run(const as::SyncOptions& o) {
    out.str({});
    err.str({});
    return as::runSync(o, env);
  }

  // From the n-th /batchCheckIn request on, the backend fails with 500 (a failure midway).
  void failFromRequest(std::size_t n) {
    backend.before([n](std::size_t k) -> std::optional<at::Reply> {
      if (k < n) return std::nullopt;
      at::Reply r;
      r.status = 500;
      r.body = R"({"error":"boom"})";
      return r;
    });
  }

  // /batchCheckIn requests made by one more run with `o`, whose exit code must be `code`.
  std::size_t requestsOfRun(const as::SyncOptions& o, int code) {
    const auto before = backend.batchRequests();
    EXPECT_EQ(run(o), code) << err.str();
    return backend.batchRequests() - before;
  }

  std::set<at::Row> expectedRows(int from, int to, const std::string& event = "ev1") {
    std::set<at::Row> rows;
    for (int i = from; i < to; ++i) rows.insert(row(i, event));
    return rows;
  }

  at::TempDir dir;
  std::filesystem::path log;
  std::filesystem::path keyFile;
  at::FakeBackend backend;
  attendance::support::SimulatedTimeSource clock;
  std::ostringstream out;
  std::ostringstream err;
  as::Environment env;
  // Every wait of the run (retry backoff), on the simulated clock.
  [[nodiscard]] std::vector<std::chrono::nanoseconds> sleeps() const { return clock.sleeps(); }
};

}  // namespace attendance::testing::sync_run
