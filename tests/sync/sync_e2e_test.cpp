// End to end, all real: attendance-backend on a pg_virtualenv database, the real
// attendance-sync binary, and a loopback fault proxy between them.
#include "sync/sync_e2e_fixture.hpp"
#include "sync/fault_proxy.hpp"

#include <algorithm>
#include <random>

using namespace attendance::testing::sync_e2e;

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
    core::ConnectionPool pool(core::DatabaseConfig{conninfo, 1});
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
  // The deployment's namespace (issue 11 §1) comes along for the scanner.
  const std::string head = "{\"eventId\":\"ev-e2e\",\"namespace\":\"";
  ASSERT_EQ(text.rfind(head, 0), 0u) << text;
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef", head.size()), head.size() + 20) << text;
  EXPECT_EQ(text.find("\",\"bleUuids\":[", head.size()), head.size() + 20) << text;
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
