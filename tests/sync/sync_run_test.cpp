// attendance-sync's run() against a fake backend over real loopback sockets.
#include "sync/checkpoint.hpp"
#include "sync/summary.hpp"
#include "sync/sync_run_fixture.hpp"

#include <csignal>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace attendance::testing::sync_run;

TEST_F(SyncRun, SendsEverythingInBatchesThenOnlyWhatIsNew) {
  appendRecords(0, 12);
  EXPECT_EQ(run(options()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 12));
  EXPECT_EQ(backend.batchRequests(), 3u);  // 5 + 5 + 2
  EXPECT_NE(out.str().find("All records accepted."), std::string::npos) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "records sent", 12)) << out.str();
  ASSERT_TRUE(std::filesystem::exists(as::checkpointPathFor(log)));

  EXPECT_EQ(run(options()), as::kExitOk);
  EXPECT_NE(out.str().find("Nothing to sync"), std::string::npos) << out.str();
  EXPECT_EQ(backend.batchRequests(), 3u);

  appendRecords(12, 15);
  EXPECT_EQ(run(options()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.batchRequests(), 4u);
  EXPECT_TRUE(hasRow(out.str(), "records sent", 3)) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "duplicates", 0)) << out.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 15));
}

TEST_F(SyncRun, AllResendsEverythingAndTheBackendCountsDuplicates) {
  appendRecords(0, 7);
  ASSERT_EQ(run(options()), as::kExitOk);
  auto o = options();
  o.all = true;
  EXPECT_EQ(run(o), as::kExitOk);
  EXPECT_TRUE(hasRow(out.str(), "inserted", 0)) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "duplicates", 7)) << out.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 7));
}

TEST_F(SyncRun, SendsOnlyTheThreeOriginalKeysGroupedByEvent) {
  appendRecords(0, 2, "ev1");
  appendRecords(2, 4, "ev2");
  appendRecords(4, 5, "ev1");
  EXPECT_EQ(run(options()), as::kExitOk) << err.str();
  const auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].authorization, "Bearer good-key");
  EXPECT_EQ(reqs[0].body.find("rssi"), std::string::npos);
  EXPECT_EQ(reqs[0].body.rfind(R"({"eventId":"ev1","records":[{"bleUuid":")", 0), 0u) << reqs[0].body;
  std::set<at::Row> expected = expectedRows(0, 2, "ev1");
  expected.merge(expectedRows(2, 4, "ev2"));
  expected.insert(row(4, "ev1"));
  EXPECT_EQ(backend.rows(), expected);
  EXPECT_NE(out.str().find("ev2"), std::string::npos);
}

TEST_F(SyncRun, BadLinesAreReportedWithLineNumbersAndGoodOnesStillSent) {
  append(line(0));
  append("this is not json\n");
  append(line(1));
  append(R"({"bleUuid":"nope","checkInTime":1,"scannerId":"S1","eventId":"ev1"})"
         "\n");
  append(line(2));
  EXPECT_EQ(run(options()), as::kExitRejected);
  EXPECT_EQ(backend.rows(), expectedRows(0, 3));
  EXPECT_TRUE(hasRow(out.str(), "bad lines (skipped)", 2)) << out.str();
  EXPECT_NE(out.str().find("line 2: bad line skipped"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("line 4: bad line skipped"), std::string::npos) << out.str();
  // Reported once: the next run has nothing new.
  EXPECT_EQ(run(options()), as::kExitOk);
  EXPECT_NE(out.str().find("Nothing to sync"), std::string::npos) << out.str();
}

// The scanner's last-seen lines (ADR 0026) are not check-ins: the sync neither sends them nor
// calls them bad, wherever they sit in the log (the last line included).
TEST_F(SyncRun, LastSeenLinesAreSkippedNotSentAndNotBad) {
  jl::LastSeen ls;
  ls.lastSeen = kEventTime + 60'000;
  ls.bleUuid = *attendance::support::Uuid::parse(uuidFor(0));
  ls.scannerId = "S1";
  ls.eventId = "ev1";
  ls.firstSeen = kEventTime;
  ls.sightings = 60;
  ls.left = true;
  append(line(0));
  append(jl::formatLastSeenLine(ls));
  append(line(1));
  ls.left = false;
  append(jl::formatLastSeenLine(ls));
  EXPECT_EQ(run(options()), as::kExitOk) << out.str() << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 2));
  for (const auto& r : backend.requests()) EXPECT_EQ(r.body.find("lastSeen"), std::string::npos) << r.body;
  EXPECT_TRUE(hasRow(out.str(), "bad lines (skipped)", 0)) << out.str();
  append(line(2));
  append(jl::formatLastSeenLine(ls));
  EXPECT_EQ(run(options()), as::kExitOk) << out.str() << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 3));
}

TEST_F(SyncRun, RecordsRejectedByTheBackendAreListedByReasonAndLine) {
  append(line(0));
  append(line(1, "ev1", 0, "Other-Scanner"));
  append(line(2));
  EXPECT_EQ(run(options()), as::kExitRejected);
  EXPECT_NE(out.str().find("1  scannerId does not match the API key"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("line 2: rejected by the backend: scannerId does not match"), std::string::npos)
      << out.str();
  EXPECT_EQ(backend.rows().size(), 2u);
}

TEST_F(SyncRun, EmptyLogIsNothingToSync) {
  EXPECT_EQ(run(options()), as::kExitOk);
  EXPECT_NE(out.str().find("Nothing to sync: the log"), std::string::npos) << out.str();
  EXPECT_EQ(backend.batchRequests(), 0u);
}

TEST_F(SyncRun, LogOfOnlyGarbageSendsNothingAndSaysSo) {
  append("garbage\n{\"a\":1}\n\x01\x02\n");
  EXPECT_EQ(run(options()), as::kExitRejected);
  EXPECT_EQ(backend.batchRequests(), 0u);
  EXPECT_TRUE(hasRow(out.str(), "bad lines (skipped)", 3)) << out.str();
}

TEST_F(SyncRun, MissingOrEmptyKeyFileIsAUsageError) {
  appendRecords(0, 1);
  auto o = options();
  o.apiKeyFile = dir.path() / "missing-key";
  EXPECT_EQ(run(o), as::kExitUsage);
  EXPECT_NE(err.str().find("cannot read the API key file"), std::string::npos) << err.str();
  std::ofstream(dir.path() / "empty-key") << "  \n";
  o.apiKeyFile = dir.path() / "empty-key";
  EXPECT_EQ(run(o), as::kExitUsage);
  EXPECT_NE(err.str().find("is empty"), std::string::npos) << err.str();
  EXPECT_EQ(backend.batchRequests(), 0u);
}

TEST_F(SyncRun, MissingLogAndBadBatchSizeAndPlainHttpAreUsageErrors) {
  auto o = options();
  o.log = dir.path() / "nope.jsonl";
  EXPECT_EQ(run(o), as::kExitUsage);
  EXPECT_NE(err.str().find("cannot open the log"), std::string::npos) << err.str();
  o = options();
  o.batchSize = 0;
  EXPECT_EQ(run(o), as::kExitUsage);
  o = options();
  o.backendUrl = "http://backend.example.org";
  EXPECT_EQ(run(o), as::kExitUsage);
  EXPECT_NE(err.str().find("--insecure-http"), std::string::npos) << err.str();
}

TEST_F(SyncRun, WrongKeyIsExit5AndNothingIsCheckpointed) {
  appendRecords(0, 3);
  std::ofstream(keyFile) << "wrong-key\n";
  EXPECT_EQ(run(options()), as::kExitAuth);
  EXPECT_NE(err.str().find("refused the API key"), std::string::npos) << err.str();
  EXPECT_EQ(backend.requests().size(), 1u);  // not retried
  EXPECT_TRUE(backend.rows().empty());
  std::ofstream(keyFile) << "good-key\n";
  EXPECT_EQ(run(options()), as::kExitOk);
  EXPECT_EQ(backend.rows(), expectedRows(0, 3));
}

TEST_F(SyncRun, UnreachableBackendIsExit4AfterRetries) {
  appendRecords(0, 3);
  std::uint16_t port = 0;
  {
    at::TestServer gone([](const at::ReceivedRequest&) { return at::Reply{}; });
    port = gone.port();
  }
  auto o = options();
  o.backendUrl = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(run(o), as::kExitNetwork);
  EXPECT_NE(err.str().find("run the same command again"), std::string::npos) << err.str();
  EXPECT_EQ(sleeps().size(), 3u);
}

// 403: the scanner is not assigned to the event (or there is no such event). The
// operator is told the command that fixes it, not to check the key.
TEST_F(SyncRun, UnassignedEventStopsWithTheAssignCommandAndExit5) {
  appendRecords(0, 2, "no-such-event");
  EXPECT_EQ(run(options()), as::kExitAuth);
  const std::string e = err.str();
  EXPECT_NE(e.find("attendance-admin scanner assign --id S1 --event no-such-event"), std::string::npos) << e;
  EXPECT_NE(e.find("the scanner is not assigned to this event"), std::string::npos) << e;
  EXPECT_EQ(e.find("check --api-key-file"), std::string::npos) << e;
  EXPECT_EQ(backend.requests().size(), 1u);  // not retried
  EXPECT_TRUE(backend.rows().empty());
}

TEST_F(SyncRun, Retries503WithRetryAfterAndEndsExactlyOnce) {
  appendRecords(0, 10);
  backend.before([](std::size_t n) -> std::optional<at::Reply> {
    if (n != 2) return std::nullopt;
    at::Reply r;
    r.status = 503;
    r.body = R"({"error":"database unavailable"})";
    r.headers["Retry-After"] = "2";
    return r;
  });
  EXPECT_EQ(run(options()), as::kExitOk) << err.str();
  EXPECT_EQ(sleeps(), (std::vector<std::chrono::nanoseconds>{2000ms}));
  EXPECT_EQ(backend.rows(), expectedRows(0, 10));
  EXPECT_EQ(backend.batchRequests(), 3u);
}

TEST_F(SyncRun, ConnectionDroppedAfterTheCommitIsRetriedAndCountedAsDuplicates) {
  appendRecords(0, 10);
  backend.after([](std::size_t n) -> std::optional<at::Reply> {
    if (n != 1) return std::nullopt;
    at::Reply r;
    r.action = at::Reply::Action::closeWithoutResponse;
    return r;
  });
  EXPECT_EQ(run(options()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 10));
  EXPECT_TRUE(hasRow(out.str(), "inserted", 5)) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "duplicates", 5)) << out.str();
}

TEST_F(SyncRun, StallLongerThanTheTimeoutIsRetried) {
  appendRecords(0, 5);
  backend.before([](std::size_t n) -> std::optional<at::Reply> {
    if (n != 1) return std::nullopt;
    at::Reply r;
    r.action = at::Reply::Action::stall;
    r.stallFor = 10s;
    return r;
  });
  auto o = options();
  o.timeouts.request = 200ms;
  EXPECT_EQ(run(o), as::kExitOk) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 5));
}

TEST_F(SyncRun, AFailureMidwayKeepsTheCheckpointAndTheRerunFinishesTheJob) {
  appendRecords(0, 23);
  failFromRequest(3);
  EXPECT_EQ(run(options()), as::kExitNetwork);
  EXPECT_EQ(backend.rows(), expectedRows(0, 10));
  auto cp = as::loadCheckpoint(as::checkpointPathFor(log));
  ASSERT_TRUE(cp && cp->has_value());
  EXPECT_EQ((*cp)->nextLine, 11u);

  backend.before(nullptr);
  EXPECT_EQ(requestsOfRun(options(), as::kExitOk), 3u);  // 13 remaining records: 5 + 5 + 3
  EXPECT_TRUE(hasRow(out.str(), "duplicates", 0)) << out.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 23));
}

TEST_F(SyncRun, AReplacedLogStartsFromTheBeginning) {
  appendRecords(0, 5);
  ASSERT_EQ(run(options()), as::kExitOk);
  const auto fresh = dir.path() / "new.jsonl";
  {
    std::ofstream f(fresh);
    for (int i = 100; i < 108; ++i) f << line(i);
  }
  std::filesystem::rename(fresh, log);
  EXPECT_EQ(run(options()), as::kExitOk) << err.str();
  EXPECT_NE(err.str().find("replaced"), std::string::npos) << err.str();
  auto expected = expectedRows(0, 5);
  expected.merge(expectedRows(100, 108));
  EXPECT_EQ(backend.rows(), expected);
}

TEST_F(SyncRun, DryRunSendsNothingAndWritesNoCheckpoint) {
  appendRecords(0, 12);
  append("junk\n");
  auto o = options();
  o.dryRun = true;
  o.apiKeyFile.clear();
  EXPECT_EQ(run(o), as::kExitRejected);
  EXPECT_EQ(backend.batchRequests(), 0u);
  EXPECT_FALSE(std::filesystem::exists(as::checkpointPathFor(log)));
  EXPECT_NE(out.str().find("Dry run: nothing was sent"), std::string::npos) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "records to send", 12)) << out.str();
}

TEST_F(SyncRun, CorrectsTimesOfTheCurrentBootOnceTheClockIsTrustedAndStaysStableAcrossRuns) {
  // Logged while the clock said 1970; bootMs 1,000,000 and 2,000,000 into this boot.
  append(line(0, "ev1", 1'000'000, "S1", "current-boot", 1'000'000));
  append(line(1, "ev1", 2'000'000, "S1", "current-boot", 2'000'000));
  append(line(2, "ev1", 3'000'000, "S1", "earlier-boot", 3'000'000));  // not correctable
  env.clockSynchronized = [] { return true; };
  const std::int64_t now = attendance::support::toEpochMillis(clock.systemTime());
  const std::int64_t bootNow = 3'600'000;
  EXPECT_EQ(run(options()), as::kExitRejected) << err.str();
  std::set<at::Row> expected{row(0, "ev1", now - bootNow + 1'000'000), row(1, "ev1", now - bootNow + 2'000'000)};
  EXPECT_EQ(backend.rows(), expected);
  EXPECT_TRUE(hasRow(out.str(), "times corrected", 2)) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "implausible times", 1)) << out.str();

  // Later in the same boot, NTP has slewed the clock by 3 s: a resend must still
  // produce the same natural keys (the anchor is in the checkpoint).
  clock.advance(10min);
  clock.setSystemTime(clock.systemTime() + 3s);
  env.bootTimeMs = [] { return std::int64_t{3'600'000 + 600'000}; };
  auto o = options();
  o.all = true;
  EXPECT_EQ(run(o), as::kExitRejected) << err.str();
  EXPECT_EQ(backend.rows(), expected);
  EXPECT_TRUE(hasRow(out.str(), "duplicates", 2)) << out.str();
}

TEST_F(SyncRun, UntrustedClockSendsLoggedTimesAndReportsImplausibleOnes) {
  append(line(0, "ev1", 1'000'000, "S1", "current-boot", 1'000'000));
  append(line(1));
  EXPECT_EQ(run(options()), as::kExitRejected);
  EXPECT_EQ(backend.rows(), (std::set<at::Row>{row(1)}));
  EXPECT_NE(err.str().find("--trust-clock"), std::string::npos) << err.str();
  EXPECT_NE(out.str().find("line 1: checkInTime before 2020-01-01"), std::string::npos) << out.str();
}

namespace {

// A stand-in scanner: a child process holding the log's flock until SIGTERM.
struct LockHolder {
  pid_t pid = -1;
  explicit LockHolder(const std::filesystem::path& log) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_RDWR | O_APPEND);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
      const char ok = 'k';
      (void)::write(ready[1], &ok, 1);
      for (;;) ::pause();
    }
    char c = 0;
    EXPECT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);
  }
  ~LockHolder() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Sends SIGTERM and, like a scanner that flushes and exits, the lock is gone soon after: the
// run's wait for it is on the simulated clock, so the process is reaped here before the run polls.
// With `ignore` the scanner ignores the signal and keeps the lock.
struct RecordingControl final : as::ScannerControl {
  std::vector<pid_t> terminated;
  bool ignore = false;
  bool unitActive() override { return false; }
  as::RunResult<void> stopUnit() override { return as::RunError{as::kExitScannerRunning, "no systemd here"}; }
  as::RunResult<void> terminate(pid_t pid) override {
    terminated.push_back(pid);
    if (ignore) return {};
    if (::kill(pid, SIGTERM) != 0) return as::RunError{as::kExitScannerRunning, "kill failed"};
    ::waitpid(pid, nullptr, 0);
    return {};
  }
};

}  // namespace

TEST_F(SyncRun, RefusesWhileAScannerHoldsTheLogLock) {
  appendRecords(0, 3);
  LockHolder scanner(log);
  EXPECT_EQ(run(options()), as::kExitScannerRunning);
  EXPECT_NE(err.str().find("locked by a running scanner"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("PID " + std::to_string(scanner.pid)), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("--stop-scanner"), std::string::npos) << err.str();
  EXPECT_EQ(backend.batchRequests(), 0u);
}

TEST_F(SyncRun, StopScannerTerminatesTheHolderAndWaitsForTheLock) {
  appendRecords(0, 3);
  LockHolder scanner(log);
  RecordingControl control;
  env.scanner = &control;
  env.lockPollInterval = 20ms;
  auto o = options();
  o.stopScanner = true;
  EXPECT_EQ(run(o), as::kExitOk) << err.str();
  EXPECT_EQ(control.terminated, (std::vector<pid_t>{scanner.pid}));
  EXPECT_NE(err.str().find("released the log"), std::string::npos) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 3));
}

// A scanner that does not let go of the log: the run gives up after --stop-timeout on the
// injected clock (no real 30 s wait), names the holder, and sends nothing.
TEST_F(SyncRun, StopScannerGivesUpWhenTheLockIsNotReleasedWithinTheTimeout) {
  appendRecords(0, 3);
  LockHolder scanner(log);
  RecordingControl control;
  control.ignore = true;
  env.scanner = &control;
  env.lockPollInterval = 100ms;
  auto o = options();
  o.stopScanner = true;
  EXPECT_EQ(run(o), as::kExitScannerRunning) << err.str();
  EXPECT_NE(err.str().find("did not release the log within 30 s"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("PID " + std::to_string(scanner.pid)), std::string::npos) << err.str();
  std::chrono::nanoseconds waited{0};
  for (const auto d : sleeps()) waited += d;
  EXPECT_GE(waited, 30s);
  EXPECT_LE(waited, 30s + 100ms);
  EXPECT_EQ(backend.batchRequests(), 0u);
}

class RosterRun : public SyncRun {};

TEST_F(RosterRun, WritesTheRosterAtomicallyWithCanonicalUuids) {
  backend.setRoster("ev1", {"A1B2C3D4-0000-4000-8000-000000000001", uuidFor(2)});
  as::RosterOptions o;
  o.eventId = "ev1";
  o.backendUrl = backend.url();
  o.apiKeyFile = keyFile;
  o.out = dir.path() / "roster.json";
  EXPECT_EQ(as::runRoster(o, env), as::kExitOk) << err.str();
  std::ifstream in(o.out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text,
            "{\"eventId\":\"ev1\",\"bleUuids\":[\"a1b2c3d4-0000-4000-8000-000000000001\",\"" + uuidFor(2) + "\"]}\n");
  EXPECT_NE(out.str().find("2 registered participants"), std::string::npos) << out.str();
  EXPECT_EQ(backend.requests().back().target, "/api/events/ev1/roster");
}

// Issue 11 §1: the deployment's namespace reaches the scanner's roster file.
TEST_F(RosterRun, KeepsTheDeploymentNamespaceAndRefusesAMalformedOne) {
  backend.setRoster("ev1", {uuidFor(1)}, "EDD1EBEAC04E5DEFA017");
  as::RosterOptions o;
  o.eventId = "ev1";
  o.backendUrl = backend.url();
  o.apiKeyFile = keyFile;
  o.out = dir.path() / "roster.json";
  EXPECT_EQ(as::runRoster(o, env), as::kExitOk) << err.str();
  std::ifstream in(o.out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text,
            "{\"eventId\":\"ev1\",\"namespace\":\"edd1ebeac04e5defa017\",\"bleUuids\":[\"" + uuidFor(1) + "\"]}\n");

  backend.setRoster("ev1", {uuidFor(1)}, "not-a-namespace");
  o.out = dir.path() / "roster2.json";
  EXPECT_EQ(as::runRoster(o, env), as::kExitNetwork);
  EXPECT_NE(err.str().find("namespace"), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(o.out));
}

// ADR 0078: a private-ids event's roster names nobody; it is written as such, and one that would put
// bleUuids (or no namespace) on the scanner is refused.
TEST_F(RosterRun, APrivateIdsRosterIsWrittenWithTheNamespaceAndNoIds) {
  backend.setRoster("ev1", {}, "edd1ebeac04e5defa017", true);
  as::RosterOptions o;
  o.eventId = "ev1";
  o.backendUrl = backend.url();
  o.apiKeyFile = keyFile;
  o.out = dir.path() / "roster.json";
  EXPECT_EQ(as::runRoster(o, env), as::kExitOk) << err.str();
  std::ifstream in(o.out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\"eventId\":\"ev1\",\"namespace\":\"edd1ebeac04e5defa017\",\"privateIds\":true,\"bleUuids\":[]}\n");
  EXPECT_NE(out.str().find("private ids"), std::string::npos) << out.str();

  backend.setRoster("ev1", {uuidFor(1)}, "edd1ebeac04e5defa017", true);
  o.out = dir.path() / "roster2.json";
  EXPECT_EQ(as::runRoster(o, env), as::kExitNetwork);
  EXPECT_NE(err.str().find("no bleUuids"), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(o.out));
  backend.setRoster("ev1", {}, "", true);
  EXPECT_EQ(as::runRoster(o, env), as::kExitNetwork);
  EXPECT_FALSE(std::filesystem::exists(o.out));
}

TEST_F(RosterRun, UnassignedEventAndWrongKeyAreReportedAndNothingIsWritten) {
  backend.setRoster("ev1", {uuidFor(1)});
  as::RosterOptions o;
  o.eventId = "other event";
  o.backendUrl = backend.url();
  o.apiKeyFile = keyFile;
  o.out = dir.path() / "roster.json";
  EXPECT_EQ(as::runRoster(o, env), as::kExitAuth);
  EXPECT_EQ(backend.requests().back().target, "/api/events/other%20event/roster");
  EXPECT_NE(err.str().find("the scanner is not assigned to this event"), std::string::npos) << err.str();
  std::ofstream(keyFile) << "wrong\n";
  o.eventId = "ev1";
  EXPECT_EQ(as::runRoster(o, env), as::kExitAuth);
  EXPECT_FALSE(std::filesystem::exists(o.out));
}
