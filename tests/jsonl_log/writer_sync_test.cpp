// What the writer hands to fdatasync: this test is linked with -Wl,--wrap=fdatasync,
// so every fdatasync of the jsonl_log library lands in the counter below first.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <attendance/jsonl_log/writer.hpp>
#include <attendance/support/clock.hpp>
#include "support/temp_dir.hpp"

extern "C" int __real_fdatasync(int fd);  // NOLINT(bugprone-reserved-identifier)

namespace {
int gSyncs = 0;
}  // namespace

extern "C" int __wrap_fdatasync(int fd) {  // NOLINT(bugprone-reserved-identifier)
  ++gSyncs;
  return __real_fdatasync(fd);
}

namespace {

using attendance::jsonl_log::CheckIn;
using attendance::jsonl_log::FsyncPolicy;
using attendance::jsonl_log::Writer;
using attendance::support::SimulatedTimeSource;
using attendance::testing::TempDir;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1764000000000;
const std::string kLine =
    R"({"bleUuid":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","checkInTime":1721471400000,"scannerId":"s","eventId":"e"})"
    "\n";

// A scanner killed (kill -9, OOM, watchdog) before its group commit leaves lines that are only
// in the page cache. Its successor must sync them before it counts them as durable: its status
// says durableLines, and with no new line it would otherwise exit 0 ("everything written and
// synced") without a single fdatasync, and a power cut could still take them.
TEST(WriterSync, LinesLeftByACrashedWriterAreSyncedBeforeTheyCountAsDurable) {
  for (const auto policy : {FsyncPolicy::always, FsyncPolicy::interval, FsyncPolicy::never}) {
    TempDir dir;
    const auto log = dir / "log.jsonl";
    std::ofstream(log, std::ios::binary) << kLine << kLine;
    gSyncs = 0;
    auto w = Writer::open(log, {.fsync = policy}, kNow);
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_EQ((*w)->durableLines(), 2u);
    EXPECT_EQ(gSyncs, 1) << "inherited lines counted as durable without an fdatasync";
    ASSERT_TRUE((*w)->sync());
    EXPECT_EQ(gSyncs, 1) << "nothing new to sync";
  }
}

TEST(WriterSync, ANewOrEmptyLogNeedsNoDataSync) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  gSyncs = 0;
  ASSERT_TRUE(Writer::open(log, {}, kNow));  // created: the directory is fsynced, there is no data
  std::ofstream(dir / "empty.jsonl", std::ios::binary).flush();
  ASSERT_TRUE(Writer::open(dir / "empty.jsonl", {}, kNow));
  EXPECT_EQ(gSyncs, 0);
}

CheckIn checkIn(std::uint8_t n) {
  CheckIn r;
  r.bleUuid.bytes[15] = n;
  r.checkInTime = 1721471400000;
  r.scannerId = "s";
  r.eventId = "e";
  return r;
}

// The scanner's step: `after` later, check-in `n` is appended and committed. Whether that
// commit synced (a failed append or commit is a test failure).
bool appendAndCommit(Writer& w, SimulatedTimeSource& clock, std::chrono::milliseconds after, std::uint8_t n) {
  clock.advance(after);
  if (auto appended = w.append(checkIn(n)); !appended) {
    ADD_FAILURE() << "append: " << appended.error().message;
    return false;
  }
  auto synced = w.commit(clock.monotonicTime());
  if (!synced) {
    ADD_FAILURE() << "commit: " << synced.error().message;
    return false;
  }
  return *synced;
}

// `--fsync interval` (the default) commits on the leading edge: the first line after a quiet
// interval is synced by the commit() that follows it, not an interval later (issue 13 §3: it
// was up to 1 s of every check-in's latency), and lines within an interval of a sync wait for
// its end, so the disk still sees at most one fdatasync per interval.
TEST(WriterSync, IntervalPolicySyncsTheFirstLineAfterAQuietIntervalAtOnce) {
  TempDir dir;
  SimulatedTimeSource clock;
  auto w = Writer::open(dir / "log.jsonl", {.fsync = FsyncPolicy::interval, .syncInterval = 1000ms}, kNow);
  ASSERT_TRUE(w) << w.error().message;
  Writer& writer = **w;
  gSyncs = 0;
  EXPECT_TRUE(appendAndCommit(writer, clock, 0ms, 0)) << "the first line waited for a whole interval";
  EXPECT_EQ(writer.durableLines(), 1u);
  EXPECT_EQ(gSyncs, 1);

  // Within the interval: the line waits for the deadline, one sync for the group.
  EXPECT_FALSE(appendAndCommit(writer, clock, 300ms, 1));
  EXPECT_FALSE(appendAndCommit(writer, clock, 300ms, 2));
  EXPECT_EQ(writer.durableLines(), 1u);
  EXPECT_EQ(writer.syncDue(), clock.monotonicTime() + 400ms);
  clock.advance(399ms);
  ASSERT_TRUE(writer.commit(clock.monotonicTime()));
  EXPECT_EQ(gSyncs, 1);
  clock.advance(1ms);
  const auto synced = writer.commit(clock.monotonicTime());
  ASSERT_TRUE(synced);
  EXPECT_TRUE(*synced);
  EXPECT_EQ(writer.durableLines(), 3u);
  EXPECT_EQ(gSyncs, 2);

  // Quiet for longer than an interval: the next line is synced at once again.
  EXPECT_TRUE(appendAndCommit(writer, clock, 2500ms, 3));
  EXPECT_EQ(writer.durableLines(), 4u);
  EXPECT_EQ(gSyncs, 3);
}

// The bound, on a simulated minute of random traffic (bursts, single lines, quiet gaps) with a
// commit() after every line and at every syncDue(), as the scanner's loop does: no two
// fdatasyncs less than an interval apart, and no line waits more than an interval for its sync.
TEST(WriterSync, IntervalPolicyNeverSyncsTwiceInAnIntervalNorLetsALineWaitLonger) {
  for (const unsigned seed : {1U, 2U, 3U}) {
    TempDir dir;
    SimulatedTimeSource clock;
    const auto interval = 1000ms;
    auto w = Writer::open(dir / "log.jsonl", {.fsync = FsyncPolicy::interval, .syncInterval = interval}, kNow);
    ASSERT_TRUE(w) << w.error().message;
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> gapMs(0, 2500);
    std::vector<std::chrono::steady_clock::time_point> appendedAt;  // per line
    std::vector<std::chrono::steady_clock::time_point> syncs;
    std::uint64_t durable = 0;
    std::chrono::nanoseconds worstWait{0};
    const auto end = clock.monotonicTime() + 60s;
    auto commit = [&] {
      const auto before = gSyncs;
      auto synced = (*w)->commit(clock.monotonicTime());
      ASSERT_TRUE(synced);
      EXPECT_EQ(*synced, gSyncs == before + 1);
      if (!*synced) return;
      syncs.push_back(clock.monotonicTime());
      for (; durable < (*w)->durableLines(); ++durable) {
        worstWait = std::max(worstWait, clock.monotonicTime() - appendedAt[durable]);
      }
    };
    while (clock.monotonicTime() < end) {
      auto next = clock.monotonicTime() + std::chrono::milliseconds(gapMs(rng) % 7 == 0 ? 0 : gapMs(rng));
      // The loop wakes for the deadline before the next line if there is one.
      while (const auto due = (*w)->syncDue()) {
        if (*due > next) break;
        if (*due > clock.monotonicTime()) clock.advance(*due - clock.monotonicTime());
        commit();
      }
      clock.advance(next - clock.monotonicTime());
      ASSERT_TRUE((*w)->append(checkIn(static_cast<std::uint8_t>(appendedAt.size()))));
      appendedAt.push_back(clock.monotonicTime());
      commit();
    }
    ASSERT_GT(syncs.size(), 20u);
    for (std::size_t i = 1; i < syncs.size(); ++i) {
      EXPECT_GE(syncs[i] - syncs[i - 1], interval) << "seed " << seed << ", syncs " << i - 1 << " and " << i;
    }
    EXPECT_LE(worstWait, interval) << "seed " << seed;
    EXPECT_GT(durable, 0u);
  }
}

}  // namespace
