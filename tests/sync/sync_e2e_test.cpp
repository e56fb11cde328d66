// End to end, all real: attendance-backend on a pg_virtualenv database, the real
// attendance-sync binary, and a loopback fault proxy between them.
#include "sync/e2e_support.hpp"
#include "sync/fault_proxy.hpp"

#include "batch_client/test_server.hpp"

#include <attendance/attendance_core/assignments.hpp>
#include <attendance/attendance_core/database.hpp>
#include <attendance/attendance_core/events.hpp>
#include <attendance/attendance_core/migrations.hpp>
#include <attendance/attendance_core/report.hpp>
#include <attendance/attendance_core/scanners.hpp>
#include <attendance/attendance_core/users.hpp>
#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/support/clock.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <random>
#include <set>

namespace at = attendance::testing;
namespace core = attendance::core;
namespace jl = attendance::jsonl_log;
using attendance::support::Uuid;
using namespace std::chrono_literals;

namespace {

const std::string kSyncBin = std::string(ATTENDANCE_BINARY_DIR) + "/apps/sync/attendance-sync";
const std::string kAdminBin = std::string(ATTENDANCE_BINARY_DIR) + "/apps/admin/attendance-admin";
const std::string kBackendBin = std::string(ATTENDANCE_BINARY_DIR) + "/apps/backend/attendance-backend";
constexpr const char* kEvent = "ev-e2e";
constexpr std::int64_t kStart = 1'721'471'400'000;  // 2024-07-20T10:30:00Z

Uuid unknownDevice(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "0badc0de-0000-4000-8000-%012d", i);
  return *Uuid::parse(buf);
}

class SyncEndToEnd : public ::testing::Test {
protected:
  void SetUp() override {
    const auto now = std::chrono::system_clock::now();
    core::ConnectionPool pool(core::DatabaseConfig{db.conninfo(), 2});
    ASSERT_TRUE(core::migrate(pool));
    core::NewEvent ev;
    ev.id = kEvent;
    ev.name = "Sync end to end";
    ev.venue = "Loopback";
    ASSERT_TRUE(core::createEvent(pool, ev, now));
    auto scanner = core::createScanner(pool, "Entrance-01", now);
    ASSERT_TRUE(scanner);
    ASSERT_TRUE(core::assignScanner(pool, "Entrance-01", kEvent, now));
    std::ofstream(keyFile) << scanner->apiKey << "\n";
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
    backend = std::make_unique<at::Child>(
        std::vector<std::string>{kBackendBin, "serve", "--listen", "127.0.0.1:0", "--no-access-log"},
        std::vector<std::string>{"DATABASE_URL=" + db.conninfo()}, dir.path() / "backend-stderr.txt");
    auto line = backend->readLine();
    ASSERT_TRUE(line) << "backend did not start";
    const auto colon = line->rfind(':');
    ASSERT_NE(colon, std::string::npos) << *line;
    backendPort = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));
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
    std::vector<std::string> args{"/usr/bin/python3", "-c",
                                  "import json, sys\n"
                                  "log, scanner, extra, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]\n"
                                  "with open(log, 'a') as f:\n"
                                  "    for uuid, t in zip(rest[0::2], rest[1::2]):\n"
                                  "        f.write(json.dumps({'bleUuid': uuid, 'checkInTime': int(t),"
                                  " 'scannerId': scanner}) + '\\n')\n"
                                  "    if extra:\n"
                                  "        f.write(json.dumps(json.loads(extra)) + '\\n')\n",
                                  log.string(), "Entrance-01", extra};
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
    std::vector<std::string> a{kSyncBin,           "--backend", url,       "--api-key-file", keyFile.string(),
                               "--log",            log.string(), "--request-timeout", "1", "--retries", "12"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::set<std::string> storedRows() {
    auto rows = db.rows("SELECT ble_uuid::text, check_in_time FROM check_ins WHERE event_id = 'ev-e2e'");
    return {rows.begin(), rows.end()};
  }

  std::int64_t storedCount() {
    return std::stoll(db.rows("SELECT count(*) FROM check_ins")[0]);
  }

  // What the operator checks: `attendance-admin report --format json` after the sync.
  void expectReportMatchesArrivals() {
    auto r = at::runToCompletion({kAdminBin, "--database-url", db.conninfo(), "report", "--event", kEvent,
                                  "--format", "json"},
                                 dir.path());
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
  std::filesystem::path log = dir.path() / "attendance_log.jsonl";
  std::filesystem::path keyFile = dir.path() / "scanner.key";
  std::vector<Uuid> users;
  std::unique_ptr<at::Child> backend;
  std::uint16_t backendPort = 0;
  std::set<std::string> expected;
  std::map<std::string, std::int64_t> firstSeen;
};

std::string direct(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace

TEST_F(SyncEndToEnd, CleanRunStoresEveryRecordAndTheReportMatchesTheArrivals) {
  writeLog(10);  // 200 lines
  auto r = at::runToCompletion(syncArgs(direct(backendPort), {"--batch-size", "64"}), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("All records accepted."), std::string::npos) << r.out;
  EXPECT_EQ(storedRows(), expected);
  expectReportMatchesArrivals();

  auto again = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("Nothing to sync"), std::string::npos) << again.out;

  auto all = at::runToCompletion(syncArgs(direct(backendPort), {"--all"}), dir.path());
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find("duplicates                        200"), std::string::npos) << all.out;
  EXPECT_EQ(storedCount(), 200);
}

TEST_F(SyncEndToEnd, FaultsThroughTheProxyEndWithAnExactlyOnceDatabase) {
  writeLog(10);
  at::FaultProxy proxy(backendPort, [](std::size_t n) {
    switch (n) {
      case 2: return at::Fault::dropMidBody;
      case 3: return at::Fault::dropAfterCommit;
      case 5: return at::Fault::unavailable;
      case 7: return at::Fault::stall;
      default: return at::Fault::none;
    }
  });
  auto r = at::runToCompletion(syncArgs(proxy.url(), {"--batch-size", "40"}), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(proxy.faultsInjected(), 4u);
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 200);
  // The batch committed before its answer was lost came back as duplicates.
  EXPECT_NE(r.out.find("duplicates                         40"), std::string::npos) << r.out;
  expectReportMatchesArrivals();
}

TEST_F(SyncEndToEnd, KillNineAtRandomPointsThenRerunGivesTheSameDatabase) {
  writeLog(150);  // 3,000 lines
  // 30 batches of 100 behind 30 ms of proxy latency: at least 900 ms of work, so
  // the first kill (at most 600 ms in) always lands mid-sync.
  at::FaultProxy proxy(backendPort, nullptr, 3000ms, 30ms);
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> when(20, 600);
  int killed = 0;
  for (int round = 0; round < 5; ++round) {
    at::Child sync(syncArgs(proxy.url(), {"--batch-size", "100"}), {}, dir.path() / "sync-stderr.txt");
    const auto code = sync.wait(std::chrono::milliseconds{when(rng)});
    if (!code) {
      sync.kill(SIGKILL);
      EXPECT_EQ(sync.wait(10s), 128 + SIGKILL);
      ++killed;
    }
    // Whatever was stored so far is a subset of the log, never anything else.
    const auto stored = storedRows();
    EXPECT_TRUE(std::includes(expected.begin(), expected.end(), stored.begin(), stored.end()));
  }
  EXPECT_GE(killed, 1);  // the schedule really interrupted the sync
  auto r = at::runToCompletion(syncArgs(proxy.url(), {"--batch-size", "100"}), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 3000);
  expectReportMatchesArrivals();
}

TEST_F(SyncEndToEnd, BadInputGetsAClearMessageAndItsExitCode) {
  // Empty log: nothing to sync, success.
  std::ofstream(log).flush();
  auto empty = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
  EXPECT_EQ(empty.code, 0) << empty.err;
  EXPECT_NE(empty.out.find("Nothing to sync"), std::string::npos) << empty.out;

  // Only garbage: nothing sent, every line reported, exit 3.
  std::ofstream(log) << "not json\n{\"bleUuid\":42}\n";
  auto garbage = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
  EXPECT_EQ(garbage.code, 3) << garbage.err;
  EXPECT_NE(garbage.out.find("line 1: bad line skipped"), std::string::npos) << garbage.out;
  EXPECT_NE(garbage.out.find("line 2: bad line skipped"), std::string::npos) << garbage.out;
  EXPECT_EQ(storedCount(), 0);

  writeLog(1);
  std::filesystem::remove(log.string() + ".sync-checkpoint");
  // Missing key file: usage/configuration error.
  auto args = syncArgs(direct(backendPort));
  args[4] = (dir.path() / "missing.key").string();
  auto missing = at::runToCompletion(args, dir.path());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("cannot read the API key file"), std::string::npos) << missing.err;

  // Not assigned to the event: the real backend's 403 names the command, exit 5, nothing stored.
  {
    core::ConnectionPool pool(core::DatabaseConfig{db.conninfo(), 1});
    ASSERT_TRUE(core::unassignScanner(pool, "Entrance-01", kEvent));
    auto unassigned = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
    EXPECT_EQ(unassigned.code, 5) << unassigned.err;
    EXPECT_NE(unassigned.err.find(std::string{"attendance-admin scanner assign --id Entrance-01 --event "} + kEvent),
              std::string::npos)
        << unassigned.err;
    EXPECT_EQ(storedCount(), 0);
    ASSERT_TRUE(core::assignScanner(pool, "Entrance-01", kEvent, std::chrono::system_clock::now()));
  }

  // Wrong key: refused, exit 5, nothing stored.
  std::ofstream(dir.path() / "wrong.key") << "att_wrongwrongwrongwrong\n";
  args[4] = (dir.path() / "wrong.key").string();
  auto wrong = at::runToCompletion(args, dir.path());
  EXPECT_EQ(wrong.code, 5) << wrong.err;
  EXPECT_NE(wrong.err.find("refused the API key"), std::string::npos) << wrong.err;
  EXPECT_EQ(storedCount(), 0);

  // Unreachable host: network failure, safe to rerun, exit 4.
  std::uint16_t closedPort = 0;
  {
    at::TestServer gone([](const at::ReceivedRequest&) { return at::Reply{}; });
    closedPort = gone.port();
  }
  auto unreachableArgs = syncArgs(direct(closedPort));
  unreachableArgs[10] = "2";  // --retries
  auto unreachable = at::runToCompletion(unreachableArgs, dir.path());
  EXPECT_EQ(unreachable.code, 4) << unreachable.err;
  EXPECT_NE(unreachable.err.find("run the same command again"), std::string::npos) << unreachable.err;

  // And then it works.
  auto ok = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_EQ(storedRows(), expected);
}

TEST_F(SyncEndToEnd, RosterIsFetchedWithTheScannerKey) {
  const auto out = dir.path() / "roster.json";
  auto r = at::runToCompletion({kSyncBin, "roster", "--event", kEvent, "--backend", direct(backendPort),
                                "--api-key-file", keyFile.string(), "--out", out.string()},
                               dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (int i = 0; i < 20; ++i) {
    const bool listed = text.find(users[static_cast<std::size_t>(i)].toString()) != std::string::npos;
    EXPECT_EQ(listed, i < 15) << i;
  }
  EXPECT_EQ(text.rfind("{\"eventId\":\"ev-e2e\",\"bleUuids\":[", 0), 0u) << text;
}

TEST_F(SyncEndToEnd, ALogWrittenByTheOriginalPythonScannerIsStoredUnderTheEventOption) {
  writeLogWithPython();
  {
    std::ifstream in(log);
    std::string first;
    std::getline(in, first);
    // Really the design note's shape: three keys, spaces after ':' and ','.
    EXPECT_EQ(first, R"({"bleUuid": ")" + users[0].toString() +
                         R"(", "checkInTime": 1721471400000, "scannerId": "Entrance-01"})");
  }
  auto refused = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
  EXPECT_EQ(refused.code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("line 1 has no eventId"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--event ID"), std::string::npos) << refused.err;
  EXPECT_EQ(storedCount(), 0);

  auto r = at::runToCompletion(syncArgs(direct(backendPort), {"--event", kEvent, "--batch-size", "8"}), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("All records accepted."), std::string::npos) << r.out;
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 20);
  expectReportMatchesArrivals();
}

TEST_F(SyncEndToEnd, AThreeKeyLineNamingAnotherEventRefusesTheRunAndNothingIsStored) {
  writeLogWithPython(R"({"bleUuid": ")" + users[0].toString() +
                     R"(", "checkInTime": 1721471500000, "scannerId": "Entrance-01", "eventId": "ev-other"})");
  auto r = at::runToCompletion(syncArgs(direct(backendPort), {"--event", kEvent}), dir.path());
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(R"(line 21 has eventId "ev-other" but --event is "ev-e2e")"), std::string::npos) << r.err;
  EXPECT_EQ(storedCount(), 0);
}

TEST_F(SyncEndToEnd, AResumedSyncOfAThreeKeyLogSendsOnlyTheRest) {
  writeLogWithPython();
  // Batches 1 and 2 (16 records) get through; from the third on the backend is unavailable.
  at::FaultProxy proxy(backendPort, [](std::size_t n) { return n >= 3 ? at::Fault::unavailable : at::Fault::none; });
  auto args = syncArgs(proxy.url(), {"--event", kEvent, "--batch-size", "8"});
  args[10] = "2";  // --retries
  auto partial = at::runToCompletion(args, dir.path());
  ASSERT_EQ(partial.code, 4) << partial.out << partial.err;
  EXPECT_EQ(storedCount(), 16);

  auto rest = at::runToCompletion(syncArgs(direct(backendPort), {"--event", kEvent, "--batch-size", "8"}), dir.path());
  ASSERT_EQ(rest.code, 0) << rest.out << rest.err;
  EXPECT_NE(rest.out.find("records sent                        4"), std::string::npos) << rest.out;
  EXPECT_NE(rest.out.find("duplicates                          0"), std::string::npos) << rest.out;
  EXPECT_EQ(storedRows(), expected);
  expectReportMatchesArrivals();
}
