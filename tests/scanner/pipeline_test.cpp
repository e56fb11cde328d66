#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "jsonl_log/temp_dir.hpp"
#include "scanner/pipeline.hpp"

using namespace std::chrono_literals;
using attendance::jsonl_log::FsyncPolicy;
using attendance::jsonl_log::Writer;
using attendance::scanner::Pipeline;
using attendance::scanner::Roster;
using attendance::scanner::SimulatedBootClock;
using attendance::scanner::Verdict;
using attendance::support::SimulatedTimeSource;
using attendance::support::Uuid;

namespace {

constexpr const char* kBoot = "0f3c2a9e-1b2d-4c5e-8f70-123456789abc";
const Uuid kAlice = *Uuid::parse("a1b2c3d4-e5f6-4711-8899-aabbccddeeff");
const Uuid kBob = *Uuid::parse("b0b0b0b0-0000-4000-8000-000000000001");
const Uuid kEve = *Uuid::parse("eeeeeeee-0000-4000-8000-000000000002");

// These tests are about the log, dedup and the roster: one packet is a check-in here
// (the presence rule has its own test below and in presence_test.cpp).
attendance::scanner::PipelineOptions options() {
  return {.scannerId = "Entrance-Scanner-01",
          .eventId = "evt-1",
          .dedupWindow = 5min,
          .presence = {.minSightings = 1, .minDwell = 0ms},
          .lastSeenInterval = std::nullopt};
}

std::unique_ptr<Writer> openLog(const std::filesystem::path& p, FsyncPolicy policy = FsyncPolicy::interval) {
  auto w = Writer::open(p, {.fsync = policy, .syncInterval = 1s}, 0);
  EXPECT_TRUE(w) << (w ? "" : w.error().message);
  return std::move(*w);
}

std::string line(const Uuid& id, std::int64_t t, int rssi, std::int64_t bootMs, const char* event = "evt-1") {
  return "{\"bleUuid\":\"" + id.toString() + "\",\"checkInTime\":" + std::to_string(t) +
         ",\"scannerId\":\"Entrance-Scanner-01\",\"eventId\":\"" + event + "\",\"rssi\":" + std::to_string(rssi) +
         ",\"bootId\":\"" + kBoot + "\",\"bootMs\":" + std::to_string(bootMs) + "}\n";
}

}  // namespace

// The clock starts at 1721471400000 ms (2024-07-20T10:30:00Z); boot time = monotonic + 1000 ms.
TEST(Pipeline, WritesExactLinesAndSuppressesRepeatsInsideTheWindow) {
  TempDir dir;
  const auto log = dir / "attendance_log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 1000);
  auto writer = openLog(log);
  Pipeline p(options(), clock, boot, *writer);

  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  clock.advance(2s);
  EXPECT_EQ(p.onSighting(kAlice, -60, clock.systemTime()), Verdict::duplicate);  // e.g. her rotated address
  EXPECT_EQ(p.onSighting(kBob, -80, clock.systemTime()), Verdict::logged);
  clock.advance(4min + 58s);  // 5 min after Alice's line
  EXPECT_EQ(p.onSighting(kAlice, -55, clock.systemTime()), Verdict::logged);
  EXPECT_EQ(p.onSighting(kBob, -80, clock.systemTime()), Verdict::duplicate);
  ASSERT_TRUE(p.flush());

  EXPECT_EQ(readFile(log), line(kAlice, 1721471400000, -67, 1000) + line(kBob, 1721471402000, -80, 3000) +
                               line(kAlice, 1721471700000, -55, 301000));
  EXPECT_EQ(p.counters().sightings, 5u);
  EXPECT_EQ(p.counters().logged, 3u);
  EXPECT_EQ(p.counters().duplicates, 2u);
  EXPECT_EQ(p.counters().uniqueIds, 2u);
  EXPECT_EQ(writer->durableLines(), 3u);
}

TEST(Pipeline, RssiCanBeLeftOut) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, "b", 0);
  auto writer = openLog(log);
  auto o = options();
  o.recordRssi = false;
  Pipeline p(o, clock, boot, *writer);
  ASSERT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  ASSERT_EQ(p.onSighting(kBob, std::nullopt, clock.systemTime()), Verdict::logged);
  EXPECT_EQ(readFile(log),
            "{\"bleUuid\":\"a1b2c3d4-e5f6-4711-8899-aabbccddeeff\",\"checkInTime\":1721471400000,\"scannerId\":"
            "\"Entrance-Scanner-01\",\"eventId\":\"evt-1\",\"bootId\":\"b\",\"bootMs\":0}\n"
            "{\"bleUuid\":\"b0b0b0b0-0000-4000-8000-000000000001\",\"checkInTime\":1721471400000,\"scannerId\":"
            "\"Entrance-Scanner-01\",\"eventId\":\"evt-1\",\"bootId\":\"b\",\"bootMs\":0}\n");
}

TEST(Pipeline, WallClockJumpsNeitherFloodNorSuppress) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 0);
  auto writer = openLog(log);
  Pipeline p(options(), clock, boot, *writer);
  ASSERT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  clock.setSystemTime(clock.systemTime() - 24h);  // operator sets the clock back a day
  clock.advance(1min);
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::duplicate);
  clock.advance(4min);
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  ASSERT_TRUE(p.flush());
  // The line carries the (wrong) wall time plus what sync needs to correct it: bootMs moved 300 s.
  EXPECT_EQ(readFile(log),
            line(kAlice, 1721471400000, -67, 0) + line(kAlice, 1721471400000 - 86400000 + 300000, -67, 300000));
}

TEST(Pipeline, RosterLogsOnlyRegisteredIdsAndCountsTheRestAsNoise) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 0);
  const auto roster = Roster::parse(
      R"({"eventId":"evt-1","bleUuids":["A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF","b0b0b0b0-0000-4000-8000-000000000001"]})");
  ASSERT_TRUE(roster) << roster.error().message;
  auto writer = openLog(log);
  Pipeline p(options(), clock, boot, *writer, &*roster);
  EXPECT_EQ(p.onSighting(kEve, -50, clock.systemTime()), Verdict::not_on_roster);
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  EXPECT_EQ(p.onSighting(kEve, -50, clock.systemTime()), Verdict::not_on_roster);
  EXPECT_EQ(p.counters().notOnRoster, 2u);
  EXPECT_EQ(p.counters().rosterArrivals, 1u);
  ASSERT_TRUE(p.flush());
  EXPECT_EQ(readFile(log), line(kAlice, 1721471400000, -67, 0));
}

// Issue 11 §1: with a namespace and no roster only this deployment's ids are logged.
TEST(Pipeline, NamespaceLogsOnlyIdsInsideItAndCountsTheRestApart) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 0);
  auto o = options();
  o.bleNamespace = attendance::support::BleNamespace::parseHex("a1b2c3d4e5f647118899");
  auto writer = openLog(log);
  Pipeline p(o, clock, boot, *writer);
  // A factory-default iBeacon tag.
  const Uuid tag = *Uuid::parse("fda50693-a4e2-4fb1-afcf-c6eb07647825");
  EXPECT_EQ(p.onSighting(tag, -50, clock.systemTime()), Verdict::outside_namespace);
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  EXPECT_EQ(p.onSighting(kBob, -50, clock.systemTime()), Verdict::outside_namespace);
  EXPECT_EQ(p.counters().outsideNamespace, 2u);
  EXPECT_EQ(p.counters().notOnRoster, 0u);
  ASSERT_TRUE(p.flush());
  EXPECT_EQ(readFile(log), line(kAlice, 1721471400000, -67, 0));
}

// With both, the roster decides (so pre-namespace bleUuids on it keep working) and the
// namespace only says why an id was ignored.
TEST(Pipeline, WithARosterAndANamespaceRosteredIdsPassAndTheRestAreCountedByKind) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 0);
  const auto roster = Roster::parse(
      R"({"eventId":"evt-1","namespace":"a1b2c3d4e5f647118899","bleUuids":["b0b0b0b0-0000-4000-8000-000000000001"]})");
  ASSERT_TRUE(roster) << roster.error().message;
  auto o = options();
  o.bleNamespace = roster->bleNamespace();
  auto writer = openLog(log);
  Pipeline p(o, clock, boot, *writer, &*roster);
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::not_on_roster);  // ours, not registered
  EXPECT_EQ(p.onSighting(kEve, -50, clock.systemTime()), Verdict::outside_namespace);
  EXPECT_EQ(p.onSighting(kBob, -60, clock.systemTime()), Verdict::logged);  // a bleUuid from before the namespace
  EXPECT_EQ(p.counters().notOnRoster, 1u);
  EXPECT_EQ(p.counters().outsideNamespace, 1u);
  ASSERT_TRUE(p.flush());
  EXPECT_EQ(readFile(log), line(kBob, 1721471400000, -60, 0));
}

TEST(Pipeline, RestartReseedsDedupFromTheLogSoACrashLoopDoesNotSpam) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 0);
  {
    auto writer = openLog(log);
    Pipeline p(options(), clock, boot, *writer);
    ASSERT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
    clock.advance(3min);
    ASSERT_EQ(p.onSighting(kBob, -70, clock.systemTime()), Verdict::logged);
    ASSERT_TRUE(p.flush());
  }
  // A line of another event, and one from an earlier boot whose wall time is 2 min old.
  {
    std::ofstream out(log, std::ios::app);
    out << line(kEve, 1721471400000 + 180000, -50, 180000, "evt-other");
    out << "{\"bleUuid\":\"" << kEve.toString()
        << "\",\"checkInTime\":1721471460000,\"scannerId\":\"x\",\"eventId\":\"evt-1\",\"bootId\":\"older-boot\","
           "\"bootMs\":999999999}\n";
  }
  clock.advance(1min);  // restart 4 min after Alice, 1 min after Bob, 2 min after Eve's old-boot line
  auto writer = openLog(log);
  Pipeline p(options(), clock, boot, *writer);
  const auto seeded = p.seedFromLog(log);
  ASSERT_TRUE(seeded) << seeded.error().message;
  EXPECT_EQ(seeded->records, 3u);
  EXPECT_EQ(seeded->otherEvents, 1u);
  EXPECT_EQ(seeded->seeded, 3u);
  EXPECT_EQ(p.counters().uniqueIds, 3u);
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::duplicate);
  EXPECT_EQ(p.onSighting(kBob, -67, clock.systemTime()), Verdict::duplicate);
  EXPECT_EQ(p.onSighting(kEve, -67, clock.systemTime()), Verdict::duplicate);
  clock.advance(1min);  // Alice's line is now 5 min old
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  EXPECT_EQ(p.onSighting(kBob, -67, clock.systemTime()), Verdict::duplicate);
  clock.advance(2min);  // Eve's old-boot line is 5 min old by the wall clock
  EXPECT_EQ(p.onSighting(kEve, -67, clock.systemTime()), Verdict::logged);
}

// An operator points our scanner at a log the original Python scanner started
// (json.dumps, three keys, no event): those lines are this event's, so they seed
// dedup too, by their wall-clock age (they carry no bootMs).
TEST(Pipeline, LinesOfTheOriginalThreeKeyScannerCountAsThisEventAndSeedDedup) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;  // 1721471400000
  SimulatedBootClock boot(clock, kBoot, 0);
  writeFile(log, "{\"bleUuid\": \"" + kAlice.toString() +
                     "\", \"checkInTime\": 1721471340000, \"scannerId\": \"Entrance-Scanner-01\"}\n"
                     "{\"bleUuid\": \"" +
                     kBob.toString() + "\", \"checkInTime\": 1721471040000, \"scannerId\": \"Entrance-Scanner-01\"}\n" +
                     line(kEve, 1721471400000, -50, 0, "evt-other"));
  auto writer = openLog(log);
  EXPECT_TRUE(writer->recovery().quarantineFile.empty());
  Pipeline p(options(), clock, boot, *writer);
  const auto seeded = p.seedFromLog(log);
  ASSERT_TRUE(seeded) << seeded.error().message;
  EXPECT_EQ(seeded->badLines, 0u);
  EXPECT_EQ(seeded->records, 2u);
  EXPECT_EQ(seeded->withoutEventId, 2u);
  EXPECT_EQ(seeded->otherEvents, 1u);
  EXPECT_EQ(seeded->seeded, 1u);  // Alice 1 min ago; Bob 6 min ago is outside the window
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::duplicate);
  EXPECT_EQ(p.onSighting(kBob, -67, clock.systemTime()), Verdict::logged);
}

TEST(Pipeline, SameBootRecordsAgeByBootTimeEvenIfTheWallClockWasWrong) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  clock.advance(10min);
  SimulatedBootClock boot(clock, kBoot, 0);
  // Written 1 min ago by boot time, but with a wall time a year in the past.
  writeFile(log, line(kAlice, 1721471400000 - 365LL * 86400000, -60, 9 * 60000));
  auto writer = openLog(log);
  Pipeline p(options(), clock, boot, *writer);
  ASSERT_TRUE(p.seedFromLog(log));
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::duplicate);
  clock.advance(4min);
  EXPECT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
}

TEST(Pipeline, IntervalPolicyMakesLinesDurableWithinTheInterval) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 0);
  auto writer = openLog(log, FsyncPolicy::interval);
  Pipeline p(options(), clock, boot, *writer);
  ASSERT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  ASSERT_TRUE(p.tick());
  EXPECT_EQ(writer->durableLines(), 1u);  // the first line after a quiet second: at once
  EXPECT_FALSE(p.nextDeadline());
  clock.advance(1ms);
  ASSERT_EQ(p.onSighting(kBob, -67, clock.systemTime()), Verdict::logged);
  ASSERT_TRUE(p.tick());
  EXPECT_EQ(writer->durableLines(), 1u);  // within the second: waits for its end
  ASSERT_TRUE(p.nextDeadline());
  EXPECT_EQ(*p.nextDeadline(), clock.monotonicTime() + 999ms);
  clock.advance(998ms);
  ASSERT_TRUE(p.tick());
  EXPECT_EQ(writer->durableLines(), 1u);
  clock.advance(1ms);
  ASSERT_TRUE(p.tick());
  EXPECT_EQ(writer->durableLines(), 2u);
  EXPECT_FALSE(p.nextDeadline());
}

// Disk full / write errors, simulated with the file-size limit in a child process:
// check-ins wait in memory in order, are written when space returns, none is lost.
TEST(Pipeline, WriteFailuresKeepCheckInsInMemoryAndRetryInOrder) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    SimulatedTimeSource clock;
    SimulatedBootClock boot(clock, kBoot, 0);
    auto w = Writer::open(log, {}, 0);
    if (!w) ::_exit(10);
    auto o = options();
    o.maxPending = 2;
    Pipeline p(o, clock, boot, **w);
    if (p.onSighting(kAlice, -67, clock.systemTime()) != Verdict::logged) ::_exit(11);
    rlimit lim{};
    ::getrlimit(RLIMIT_FSIZE, &lim);
    rlimit full = lim;
    full.rlim_cur = (*w)->endOffset();  // the disk is now full
    if (::setrlimit(RLIMIT_FSIZE, &full) != 0) ::_exit(12);
    clock.advance(1s);
    if (p.onSighting(kBob, -70, clock.systemTime()) != Verdict::pending) ::_exit(13);
    if (p.onSighting(kEve, -71, clock.systemTime()) != Verdict::pending) ::_exit(14);
    if (p.onSighting(*Uuid::parse("cccccccc-0000-4000-8000-000000000003"), -72, clock.systemTime()) !=
        Verdict::dropped) {
      ::_exit(15);
    }
    if (p.pendingCount() != 2 || p.counters().dropped != 1) ::_exit(16);
    if (!p.tick()) ::_exit(17);  // retry not due yet, nothing written, not fatal
    clock.advance(1s);
    if (!p.tick() || p.pendingCount() != 2) ::_exit(18);  // retried, still full
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(19);
    clock.advance(1s);
    if (!p.tick() || p.pendingCount() != 0) ::_exit(20);
    if (!p.flush()) ::_exit(21);
    if (p.counters().logged != 3) ::_exit(22);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "child step failed";
  EXPECT_EQ(readFile(log), line(kAlice, 1721471400000, -67, 0) + line(kBob, 1721471401000, -70, 1000) +
                               line(kEve, 1721471401000, -71, 1000));
}

TEST(Pipeline, WithoutABootIdTheLineLeavesOutBootIdAndBootMs) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, "", 0);
  auto writer = openLog(log);
  Pipeline p(options(), clock, boot, *writer);
  ASSERT_EQ(p.onSighting(kAlice, -67, clock.systemTime()), Verdict::logged);
  EXPECT_EQ(readFile(log),
            "{\"bleUuid\":\"a1b2c3d4-e5f6-4711-8899-aabbccddeeff\",\"checkInTime\":1721471400000,\"scannerId\":"
            "\"Entrance-Scanner-01\",\"eventId\":\"evt-1\",\"rssi\":-67}\n");
}

// The scanner's path applies the presence rule before dedup: with the defaults a
// passer-by's single packet writes nothing, and a participant who stays is logged
// once, at the first sighting of the run (wall time and boot time alike).
TEST(Pipeline, DefaultPresenceRuleLogsWhoStaysAtTheirFirstSightingAndNotPassersBy) {
  TempDir dir;
  const auto log = dir / "attendance_log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 1000);
  auto writer = openLog(log);
  auto o = options();
  o.presence = {};
  Pipeline p(o, clock, boot, *writer);

  EXPECT_EQ(p.onSighting(kEve, -92, clock.systemTime()), Verdict::candidate);  // walking past the door
  EXPECT_EQ(p.onSighting(kAlice, -70, clock.systemTime()), Verdict::candidate);
  clock.advance(1s);
  EXPECT_EQ(p.onSighting(kAlice, -68, clock.systemTime()), Verdict::candidate);
  EXPECT_EQ(p.presence().pending(), 2u);
  clock.advance(1s);
  EXPECT_EQ(p.onSighting(kAlice, -75, clock.systemTime()), Verdict::logged);
  clock.advance(1s);
  EXPECT_EQ(p.onSighting(kAlice, -70, clock.systemTime()), Verdict::duplicate);
  clock.advance(20s);
  ASSERT_TRUE(p.tick());  // Eve's run ends unqualified
  EXPECT_EQ(p.presence().pending(), 0u);
  EXPECT_EQ(p.presence().counters().expired, 1u);
  ASSERT_TRUE(p.flush());

  EXPECT_EQ(readFile(log), line(kAlice, 1721471400000, -70, 1000));  // median of -70, -68, -75
  EXPECT_EQ(p.counters().notYetPresent, 3u);
  EXPECT_EQ(p.counters().logged, 1u);
  EXPECT_EQ(p.counters().duplicates, 1u);
}

// Last-seen lines (issue 13 §2, ADR 0026): when someone leaves, every --last-seen-interval for who
// is there, and at shutdown; check-in lines unchanged.
TEST(Pipeline, LastSeenLinesWhenAParticipantLeavesPeriodicallyAndAtShutdown) {
  TempDir dir;
  const auto log = dir / "attendance_log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 1000);
  auto writer = openLog(log);
  auto o = options();
  o.lastSeenInterval = 1min;
  Pipeline p(o, clock, boot, *writer);
  const std::int64_t t0 = 1721471400000;

  EXPECT_EQ(p.onSighting(kAlice, -60, clock.systemTime()), Verdict::logged);
  for (int s = 5; s <= 30; s += 5) {
    clock.advance(5s);
    EXPECT_EQ(p.onSighting(kAlice, -60, clock.systemTime()), Verdict::duplicate);
  }
  EXPECT_EQ(p.onSighting(kBob, -70, clock.systemTime()), Verdict::logged);  // t0 + 30 s
  // Bob stays; at t0 + 45 s Alice, silent for 15 s, has left; at t0 + 60 s the periodic lines are due.
  for (int s = 35; s <= 60; s += 5) {
    clock.advance(5s);
    p.onSighting(kBob, -70, clock.systemTime());
    ASSERT_TRUE(p.tick());
  }
  clock.advance(2s);
  ASSERT_TRUE(p.flush());

  const auto ls = [&](const Uuid& id, std::int64_t last, std::int64_t first, std::int64_t n, bool left) {
    attendance::jsonl_log::LastSeen s;
    s.lastSeen = last;
    s.bleUuid = id;
    s.scannerId = "Entrance-Scanner-01";
    s.eventId = "evt-1";
    s.firstSeen = first;
    s.sightings = n;
    s.left = left;
    return attendance::jsonl_log::formatLastSeenLine(s);
  };
  EXPECT_EQ(readFile(log), line(kAlice, t0, -60, 1000) + line(kBob, t0 + 30000, -70, 31000) +
                               ls(kAlice, t0 + 30000, t0, 7, true) + ls(kBob, t0 + 60000, t0 + 30000, 7, false) +
                               ls(kBob, t0 + 60000, t0 + 30000, 7, false));
  EXPECT_EQ(p.counters().logged, 2U);
  EXPECT_EQ(p.counters().lastSeenWritten, 3U);

  // The scanner's own re-seeding (and the sync) read only the check-ins.
  auto again = openLog(dir / "other.jsonl");
  Pipeline q(options(), clock, boot, *again);
  const auto seeded = q.seedFromLog(log);
  ASSERT_TRUE(seeded);
  EXPECT_EQ(seeded->records, 2U);
  EXPECT_EQ(seeded->badLines, 0U);
}

TEST(Pipeline, NoLastSeenLinesUnlessAnIntervalIsSet) {
  TempDir dir;
  const auto log = dir / "attendance_log.jsonl";
  SimulatedTimeSource clock;
  SimulatedBootClock boot(clock, kBoot, 1000);
  auto writer = openLog(log);
  Pipeline p(options(), clock, boot, *writer);
  EXPECT_EQ(p.onSighting(kAlice, -60, clock.systemTime()), Verdict::logged);
  clock.advance(20s);
  ASSERT_TRUE(p.tick());
  ASSERT_TRUE(p.flush());
  EXPECT_EQ(readFile(log), line(kAlice, 1721471400000, -60, 1000));
  EXPECT_EQ(p.counters().lastSeenWritten, 0U);
}
