// attendance-sync --follow (runFollow) beside a live writer, against the fake backend
// over loopback, on simulated time: only durable lines, backoff while the backend is
// down, catching up, stopping after the batch in flight, and the final sync after it.
#include "sync/checkpoint.hpp"
#include "sync/follow.hpp"
#include "sync/summary.hpp"
#include "sync/sync_run_fixture.hpp"

#include <attendance/jsonl_log/writer.hpp>

#include <atomic>

using namespace attendance::testing::sync_run;

namespace {

class SyncFollow : public SyncRun {
protected:
  SyncFollow() {
    env.stopRequested = [this] { return stop || clock.monotonicTime() - start > 1h; };
    start = clock.monotonicTime();
  }

  // The scanner's writer on the fixture's log: durable only when the test says so.
  std::unique_ptr<jl::Writer> openWriter() {
    auto w = jl::Writer::open(log, {.fsync = jl::FsyncPolicy::never}, kEventTime);
    EXPECT_TRUE(w) << w.error().message;
    return w ? std::move(*w) : nullptr;
  }
  static void write(jl::Writer& w, int from, int to) {
    for (int i = from; i < to; ++i) {
      jl::CheckIn r;
      r.bleUuid = *attendance::support::Uuid::parse(uuidFor(i));
      r.checkInTime = kEventTime + i * 1000;
      r.scannerId = "S1";
      r.eventId = "ev1";
      ASSERT_TRUE(w.append(r));
    }
  }

  as::SyncOptions followOptions() {
    auto o = options();
    o.follow = true;
    o.interval = 10s;
    o.maxAttempts = 1;  // the follower's rounds are the retries
    return o;
  }

  std::chrono::steady_clock::duration elapsed() const { return clock.monotonicTime() - start; }

  bool stop = false;
  std::chrono::steady_clock::time_point start;
};

}  // namespace

TEST(FollowWait, IntervalAfterSuccessBackoffCappedByTheIntervalAfterFailures) {
  EXPECT_EQ(as::followWait(10s, 0), 10s);
  EXPECT_EQ(as::followWait(10s, 1), 1s);
  EXPECT_EQ(as::followWait(10s, 2), 2s);
  EXPECT_EQ(as::followWait(10s, 4), 8s);
  EXPECT_EQ(as::followWait(10s, 5), 10s);
  EXPECT_EQ(as::followWait(10s, 1000), 10s);
  EXPECT_EQ(as::followWait(500ms, 1), 500ms);
}

TEST_F(SyncFollow, UploadsOnlyWhatTheWriterMadeDurableThenTheRestOnceItIs) {
  auto w = openWriter();
  ASSERT_TRUE(w);
  write(*w, 0, 6);
  ASSERT_TRUE(w->sync());
  write(*w, 6, 9);  // written, not yet fsynced: in the file, not durable
  bool checkedFirstRound = false;
  clock.onSleep([&](auto) {
    if (!checkedFirstRound) {
      checkedFirstRound = true;
      EXPECT_EQ(backend.rows(), expectedRows(0, 6));
      ASSERT_TRUE(w->sync());
    }
    if (backend.rows().size() == 9) stop = true;
  });
  EXPECT_EQ(run(followOptions()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 9));
  EXPECT_LE(elapsed(), 11s);  // the second round, one interval later
  EXPECT_NE(err.str().find("stopped on request"), std::string::npos) << err.str();

  // Nothing new: the final sync (scanner stopped) sends nothing.
  w.reset();
  const auto before = backend.batchRequests();
  auto o = options();
  EXPECT_EQ(run(o), as::kExitOk) << err.str();
  EXPECT_NE(out.str().find("Nothing to sync"), std::string::npos) << out.str();
  EXPECT_EQ(backend.batchRequests(), before);
}

TEST_F(SyncFollow, BackendDownForAMinuteWaitsWithBackoffAndCatchesUpWithinAnInterval) {
  auto w = openWriter();
  ASSERT_TRUE(w);
  write(*w, 0, 7);
  ASSERT_TRUE(w->sync());
  std::atomic<bool> down{true};
  std::atomic<int> answeredWhileUp{0};
  backend.before([&](std::size_t) -> std::optional<at::Reply> {
    if (!down) {
      ++answeredWhileUp;
      return std::nullopt;
    }
    at::Reply r;
    r.status = 503;
    r.body = R"({"error":"database unavailable"})";
    return r;
  });
  std::optional<std::chrono::steady_clock::duration> backAt;
  std::optional<std::chrono::steady_clock::duration> doneAt;
  clock.onSleep([&](auto) {
    if (!backAt && elapsed() >= 60s) {
      down = false;
      backAt = elapsed();
    }
    if (backAt && !doneAt && backend.rows().size() == 7) {
      doneAt = elapsed();
      stop = true;
    }
  });
  EXPECT_EQ(run(followOptions()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 7));
  ASSERT_TRUE(backAt && doneAt);
  EXPECT_LE(*doneAt - *backAt, 10s);
  EXPECT_EQ(answeredWhileUp.load(), 2);  // 5 + 2: each batch once the backend answers
  // Backoff: the failed rounds came at 0, 1, 3, 7, 15, 25, 35, … s, not every 250 ms.
  const auto failures = backend.batchRequests() - 2;
  EXPECT_GE(failures, 7u);
  EXPECT_LE(failures, 10u);
  EXPECT_NE(err.str().find("upload failed, trying again in 1 s"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("upload failed again (2 times in a row), trying again in 2 s"), std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find("trying again in 10 s"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("caught up"), std::string::npos) << err.str();
}

TEST_F(SyncFollow, StopsAfterTheBatchInFlightAndTheFinalSyncSendsOnlyTheRest) {
  auto w = openWriter();
  ASSERT_TRUE(w);
  write(*w, 0, 12);
  ASSERT_TRUE(w->sync());
  env.stopRequested = [this] { return backend.batchRequests() >= 1; };
  EXPECT_EQ(run(followOptions()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.batchRequests(), 1u);
  EXPECT_EQ(backend.rows(), expectedRows(0, 5));

  // The scanner goes on, then stops; the end-of-event sync sends what is left, once.
  write(*w, 12, 14);
  ASSERT_TRUE(w->sync());
  w.reset();
  env.stopRequested = nullptr;
  EXPECT_EQ(run(options()), as::kExitOk) << err.str();
  EXPECT_TRUE(hasRow(out.str(), "records sent", 9)) << out.str();
  EXPECT_TRUE(hasRow(out.str(), "duplicates", 0)) << out.str();
  EXPECT_EQ(backend.rows(), expectedRows(0, 14));
}

TEST_F(SyncFollow, ALogWithoutTheWritersMarkIsNotReadAndTheFollowerSaysWhy) {
  appendRecords(0, 5);  // written by something else: nothing says it is durable
  clock.onSleep([&](auto) { stop = elapsed() >= 30s; });
  EXPECT_EQ(run(followOptions()), as::kExitOk) << err.str();
  EXPECT_EQ(backend.batchRequests(), 0u);
  const std::string e = err.str();
  const auto first = e.find("waiting: no durable-offset mark");
  EXPECT_NE(first, std::string::npos) << e;
  EXPECT_EQ(e.find("waiting:", first + 1), std::string::npos) << "said once: " << e;
}

TEST_F(SyncFollow, AnEventConflictStopsTheFollowerWithAUsageError) {
  auto w = openWriter();
  ASSERT_TRUE(w);
  write(*w, 0, 3);
  ASSERT_TRUE(w->sync());
  auto o = followOptions();
  o.eventId = "other";
  EXPECT_EQ(run(o), as::kExitUsage);
  EXPECT_EQ(backend.batchRequests(), 0u);
}

TEST_F(SyncFollow, RefusesDryRunAllAndStopScanner) {
  auto o = followOptions();
  o.all = true;
  EXPECT_EQ(run(o), as::kExitUsage);
  EXPECT_NE(err.str().find("--follow cannot be combined"), std::string::npos) << err.str();
}
