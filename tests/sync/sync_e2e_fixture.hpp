#pragma once

// The SyncEndToEnd fixture: the real attendance-backend on a fresh migrated
// database with an event, an assigned scanner and 20 participants, the real
// attendance-sync binary, a log in a temporary directory, and what the operator
// checks afterwards (the rows, attendance-admin's report). Shared by
// sync_e2e_test.cpp and sync_faults_e2e_test.cpp.
#include "sync/e2e_support.hpp"

#include "batch_client/test_server.hpp"
#include "support/temp_dir.hpp"

#include <attendance/core/assignments.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/report.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/core/users.hpp>
#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/support/clock.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace attendance::testing::sync_e2e {

namespace at = attendance::testing;
namespace core = attendance::core;
namespace jl = attendance::jsonl_log;
using attendance::support::Uuid;
using namespace std::chrono_literals;

inline const std::string kSyncBin = std::string(ATTENDANCE_BINARY_DIR) + "/apps/sync/attendance-sync";
inline const std::string kAdminBin = std::string(ATTENDANCE_BINARY_DIR) + "/apps/admin/attendance-admin";
inline const std::string kBackendBin = std::string(ATTENDANCE_BINARY_DIR) + "/apps/backend/attendance-backend";
inline constexpr const char* kEvent = "ev-e2e";
inline constexpr std::int64_t kStart = 1'721'471'400'000;  // 2024-07-20T10:30:00Z

inline Uuid unknownDevice(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "0badc0de-0000-4000-8000-%012d", i);
  return *Uuid::parse(buf);
}

class SyncEndToEnd : public ::testing::Test {
protected:
  // The database the backend serves: a fresh one on pg_virtualenv's shared cluster,
  // unless a test's fixture brings its own (SyncWithOwnPostgres).
  virtual std::string databaseConninfo() { return db.conninfo(); }

  void SetUp() override {
    conninfo = databaseConninfo();
    const auto now = std::chrono::system_clock::now();
    core::NewEvent ev;
    ev.id = kEvent;
    ev.name = "Sync end to end";
    ev.venue = "Loopback";
    const auto apiKey = prepareSyncEvent(conninfo, ev, "Entrance-01");
    ASSERT_TRUE(apiKey);
    std::ofstream(keyFile) << *apiKey << "\n";
    core::ConnectionPool pool(core::DatabaseConfig{conninfo, 2});
    for (int i = 0; i < 20; ++i) {
      core::NewUser u;
      u.email = "p" + std::to_string(i) + "@example.org";
      u.displayName = "Participant " + std::to_string(i);
      auto user = core::createUser(pool, u, core::AuthConfig::forTests(), now);
      ASSERT_TRUE(user) << user.error().message();
      users.push_back(user->bleUuid);
      if (i < 15) {
        ASSERT_TRUE(core::registerForEvent(pool, kEvent, user->id, now));
      }
    }
    startBackend();
  }

  // Starts attendance-backend on `port` (0: any free port) and sets backendPort.
  // Each start writes its stderr to a file of its own (backendLog(n), 1-based).
  void startBackend(std::uint16_t port = 0, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{kBackendBin, "serve", "--listen", "127.0.0.1:" + std::to_string(port),
                                  "--no-access-log"};
    args.insert(args.end(), extra.begin(), extra.end());
    ++backendStarts;
    backend = std::make_unique<at::Child>(std::move(args), std::vector<std::string>{"DATABASE_URL=" + conninfo},
                                          backendLogPath(backendStarts));
    auto line = backend->readLine();
    ASSERT_TRUE(line) << "backend did not start: " << backendLog(backendStarts);
    const auto colon = line->rfind(':');
    ASSERT_NE(colon, std::string::npos) << *line;
    backendPort = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));
  }

  std::filesystem::path backendLogPath(int start) const {
    return dir.path() /
           (start == 1 ? std::string("backend-stderr.txt") : "backend-stderr-" + std::to_string(start) + ".txt");
  }
  std::string backendLog(int start) const {
    std::ifstream in(backendLogPath(start));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  void TearDown() override {
    if (backend) {
      backend->kill(SIGTERM);
      EXPECT_EQ(backend->wait(30s), 0);
    }
  }

  // Participants 0-11 (registered) attend, 12-14 (registered) stay away, 15-17 walk in,
  // 18-19 never come; 5 unknown devices. Everyone present is sighted `repeats` times.
  void writeLog(int repeats) {
    std::ofstream out(log);
    jl::CheckIn r;
    r.scannerId = "Entrance-01";
    r.eventId = kEvent;
    r.rssi = -70;
    std::int64_t t = kStart;
    for (int k = 0; k < repeats; ++k) {
      auto sight = [&](const Uuid& id) {
        r.bleUuid = id;
        r.checkInTime = t;
        t += 250;
        out << jl::formatLine(r);
        expected.insert(id.toString() + "|" + std::to_string(r.checkInTime));
        firstSeen.emplace(id.toString(), r.checkInTime);
      };
      for (int i = 0; i < 12; ++i) sight(users[static_cast<std::size_t>(i)]);
      for (int i = 15; i < 18; ++i) sight(users[static_cast<std::size_t>(i)]);
      for (int i = 0; i < 5; ++i) sight(unknownDevice(i));
    }
  }

  // The same arrivals as writeLog(1), but written the way the original design's Python
  // scanner writes them: json.dumps of three keys, default separators, no eventId.
  // Independent of our writer on purpose. `extra` is one more JSON object to append.
  void writeLogWithPython(const std::string& extra = {}) {
    std::vector<std::string> args{"/usr/bin/python3",
                                  "-c",
                                  "import json, sys\n"
                                  "log, scanner, extra, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]\n"
                                  "with open(log, 'a') as f:\n"
                                  "    for uuid, t in zip(rest[0::2], rest[1::2]):\n"
                                  "        f.write(json.dumps({'bleUuid': uuid, 'checkInTime': int(t),"
                                  " 'scannerId': scanner}) + '\\n')\n"
                                  "    if extra:\n"
                                  "        f.write(json.dumps(json.loads(extra)) + '\\n')\n",
                                  log.string(),
                                  "Entrance-01",
                                  extra};
    std::int64_t t = kStart;
    auto sight = [&](const Uuid& id) {
      args.push_back(id.toString());
      args.push_back(std::to_string(t));
      expected.insert(id.toString() + "|" + std::to_string(t));
      firstSeen.emplace(id.toString(), t);
      t += 250;
    };
    for (int i = 0; i < 12; ++i) sight(users[static_cast<std::size_t>(i)]);
    for (int i = 15; i < 18; ++i) sight(users[static_cast<std::size_t>(i)]);
    for (int i = 0; i < 5; ++i) sight(unknownDevice(i));
    auto r = at::runToCompletion(args, dir.path());
    ASSERT_EQ(r.code, 0) << r.err;
  }

  std::vector<std::string> syncArgs(const std::string& url, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{
        kSyncBin, "--backend", url, "--api-key-file", keyFile.string(), "--log", log.string(), "--request-timeout",
        "1",      "--retries", "12"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::set<std::string> storedRows() {
    auto rows = at::rowsOf(conninfo, "SELECT ble_uuid::text, check_in_time FROM check_ins WHERE event_id = 'ev-e2e'");
    return {rows.begin(), rows.end()};
  }

  std::int64_t storedCount() { return std::stoll(at::rowsOf(conninfo, "SELECT count(*) FROM check_ins")[0]); }

  // What the operator checks: `attendance-admin report --format json` after the sync.
  void expectReportMatchesArrivals() {
    auto r = at::runToCompletion(
        {kAdminBin, "--database-url", conninfo, "report", "--event", kEvent, "--format", "json"}, dir.path());
    ASSERT_EQ(r.code, 0) << r.err;
    boost::system::error_code ec;
    const auto report = boost::json::parse(r.out, ec);
    ASSERT_FALSE(ec) << r.out;
    EXPECT_EQ(report.at("synced"), true);
    const auto& summary = report.at("summary");
    EXPECT_EQ(summary.at("registered").to_number<int>(), 15);
    EXPECT_EQ(summary.at("attended").to_number<int>(), 12);
    EXPECT_EQ(summary.at("noShows").to_number<int>(), 3);
    EXPECT_EQ(summary.at("walkIns").to_number<int>(), 3);
    EXPECT_EQ(summary.at("unknownDevices").to_number<int>(), 5);
    std::map<std::string, std::string> seen;
    for (const auto& p : report.at("participants").as_array()) {
      const auto& first = p.at("firstSeen");
      seen[std::string(p.at("bleUuid").as_string())] = first.is_null() ? "" : std::string(first.as_string());
    }
    for (const auto& u : report.at("unknownDevices").as_array()) {
      seen[std::string(u.at("bleUuid").as_string())] = std::string(u.at("firstSeen").as_string());
    }
    std::map<std::string, std::string> want;
    // Registered (0-14) and walk-ins (15-17); 18-19 were neither registered nor seen.
    for (int i = 0; i < 18; ++i) want[users[static_cast<std::size_t>(i)].toString()] = "";
    for (const auto& [id, ms] : firstSeen) {
      want[id] = core::formatIsoUtc(attendance::support::fromEpochMillis(ms));
    }
    EXPECT_EQ(seen, want);
  }

  at::TempDir dir;
  at::TestDatabase db;
  std::string conninfo;  // of the database the backend serves
  int backendStarts = 0;
  std::filesystem::path log = dir.path() / "attendance_log.jsonl";
  std::filesystem::path keyFile = dir.path() / "scanner.key";
  std::vector<Uuid> users;
  std::unique_ptr<at::Child> backend;
  std::uint16_t backendPort = 0;
  std::set<std::string> expected;
  std::map<std::string, std::int64_t> firstSeen;
};

inline std::string direct(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace attendance::testing::sync_e2e
