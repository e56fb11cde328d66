// WriterOptions::mirror (issue 14 §2): every line also to a second file with the same
// durability rules; a failing copy never stops the other; reopening restores both
// from the longest valid copy.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <attendance/jsonl_log/reader.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include "jsonl_log/log_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
namespace jl = attendance::jsonl_log;
using attendance::testing::readFile;
using attendance::testing::TempDir;
using attendance::testing::writeFile;

namespace {

constexpr std::int64_t kNow = attendance::testing::kLogOpenedAt;
constexpr auto record = attendance::testing::numberedCheckIn;

std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += jl::formatLine(record(i));
  return s;
}

// The card goes bad under the writer: every later write to `file` fails (EBADF),
// as a lost or dead SD card makes them fail with EIO.
void breakWritesTo(const std::filesystem::path& file) {
  const auto target = std::filesystem::canonical(file);
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(e.path(), ec) != target) continue;
    const int fd = std::stoi(e.path().filename().string());
    const int readOnly = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(::dup2(readOnly, fd), 0);
    ::close(readOnly);
    return;
  }
  FAIL() << "no descriptor open on " << file;
}

std::unique_ptr<jl::Writer> openWithMirror(const std::filesystem::path& log, const std::filesystem::path& mirror) {
  auto w = jl::Writer::open(log, {.fsync = jl::FsyncPolicy::always, .mirror = mirror}, kNow);
  if (!w) ADD_FAILURE() << w.error().message;
  return w ? std::move(*w) : nullptr;
}

void append(jl::Writer& w, int from, int to) {
  for (int i = from; i < to; ++i) ASSERT_TRUE(w.append(record(i))) << i;
  ASSERT_TRUE(w.sync());
}

}  // namespace

TEST(Mirror, EveryLineGoesToBothCopiesDurably) {
  TempDir dir;
  auto refused = jl::Writer::open(dir / "log.jsonl", {.mirror = dir / "usb" / "log.jsonl"}, kNow);
  ASSERT_FALSE(refused) << "a mirror that cannot be opened is refused at start";
  EXPECT_EQ(refused.error().message.rfind("mirror: cannot open log " + (dir / "usb").string(), 0), 0u)
      << refused.error().message;
  std::filesystem::create_directory(dir / "usb");
  auto w = openWithMirror(dir / "log.jsonl", dir / "usb" / "log.jsonl");
  ASSERT_TRUE(w);
  append(*w, 0, 5);
  EXPECT_EQ(readFile(dir / "log.jsonl"), lines(0, 5));
  EXPECT_EQ(readFile(dir / "usb" / "log.jsonl"), lines(0, 5));
  EXPECT_EQ(w->mirrorState(), jl::CopyState::ok);
  EXPECT_EQ(w->primaryState(), jl::CopyState::ok);
}

TEST(Mirror, AFailingMirrorNeverStopsThePrimary) {
  TempDir dir;
  std::filesystem::create_directory(dir / "usb");
  auto w = openWithMirror(dir / "log.jsonl", dir / "usb" / "log.jsonl");
  ASSERT_TRUE(w);
  append(*w, 0, 3);
  breakWritesTo(dir / "usb" / "log.jsonl");
  append(*w, 3, 6);
  EXPECT_EQ(w->mirrorState(), jl::CopyState::failed);
  EXPECT_NE(w->mirrorError().find("usb"), std::string::npos) << w->mirrorError();
  EXPECT_FALSE(w->broken());
  EXPECT_EQ(readFile(dir / "log.jsonl"), lines(0, 6));
  EXPECT_EQ(readFile(dir / "usb" / "log.jsonl"), lines(0, 3));  // a prefix: never a line out of order
}

TEST(Mirror, AFailingPrimaryWithAWorkingMirrorKeepsTheEventGoing) {
  TempDir dir;
  std::filesystem::create_directory(dir / "usb");
  auto w = openWithMirror(dir / "log.jsonl", dir / "usb" / "log.jsonl");
  ASSERT_TRUE(w);
  append(*w, 0, 3);
  breakWritesTo(dir / "log.jsonl");
  append(*w, 3, 8);
  EXPECT_EQ(w->primaryState(), jl::CopyState::failed);
  EXPECT_FALSE(w->primaryError().empty());
  EXPECT_FALSE(w->broken());
  EXPECT_EQ(w->durableLines(), 8u);
  EXPECT_EQ(readFile(dir / "usb" / "log.jsonl"), lines(0, 8));
}

TEST(Mirror, BothFailingIsAFailedAppendAsWithoutAMirror) {
  TempDir dir;
  std::filesystem::create_directory(dir / "usb");
  auto w = openWithMirror(dir / "log.jsonl", dir / "usb" / "log.jsonl");
  ASSERT_TRUE(w);
  append(*w, 0, 2);
  breakWritesTo(dir / "log.jsonl");
  breakWritesTo(dir / "usb" / "log.jsonl");
  EXPECT_FALSE(w->append(record(2)));
}

TEST(Mirror, ReopeningTakesTheLongestValidCopyForBoth) {
  TempDir dir;
  std::filesystem::create_directory(dir / "usb");
  const auto log = dir / "log.jsonl";
  const auto mirror = dir / "usb" / "log.jsonl";
  {
    auto w = openWithMirror(log, mirror);
    ASSERT_TRUE(w);
    append(*w, 0, 4);
    breakWritesTo(log);
    append(*w, 4, 9);
  }
  // The Pi's card is replaced (the primary is gone); the restarted scanner gets it all back.
  std::filesystem::remove(log);
  {
    auto w = openWithMirror(log, mirror);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->lines(), 9u);
    append(*w, 9, 10);
  }
  EXPECT_EQ(readFile(log), lines(0, 10));
  EXPECT_EQ(readFile(mirror), lines(0, 10));

  // The mirror is shorter (the stick was full) and ends in a torn line: completed from the primary.
  writeFile(mirror, lines(0, 6) + "{\"bleUuid\":\"c3");
  {
    auto w = openWithMirror(log, mirror);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->lines(), 10u);
  }
  EXPECT_EQ(readFile(mirror), lines(0, 10));

  // Copies that disagree: the longer valid one wins, the other is quarantined whole.
  writeFile(log, lines(20, 23));
  {
    auto w = openWithMirror(log, mirror);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->lines(), 10u);
  }
  EXPECT_EQ(readFile(log), lines(0, 10));
  EXPECT_EQ(readFile(log.string() + ".quarantine-" + std::to_string(kNow)), lines(20, 23));
}

TEST(Mirror, EveryDurableCheckInIsReadExactlyOnceFromTheSurvivingCopy) {
  TempDir dir;
  std::filesystem::create_directory(dir / "usb");
  const auto log = dir / "log.jsonl";
  const auto mirror = dir / "usb" / "log.jsonl";
  auto w = openWithMirror(log, mirror);
  ASSERT_TRUE(w);
  append(*w, 0, 5);
  breakWritesTo(log);
  std::filesystem::remove(log);  // the card is gone mid-event
  append(*w, 5, 12);
  auto reader = jl::Reader::open(mirror);
  ASSERT_TRUE(reader);
  std::vector<std::uint64_t> times;
  jl::LogLine line;
  while (true) {
    auto more = reader->next(line);
    ASSERT_TRUE(more);
    if (!*more) break;
    ASSERT_EQ(line.kind, jl::LogLine::Kind::record);
    times.push_back(static_cast<std::uint64_t>(line.record.checkInTime));
  }
  ASSERT_EQ(times.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(times[static_cast<std::size_t>(i)], 1721471400000u + i);
}
