// attendance-sync --follow end to end: the real binary beside a writer that holds the
// log's lock the way the scanner does, the real backend on PostgreSQL, stopped and
// started again on the same port; then the end-of-event sync.
#include "sync/sync_e2e_fixture.hpp"

#include <attendance/jsonl_log/writer.hpp>

#include <thread>

using namespace attendance::testing::sync_e2e;

namespace {

// Polls `done` until it holds or `deadline` passes (no fixed sleeps as synchronisation).
template <class F>
bool within(std::chrono::milliseconds deadline, F done) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

}  // namespace

class SyncFollowEndToEnd : public SyncEndToEnd {
protected:
  // Arrivals from..to-1 through the writer; durable when `fsync`.
  void arrive(jl::Writer& w, int from, int to, bool fsync = true) {
    jl::CheckIn r;
    r.scannerId = "Entrance-01";
    r.eventId = kEvent;
    for (int i = from; i < to; ++i) {
      r.bleUuid = unknownDevice(i);
      r.checkInTime = kStart + i * 1000;
      ASSERT_TRUE(w.append(r));
      expected.insert(r.bleUuid.toString() + "|" + std::to_string(r.checkInTime));
    }
    if (fsync) {
      ASSERT_TRUE(w.sync());
    }
  }
  std::string followerLog() const {
    std::ifstream in(dir.path() / "follower-stderr.txt");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

TEST_F(SyncFollowEndToEnd, LiveWhileTheBackendIsUpCatchesUpAfterAnOutageAndTheFinalSyncSendsNothingTwice) {
  auto opened = jl::Writer::open(log, {.fsync = jl::FsyncPolicy::never}, kStart);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& writer = *opened;
  arrive(*writer, 0, 10);

  // The defaults a follower runs with (--retries 2), not syncArgs' patient ones.
  at::Child follower({kSyncBin, "--follow", "--interval", "0.5s", "--batch-size", "4", "--backend", direct(backendPort),
                      "--api-key-file", keyFile.string(), "--log", log.string(), "--request-timeout", "1"},
                     {}, dir.path() / "follower-stderr.txt");
  ASSERT_TRUE(within(15s, [&] { return storedRows() == expected; })) << followerLog();

  // Written but not fsynced stays on the Pi; once durable it follows.
  arrive(*writer, 10, 15, false);
  arrive(*writer, 15, 20, false);
  ASSERT_TRUE(writer->sync());
  ASSERT_TRUE(within(15s, [&] { return storedRows() == expected; })) << followerLog();

  // The backend goes away; arrivals go on; the follower retries with backoff.
  const auto port = backendPort;
  backend->kill(SIGTERM);
  ASSERT_EQ(backend->wait(30s), 0);
  backend.reset();
  arrive(*writer, 20, 30);
  ASSERT_TRUE(within(15s, [&] {
    const auto text = followerLog();
    return text.find("upload failed again (3 times in a row)") != std::string::npos;
  })) << followerLog();
  startBackend(port);
  ASSERT_TRUE(within(15s, [&] { return storedRows() == expected; })) << followerLog();
  // The rows are committed before the follower reads the answer and says so: wait for the words.
  EXPECT_TRUE(within(15s, [&] { return followerLog().find("caught up") != std::string::npos; })) << followerLog();

  follower.kill(SIGTERM);
  EXPECT_EQ(follower.wait(30s), 0) << followerLog();
  EXPECT_NE(followerLog().find("stopped on request"), std::string::npos) << followerLog();

  // The scanner writes a little more and stops; the end-of-event sync sends only that.
  arrive(*writer, 30, 33);
  writer.reset();
  auto r = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("records sent                        3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("duplicates                          0\n"), std::string::npos) << r.out;
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 33);
}
