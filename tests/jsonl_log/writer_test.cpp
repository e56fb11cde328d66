#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <attendance/jsonl_log/lock.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include "jsonl_log/log_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using attendance::jsonl_log::CheckIn;
using attendance::jsonl_log::formatLine;
using attendance::jsonl_log::FsyncPolicy;
using attendance::jsonl_log::probeLock;
using attendance::jsonl_log::Writer;
using attendance::jsonl_log::WriterOptions;
using attendance::support::Uuid;
using attendance::testing::readFile;
using attendance::testing::TempDir;
using attendance::testing::writeFile;

namespace {

constexpr std::int64_t kNow = attendance::testing::kLogOpenedAt;

// With the optional rssi and a longer scanner id than the numbered default.
CheckIn record(int n) {
  CheckIn c = attendance::testing::numberedCheckIn(n);
  c.scannerId = "Entrance-Scanner-01";
  c.rssi = -60 - n % 20;
  return c;
}

std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += formatLine(record(i));
  return s;
}

std::unique_ptr<Writer> openOrDie(const std::filesystem::path& p, WriterOptions o = {}) {
  auto w = Writer::open(p, o, kNow);
  if (!w) ADD_FAILURE() << w.error().message;
  return w ? std::move(*w) : nullptr;
}

// A child process that holds the writer lock until told to exit.
class LockHoldingChild {
public:
  explicit LockHoldingChild(const std::filesystem::path& log) {
    int ready[2];
    int release[2];
    EXPECT_EQ(::pipe(ready), 0);
    EXPECT_EQ(::pipe(release), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      auto w = Writer::open(log, {}, kNow);
      const char ok = w ? 'y' : 'n';
      (void)!::write(ready[1], &ok, 1);
      char c;
      (void)!::read(release[0], &c, 1);
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_ = release[1];
    char ok = 'n';
    EXPECT_EQ(::read(ready[0], &ok, 1), 1);
    EXPECT_EQ(ok, 'y');
    ::close(ready[0]);
  }
  ~LockHoldingChild() {
    ::close(release_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  [[nodiscard]] pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
  int release_ = -1;
};

}  // namespace

TEST(Writer, CreatesAppendsAndReopensWhereItLeftOff) {
  TempDir dir;
  const auto log = dir / "attendance_log.jsonl";
  {
    auto w = openOrDie(log);
    ASSERT_TRUE(w);
    EXPECT_TRUE(w->recovery().created);
    for (int i = 0; i < 3; ++i) {
      const auto a = w->append(record(i));
      ASSERT_TRUE(a) << a.error().message;
      EXPECT_EQ(a->lineNumber, static_cast<std::uint64_t>(i + 1));
    }
    ASSERT_TRUE(w->sync());
    EXPECT_EQ(w->durableLines(), 3u);
    EXPECT_EQ(w->durableOffset(), lines(0, 3).size());
  }
  EXPECT_EQ(readFile(log), lines(0, 3));
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->recovery().created);
  EXPECT_EQ(w->recovery().keptLines, 3u);
  EXPECT_EQ(w->recovery().records, 3u);
  EXPECT_TRUE(w->recovery().quarantineFile.empty());
  const auto a = w->append(record(3));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->lineNumber, 4u);
  EXPECT_EQ(a->startOffset, lines(0, 3).size());
  EXPECT_EQ(readFile(log), lines(0, 4));
}

TEST(Writer, SecondWriterOnAnotherDescriptorIsRefusedNamingThePid) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  auto first = openOrDie(log);
  ASSERT_TRUE(first);
  const auto second = Writer::open(log, {}, kNow);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code.value(), EWOULDBLOCK);
  EXPECT_NE(second.error().message.find("is locked by PID " + std::to_string(::getpid())), std::string::npos)
      << second.error().message;
}

TEST(Writer, SecondWriterInAnotherProcessIsRefusedAndProbeSeesTheHolder) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  {
    const auto probe = probeLock(log);
    ASSERT_TRUE(probe);
    EXPECT_FALSE(probe->held);  // no file yet
  }
  {
    LockHoldingChild child(log);
    const auto second = Writer::open(log, {}, kNow);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("PID " + std::to_string(child.pid())), std::string::npos)
        << second.error().message;
    const auto probe = probeLock(log);
    ASSERT_TRUE(probe);
    EXPECT_TRUE(probe->held);
    EXPECT_EQ(probe->pid, child.pid());
  }
  const auto probe = probeLock(log);
  ASSERT_TRUE(probe);
  EXPECT_FALSE(probe->held);
  EXPECT_TRUE(Writer::open(log, {}, kNow));
}

TEST(Writer, LockWaitRidesOutAHolderThatGoesAway) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  int release[2];
  ASSERT_EQ(::pipe(release), 0);
  const int holder = ::open(log.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(holder, 0);
  ASSERT_EQ(::flock(holder, LOCK_EX), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Releases the parent's lock (same open file description) once the parent is waiting.
    char c;
    (void)!::read(release[0], &c, 1);
    ::usleep(200'000);
    ::flock(holder, LOCK_UN);
    ::_exit(0);
  }
  EXPECT_FALSE(Writer::open(log, {.lockWait = 0ms}, kNow));
  (void)!::write(release[1], "x", 1);
  const auto w = Writer::open(log, {.lockWait = 10000ms}, kNow);
  EXPECT_TRUE(w) << w.error().message;
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(holder);
  ::close(release[0]);
  ::close(release[1]);
}

TEST(Writer, TornTailIsQuarantinedAndValidLinesKept) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string good = lines(0, 5);
  const std::string torn = formatLine(record(5)).substr(0, 40);
  writeFile(log, good + torn);
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  const auto& rec = w->recovery();
  EXPECT_EQ(rec.keptLines, 5u);
  EXPECT_EQ(rec.keptBytes, good.size());
  EXPECT_EQ(rec.quarantinedBytes, torn.size());
  EXPECT_EQ(rec.quarantineFile, log.string() + ".quarantine-" + std::to_string(kNow));
  EXPECT_EQ(readFile(rec.quarantineFile), torn);
  EXPECT_EQ(readFile(log), good);
  ASSERT_TRUE(w->append(record(6)));
  EXPECT_EQ(readFile(log), good + formatLine(record(6)));  // not glued to the torn bytes
}

TEST(Writer, NulFilledTailAfterPowerLossIsQuarantined) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string good = lines(0, 3);
  const std::string nuls(4096, '\0');
  writeFile(log, good + nuls);
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->recovery().quarantinedBytes, 4096u);
  EXPECT_EQ(readFile(w->recovery().quarantineFile), nuls);
  EXPECT_EQ(readFile(log), good);
}

TEST(Writer, GarbageLinesAtTheEndAreQuarantinedButBadLinesInTheMiddleStay) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string content = lines(0, 2) + "not json\n" + lines(2, 4) + "garbage\n{\"half\":\n\x01\x02";
  writeFile(log, content);
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  const std::string kept = lines(0, 2) + "not json\n" + lines(2, 4);
  EXPECT_EQ(readFile(log), kept);
  EXPECT_EQ(w->recovery().keptLines, 5u);
  EXPECT_EQ(w->recovery().records, 4u);
  EXPECT_EQ(w->recovery().badLines, 1u);
  EXPECT_EQ(readFile(w->recovery().quarantineFile), "garbage\n{\"half\":\n\x01\x02");
}

TEST(Writer, ValidLastLineMissingItsNewlineIsCompletedNotDropped) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  std::string last = formatLine(record(2));
  last.pop_back();
  writeFile(log, lines(0, 2) + last);
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->recovery().completedLastLine);
  EXPECT_TRUE(w->recovery().quarantineFile.empty());
  EXPECT_EQ(w->recovery().keptLines, 3u);
  ASSERT_TRUE(w->append(record(3)));
  EXPECT_EQ(readFile(log), lines(0, 4));
}

// An operator may point our scanner at a log the original Python scanner started:
// its three-key lines are valid records, so recovery keeps them all.
TEST(Writer, ALogStartedByTheOriginalScannerIsKeptWholeAndAppendedTo) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string python =
      R"({"bleUuid": "a1000000-0000-4000-8000-000000000001", "checkInTime": 1721471400000, "scannerId": "Entrance-Scanner-01"})"
      "\n"
      R"({"bleUuid": "a1000000-0000-4000-8000-000000000002", "checkInTime": 1721471405000, "scannerId": "Entrance-Scanner-01"})"
      "\n";
  writeFile(log, python);
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->recovery().quarantineFile.empty());
  EXPECT_EQ(w->recovery().records, 2u);
  EXPECT_EQ(w->recovery().keptBytes, python.size());
  ASSERT_TRUE(w->append(record(3)));
  EXPECT_EQ(readFile(log), python + formatLine(record(3)));
}

TEST(Writer, AllGarbageFileIsQuarantinedWhole) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  writeFile(log, "hello\nworld");
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  EXPECT_EQ(readFile(log), "");
  EXPECT_EQ(readFile(w->recovery().quarantineFile), "hello\nworld");
  EXPECT_EQ(w->lines(), 0u);
}

TEST(Writer, SecondQuarantineInTheSameMillisecondGetsItsOwnFile) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  writeFile(log, lines(0, 1) + "torn1");
  { ASSERT_TRUE(openOrDie(log)); }
  std::ofstream(log, std::ios::app) << "torn2";
  auto w = openOrDie(log);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->recovery().quarantineFile, log.string() + ".quarantine-" + std::to_string(kNow) + "-1");
  EXPECT_EQ(readFile(log.string() + ".quarantine-" + std::to_string(kNow)), "torn1");
  EXPECT_EQ(readFile(w->recovery().quarantineFile), "torn2");
}

TEST(Writer, IntervalPolicyGroupsLinesIntoOneSyncPerInterval) {
  TempDir dir;
  auto w = openOrDie(dir / "log.jsonl", {.fsync = FsyncPolicy::interval, .syncInterval = 1000ms});
  ASSERT_TRUE(w);
  const auto t0 = std::chrono::steady_clock::time_point{} + 10s;
  ASSERT_TRUE(w->append(record(0)));
  auto synced = w->commit(t0);  // nothing synced within the last interval: at once (leading edge)
  ASSERT_TRUE(synced);
  EXPECT_TRUE(*synced);
  EXPECT_EQ(w->durableLines(), 1u);
  EXPECT_FALSE(w->syncDue());
  ASSERT_TRUE(w->append(record(1)));
  EXPECT_EQ(w->syncDue(), t0 + 1000ms);
  synced = w->commit(t0 + 1ms);
  ASSERT_TRUE(synced);
  EXPECT_FALSE(*synced);
  ASSERT_TRUE(w->append(record(2)));
  synced = w->commit(t0 + 999ms);
  ASSERT_TRUE(synced);
  EXPECT_FALSE(*synced);
  EXPECT_EQ(w->durableLines(), 1u);
  synced = w->commit(t0 + 1000ms);
  ASSERT_TRUE(synced);
  EXPECT_TRUE(*synced);
  EXPECT_EQ(w->durableLines(), 3u);
  EXPECT_FALSE(w->syncDue());
  synced = w->commit(t0 + 5000ms);  // nothing new
  ASSERT_TRUE(synced);
  EXPECT_FALSE(*synced);
}

TEST(Writer, AlwaysPolicySyncsEveryCommitAndNeverOnlyOnRequest) {
  TempDir dir;
  const auto now = std::chrono::steady_clock::time_point{};
  {
    auto w = openOrDie(dir / "a.jsonl", {.fsync = FsyncPolicy::always});
    ASSERT_TRUE(w->append(record(0)));
    ASSERT_TRUE(w->append(record(1)));
    EXPECT_EQ(w->durableLines(), 0u);
    const auto synced = w->commit(now);
    ASSERT_TRUE(synced);
    EXPECT_TRUE(*synced);
    EXPECT_EQ(w->durableLines(), 2u);
  }
  auto w = openOrDie(dir / "n.jsonl", {.fsync = FsyncPolicy::never});
  ASSERT_TRUE(w->append(record(0)));
  const auto synced = w->commit(now + 1h);
  ASSERT_TRUE(synced);
  EXPECT_FALSE(*synced);
  EXPECT_EQ(w->durableLines(), 0u);
  ASSERT_TRUE(w->sync());
  EXPECT_EQ(w->durableLines(), 1u);
}

// The file-size limit makes the kernel refuse (EFBIG) or shorten a write exactly
// like a full disk does, without root or a tiny filesystem. Runs in a child so the
// limit cannot leak into other tests.
TEST(Writer, WriteErrorLeavesNoTornLineAndWritingResumesWhenSpaceReturns) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  const std::string before = lines(0, 2);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    auto w = Writer::open(log, {}, kNow);
    if (!w) ::_exit(10);
    for (int i = 0; i < 2; ++i) {
      if (!(*w)->append(record(i))) ::_exit(11);
    }
    rlimit lim{};
    ::getrlimit(RLIMIT_FSIZE, &lim);
    rlimit small = lim;
    small.rlim_cur = before.size() + 20;  // room for only part of the next line
    if (::setrlimit(RLIMIT_FSIZE, &small) != 0) ::_exit(12);
    const auto failed = (*w)->append(record(2));
    if (failed) ::_exit(13);
    if (failed.error().code.value() != EFBIG) ::_exit(14);
    if ((*w)->endOffset() != before.size() || (*w)->lines() != 2) ::_exit(15);
    if (std::filesystem::file_size(log) != before.size()) ::_exit(16);  // cut back
    if ((*w)->append(record(3))) ::_exit(17);                           // still no room: still refused
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(18);
    const auto ok = (*w)->append(record(2));
    if (!ok || ok->lineNumber != 3) ::_exit(19);
    if (!(*w)->sync()) ::_exit(20);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "child step failed";
  EXPECT_EQ(readFile(log), lines(0, 3));
}

TEST(Writer, ErrorMessagesNameTheFile) {
  TempDir dir;
  const auto w = Writer::open(dir / "missing-dir" / "log.jsonl", {}, kNow);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code.value(), ENOENT);
  EXPECT_NE(w.error().message.find("missing-dir/log.jsonl"), std::string::npos) << w.error().message;
  const auto d = Writer::open(dir.path(), {}, kNow);
  ASSERT_FALSE(d);
}

TEST(FsyncPolicy, ParsesTheThreeNames) {
  EXPECT_EQ(attendance::jsonl_log::parseFsyncPolicy("always"), FsyncPolicy::always);
  EXPECT_EQ(attendance::jsonl_log::parseFsyncPolicy("interval"), FsyncPolicy::interval);
  EXPECT_EQ(attendance::jsonl_log::parseFsyncPolicy("never"), FsyncPolicy::never);
  EXPECT_FALSE(attendance::jsonl_log::parseFsyncPolicy("sometimes"));
}
