// Pure parts of attendance-sync: clock correction, checkpoint, batching, answers, summary,
// what failed attempts say happened.
#include "sync/batch.hpp"
#include "sync/checkpoint.hpp"
#include "sync/clock_correction.hpp"
#include "sync/diagnosis.hpp"
#include "sync/event_rule.hpp"
#include "sync/summary.hpp"

#include "batch_client/test_server.hpp"
#include "support/temp_dir.hpp"

#include <attendance/support/clock.hpp>
#include <attendance/support/utf8.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace as = attendance::sync;
namespace jl = attendance::jsonl_log;
using attendance::support::Uuid;
using namespace std::chrono_literals;

namespace {

jl::CheckIn record(std::int64_t time, std::optional<std::string> boot = std::nullopt,
                   std::optional<std::int64_t> bootMs = std::nullopt) {
  jl::CheckIn r;
  r.bleUuid = *Uuid::parse("a1b2c3d4-0000-4000-8000-000000000001");
  r.checkInTime = time;
  r.scannerId = "S1";
  r.eventId = "ev1";
  r.bootId = std::move(boot);
  r.bootMs = bootMs;
  return r;
}

constexpr std::int64_t kEventTime = 1'721'471'400'000;  // 2024-07-20T10:30:00Z

}  // namespace

// The Pi boots offline with its clock at 1970 + uptime, logs check-ins, then NTP
// jumps the clock to the truth before the sync.
TEST(ClockCorrection, RecordsOfThisBootAreCorrectedAfterAClockJump) {
  attendance::support::SimulatedTimeSource wall{attendance::support::fromEpochMillis(0)};
  std::int64_t bootMs = 0;
  auto advance = [&](std::chrono::milliseconds d) {
    wall.advance(d);
    bootMs += d.count();
  };
  advance(40s);  // boot
  std::vector<jl::CheckIn> logged;
  for (int i = 0; i < 3; ++i) {
    advance(10min);
    logged.push_back(record(attendance::support::toEpochMillis(wall.systemTime()), "boot-A", bootMs));
  }
  // NTP: wall time is really kEventTime + 2h now.
  advance(2h);
  const std::int64_t truthNow = kEventTime + 2 * 3'600'000;
  wall.setSystemTime(attendance::support::fromEpochMillis(truthNow));

  as::ClockContext ctx;
  ctx.anchor = as::makeAnchor("boot-A", truthNow, bootMs);
  ctx.nowWallMs = truthNow;
  for (int i = 0; i < 3; ++i) {
    const auto d = as::decideCheckInTime(logged[static_cast<std::size_t>(i)], ctx);
    EXPECT_EQ(d.verdict, as::TimeVerdict::corrected);
    // The i-th sighting happened (2h + (2 - i) * 10min) before the sync.
    EXPECT_EQ(d.checkInTime, truthNow - 2 * 3'600'000 - (2 - i) * 600'000) << i;
  }
}

TEST(ClockCorrection, RightTimesAreKeptAsLoggedSoResyncsSendIdenticalRecords) {
  as::ClockContext ctx;
  ctx.nowWallMs = kEventTime + 3'600'000;
  ctx.anchor = as::ClockAnchor{"boot-A", kEventTime - 1'000'000 + 250};  // 250 ms of drift
  const auto d = as::decideCheckInTime(record(kEventTime, "boot-A", 1'000'000), ctx);
  EXPECT_EQ(d.verdict, as::TimeVerdict::asLogged);
  EXPECT_EQ(d.checkInTime, kEventTime);
}

TEST(ClockCorrection, OtherBootsAndUntrustedClocksAreNotCorrected) {
  as::ClockContext ctx;
  ctx.nowWallMs = kEventTime + 3'600'000;
  ctx.anchor = as::ClockAnchor{"boot-B", 0};
  // Plausible but from another boot: sent as logged.
  auto d = as::decideCheckInTime(record(kEventTime, "boot-A", 5), ctx);
  EXPECT_EQ(d.verdict, as::TimeVerdict::asLogged);
  EXPECT_EQ(d.checkInTime, kEventTime);
  // Implausible (1970) from another boot: reported, not sent.
  d = as::decideCheckInTime(record(60'000, "boot-A", 5), ctx);
  EXPECT_EQ(d.verdict, as::TimeVerdict::implausible);
  EXPECT_NE(d.reason.find("2020"), std::string_view::npos);
  // No bootMs at all (an old-format line).
  d = as::decideCheckInTime(record(60'000, "boot-B"), ctx);
  EXPECT_EQ(d.verdict, as::TimeVerdict::implausible);
  // Clock not trusted (no anchor): nothing corrected.
  ctx.anchor.reset();
  d = as::decideCheckInTime(record(60'000, "boot-B", 5), ctx);
  EXPECT_EQ(d.verdict, as::TimeVerdict::implausible);
}

TEST(ClockCorrection, FutureTimesAreImplausibleUnlessCorrectable) {
  as::ClockContext ctx;
  ctx.nowWallMs = kEventTime;
  auto d = as::decideCheckInTime(record(kEventTime + 10 * 60'000), ctx);
  EXPECT_EQ(d.verdict, as::TimeVerdict::implausible);
  d = as::decideCheckInTime(record(kEventTime + 60'000), ctx);  // within the 5 min slack
  EXPECT_EQ(d.verdict, as::TimeVerdict::asLogged);
  // Clock was a year ahead at the sighting; bootMs tells the truth.
  ctx.anchor = as::ClockAnchor{"boot-A", kEventTime - 500'000};
  d = as::decideCheckInTime(record(kEventTime + 365LL * 86'400'000, "boot-A", 400'000), ctx);
  EXPECT_EQ(d.verdict, as::TimeVerdict::corrected);
  EXPECT_EQ(d.checkInTime, kEventTime - 100'000);
}

TEST(Checkpoint, RoundTripsThroughItsJsonForm) {
  as::Checkpoint c;
  c.log = as::LogIdentity{2049, 123456, 9000, "ab12"};
  c.offset = 4500;
  c.nextLine = 41;
  c.clock = as::ClockAnchor{"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", -1234};
  const auto text = as::formatCheckpoint(c);
  EXPECT_EQ(text.back(), '\n');
  auto parsed = as::parseCheckpoint(text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, c);
  c.clock.reset();
  EXPECT_EQ(*as::parseCheckpoint(as::formatCheckpoint(c)), c);
}

TEST(Checkpoint, MalformedOrInconsistentCheckpointsAreErrors) {
  EXPECT_FALSE(as::parseCheckpoint(""));
  EXPECT_FALSE(as::parseCheckpoint("{\"version\":2}"));
  EXPECT_FALSE(as::parseCheckpoint("[1]"));
  // Offset past the recorded size.
  EXPECT_FALSE(as::parseCheckpoint(
      R"({"version":1,"log":{"device":1,"inode":2,"size":10,"firstLineSha256":"ab"},"offset":11,"nextLine":2})"));
  EXPECT_FALSE(as::parseCheckpoint(
      R"({"version":1,"log":{"device":1,"inode":2,"size":10,"firstLineSha256":"ab"},"offset":-1,"nextLine":2})"));
  EXPECT_FALSE(as::parseCheckpoint(
      R"({"version":1,"log":{"device":1,"inode":2,"size":10,"firstLineSha256":"ab"},"offset":1,"nextLine":0})"));
  // Fields we write as hex must be hex.
  EXPECT_FALSE(as::parseCheckpoint(
      R"({"version":1,"log":{"device":1,"inode":2,"size":10,"firstLineSha256":"x\"y"},"offset":10,"nextLine":2})"));
  EXPECT_TRUE(as::parseCheckpoint(
      R"({"version":1,"log":{"device":1,"inode":2,"size":10,"firstLineSha256":"ab"},"offset":10,"nextLine":2})"));
}

TEST(Checkpoint, IdentityNoticesAReplacedOrTruncatedLog) {
  attendance::testing::TempDir dir;
  const auto log = dir.path() / "log.jsonl";
  { std::ofstream(log) << "first line\nsecond\n"; }
  auto identityOf = [&](const std::filesystem::path& p) {
    const int fd = ::open(p.c_str(), O_RDONLY);
    auto id = as::identify(fd);
    ::close(fd);
    return *id;
  };
  const auto before = identityOf(log);
  EXPECT_EQ(before.size, 18u);
  EXPECT_EQ(before.firstLineSha256.size(), 64u);
  { std::ofstream(log, std::ios::app) << "third\n"; }
  const auto grown = identityOf(log);
  EXPECT_TRUE(as::sameLog(before, grown));  // appending keeps the identity

  // Replaced by a new file with different content (a new event's log).
  const auto other = dir.path() / "other.jsonl";
  { std::ofstream(other) << "other first line\nsecond\nthird\n"; }
  std::filesystem::rename(other, log);
  EXPECT_FALSE(as::sameLog(before, identityOf(log)));

  // Truncated in place.
  std::filesystem::resize_file(log, 5);
  auto truncated = identityOf(log);
  truncated.inode = grown.inode;
  truncated.device = grown.device;
  EXPECT_FALSE(as::sameLog(grown, truncated));
}

TEST(Checkpoint, SaveReplacesAtomicallyAndLoadReadsIt) {
  attendance::testing::TempDir dir;
  const auto path = as::checkpointPathFor(dir.path() / "attendance_log.jsonl");
  EXPECT_EQ(path.filename(), "attendance_log.jsonl.sync-checkpoint");
  auto missing = as::loadCheckpoint(path);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  as::Checkpoint c;
  c.log = as::LogIdentity{1, 2, 300, "aa"};
  c.offset = 100;
  c.nextLine = 3;
  ASSERT_TRUE(as::saveCheckpoint(path, c));
  c.offset = 200;
  ASSERT_TRUE(as::saveCheckpoint(path, c));
  auto loaded = as::loadCheckpoint(path);
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, c);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  { std::ofstream(path) << "{garbage"; }
  EXPECT_FALSE(as::loadCheckpoint(path));
}

TEST(Batching, BodyHasTheOriginalDesignShapeAndOnlyThreeKeysPerRecord) {
  as::Batcher batcher(2);
  const auto u1 = *Uuid::parse("A1B2C3D4-0000-4000-8000-000000000001");
  const auto u2 = *Uuid::parse("a1b2c3d4-0000-4000-8000-000000000002");
  EXPECT_TRUE(batcher.add("ev\"1", u1, kEventTime, "Entrance-01", 1, 0).empty());
  auto ready = batcher.add("ev\"1", u2, kEventTime + 5000, "Entrance-01", 2, 120);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(
      ready[0].body,
      R"({"eventId":"ev\"1","records":[)"
      R"({"bleUuid":"a1b2c3d4-0000-4000-8000-000000000001","checkInTime":1721471400000,"scannerId":"Entrance-01"},)"
      R"({"bleUuid":"a1b2c3d4-0000-4000-8000-000000000002","checkInTime":1721471405000,"scannerId":"Entrance-01"}]})");
  EXPECT_EQ(ready[0].lineNumbers, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(batcher.empty());
}

TEST(Batching, GroupsByEventAndNeverLetsTheCheckpointPassAPendingRecord) {
  as::Batcher batcher(3, 2);
  const auto u = *Uuid::parse("a1b2c3d4-0000-4000-8000-000000000001");
  std::uint64_t offset = 0;
  std::uint64_t line = 1;
  auto add = [&](std::string_view ev) {
    auto r = batcher.add(ev, u, kEventTime, "S1", line++, offset);
    offset += 100;
    return r;
  };
  EXPECT_TRUE(add("A").empty());  // line 1 @0
  EXPECT_TRUE(add("B").empty());  // line 2 @100
  EXPECT_TRUE(add("A").empty());  // line 3 @200
  EXPECT_EQ(batcher.earliestPending(), (std::pair<std::uint64_t, std::uint64_t>{0, 1}));
  auto full = add("A");  // line 4 @300: A is full
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].eventId, "A");
  EXPECT_EQ(full[0].lineNumbers, (std::vector<std::uint64_t>{1, 3, 4}));
  // B's record at line 2 is still pending: a checkpoint may not pass byte 100.
  EXPECT_EQ(batcher.earliestPending(), (std::pair<std::uint64_t, std::uint64_t>{100, 2}));
  EXPECT_TRUE(add("A").empty());  // line 5 @400
  // A third event pushes out the oldest partial batch (B) to bound memory.
  auto pushed = add("C");  // line 6 @500
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0].eventId, "B");
  EXPECT_EQ(batcher.earliestPending(), (std::pair<std::uint64_t, std::uint64_t>{400, 5}));
  auto a = batcher.takeOldest();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->eventId, "A");
  auto c = batcher.takeOldest();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->eventId, "C");
  EXPECT_FALSE(batcher.takeOldest());
  EXPECT_FALSE(batcher.earliestPending());
}

TEST(BackendAnswer, ParsesCountsAndRejections) {
  auto ack = as::parseBatchAck(
      R"({"eventId":"ev1","received":4,"inserted":2,"duplicates":1,"rejected":[{"index":3,"reason":"checkInTime out of range"}],"registered":2})");
  ASSERT_TRUE(ack) << ack.error().message;
  EXPECT_EQ(ack->received, 4u);
  EXPECT_EQ(ack->inserted, 2u);
  EXPECT_EQ(ack->duplicates, 1u);
  ASSERT_EQ(ack->rejected.size(), 1u);
  EXPECT_EQ(ack->rejected[0].index, 3u);
  EXPECT_EQ(ack->rejected[0].reason, "checkInTime out of range");
}

TEST(BackendAnswer, RefusesAnswersThatDoNotAddUp) {
  EXPECT_FALSE(as::parseBatchAck("<html>"));
  auto notAddingUp = as::parseBatchAck(R"({"received":3,"inserted":1,"duplicates":1,"rejected":[]})");
  ASSERT_FALSE(notAddingUp);
  EXPECT_NE(notAddingUp.error().message.find("add up"), std::string::npos);
  // An unusable answer ends the run like an unavailable backend (exit 4).
  EXPECT_EQ(notAddingUp.error().exitCode, as::kExitNetwork);
  EXPECT_FALSE(as::parseBatchAck(R"({"received":1,"inserted":1,"duplicates":0})"));
  EXPECT_FALSE(as::parseBatchAck(R"({"received":1,"inserted":0,"duplicates":0,"rejected":[{"reason":"x"}]})"));
  EXPECT_EQ(as::serverErrorText(R"({"error":"unknown event"})"), "unknown event");
  EXPECT_EQ(as::serverErrorText("plain\ntext"), "plain text");
}

TEST(BackendAnswer, ALongErrorPageIsCutBetweenCharacters) {
  std::string page = "x";
  for (int i = 0; i < 150; ++i) page += "\xC3\xA9";  // byte 200 falls inside an 'é'
  const std::string text = as::serverErrorText(page);
  EXPECT_EQ(text.size(), 199U);
  EXPECT_TRUE(attendance::support::isValidUtf8(text));
}

TEST(Summary, TableShowsTotalsPerEventReasonsAndLines) {
  as::SyncSummary s;
  s.linesRead = 7;
  s.badLines = 1;
  s.records = 6;
  s.noteProblem(3, "bad line skipped: not valid JSON");
  as::Batch b;
  b.eventId = "ev1";
  b.lineNumbers = {1, 2, 4, 5, 6, 7};
  as::BatchAck ack;
  ack.received = 6;
  ack.inserted = 3;
  ack.duplicates = 1;
  ack.rejected = {{2, "checkInTime out of range"}, {5, "checkInTime out of range"}};
  s.addBatch(b, &ack);
  EXPECT_EQ(s.sent, 6u);
  EXPECT_EQ(s.rejected, 2u);
  EXPECT_TRUE(s.anythingNotAccepted());
  const auto text = as::renderSummary(s, false);
  EXPECT_NE(text.find("lines read                          7"), std::string::npos) << text;
  EXPECT_NE(text.find("inserted                            3"), std::string::npos) << text;
  EXPECT_NE(text.find("         2  checkInTime out of range"), std::string::npos) << text;
  EXPECT_NE(text.find("line 3: bad line skipped"), std::string::npos) << text;
  EXPECT_NE(text.find("line 4: rejected by the backend: checkInTime out of range"), std::string::npos) << text;
  EXPECT_NE(text.find("line 7: rejected by the backend"), std::string::npos) << text;
  EXPECT_NE(text.find("ev1"), std::string::npos);
}

TEST(Summary, GroupsDigitsAndDrawsProgress) {
  EXPECT_EQ(as::groupDigits(0), "0");
  EXPECT_EQ(as::groupDigits(12), "12");
  EXPECT_EQ(as::groupDigits(999), "999");
  EXPECT_EQ(as::groupDigits(12345), "12,345");
  EXPECT_EQ(as::groupDigits(1000), "1,000");
  EXPECT_EQ(as::groupDigits(1234567), "1,234,567");
  const auto bar = as::formatProgressBar({5000, 1'000'000, 2'000'000, 2000ms}, 10);
  EXPECT_EQ(bar, "[#####-----]  50%  5,000 records  1.0/2.0 MB  2,500 rec/s  ETA 2s");
  EXPECT_EQ(as::formatProgressLine({5000, 1'000'000, 2'000'000, 2000ms}), "processed 5,000 records, 1.0/2.0 MB (50%)");
}

// --event and the line's own eventId (docs/sync.md, "Logs without eventId").
TEST(EventRule, ALineWithoutEventTakesTheOptionAndALineWithOneKeepsIt) {
  auto threeKeys = record(kEventTime);
  threeKeys.eventId.reset();
  const std::optional<std::string> none;
  const std::optional<std::string> ev1{"ev1"};
  EXPECT_EQ(as::eventFor(threeKeys, ev1), "ev1");
  EXPECT_EQ(as::eventFor(threeKeys, none), std::nullopt);
  EXPECT_EQ(as::eventFor(record(kEventTime), none), "ev1");
  EXPECT_EQ(as::eventFor(record(kEventTime), ev1), "ev1");
  EXPECT_EQ(as::eventFor(record(kEventTime), std::optional<std::string>{"ev2"}), std::nullopt);
}

TEST(EventRule, ConflictMessagesNameTheLineBothIdsAndWhatToDo) {
  const auto missing = as::describeConflict({7, std::nullopt, 3}, std::nullopt);
  EXPECT_NE(missing.find("line 7 has no eventId"), std::string::npos) << missing;
  EXPECT_NE(missing.find("3 such lines"), std::string::npos) << missing;
  EXPECT_NE(missing.find("Pass --event ID"), std::string::npos) << missing;
  const auto mismatch = as::describeConflict({12, std::string("ev-other"), 1}, std::string("ev-e2e"));
  EXPECT_NE(mismatch.find(R"(line 12 has eventId "ev-other" but --event is "ev-e2e")"), std::string::npos) << mismatch;
  EXPECT_EQ(mismatch.find("such lines"), std::string::npos) << mismatch;
}

namespace {

namespace bc = attendance::batch_client;

bc::Failure failureOf(std::vector<bc::AttemptError> history) {
  bc::Failure f;
  f.kind = history.back().status != 0 ? bc::FailureKind::server : bc::FailureKind::network;
  f.status = history.back().status;
  f.body = history.back().body;
  f.attempts = static_cast<unsigned>(history.size());
  f.history = std::move(history);
  return f;
}

bc::AttemptError dropped() { return {"receive", "end of stream", 0, {}}; }
bc::AttemptError refused() { return {"connect", "Connection refused", 0, {}}; }
bc::AttemptError answer(unsigned status, std::string body) { return {"answer", {}, status, std::move(body)}; }

}  // namespace

TEST(Diagnosis, TheBackendWentAwayMidRequestThenRefused) {
  const auto what = as::describeAttempts(failureOf({dropped(), refused(), refused()}));
  EXPECT_EQ(what,
            "the backend went away while handling the request: it closed the connection without an answer once, "
            "then refused connections 2 times (it stopped, crashed or is restarting)");
}

TEST(Diagnosis, NothingListeningAtAll) {
  const auto what = as::describeAttempts(failureOf({refused(), refused()}));
  EXPECT_NE(what.find("the backend is not running at that address"), std::string::npos) << what;
}

TEST(Diagnosis, TheDatabaseIsUnavailableBehindARunningBackend) {
  const auto what = as::describeAttempts(failureOf({answer(503, R"({"error":"database unavailable"})")}));
  EXPECT_EQ(what, "the backend is running but its database is unavailable (HTTP 503 once)");
  const auto mixed = as::describeAttempts(
      failureOf({answer(503, R"({"error":"database unavailable"})"), dropped(), answer(502, "<html>bad gateway")}));
  EXPECT_EQ(mixed,
            "the backend closed the connection without an answer once; the backend is running but its database is "
            "unavailable (HTTP 503 once); the backend answered HTTP 502 once")
      << mixed;
}

TEST(Diagnosis, OneAttemptSaysNothingTheErrorLineDoesNot) {
  EXPECT_EQ(as::describeAttempts(failureOf({refused()})), "");
  EXPECT_EQ(as::describeAttempts(bc::Failure{}), "");
}

TEST(Diagnosis, OnlyTheBackendsContentDigestMismatchIsACorruptedCopy) {
  auto f = failureOf({answer(400, R"({"error":"the body does not match","reason":"content_digest_mismatch"})")});
  f.kind = bc::FailureKind::rejected;
  EXPECT_TRUE(as::isContentDigestMismatch(f));
  f.body = R"({"error":"body is not valid UTF-8"})";
  EXPECT_FALSE(as::isContentDigestMismatch(f));
  f.body = R"({"error":"x","reason":"content_digest_malformed"})";
  EXPECT_FALSE(as::isContentDigestMismatch(f));
  f.body = R"({"error":"x","reason":"content_digest_mismatch"})";
  f.status = 500;
  EXPECT_FALSE(as::isContentDigestMismatch(f));
}
