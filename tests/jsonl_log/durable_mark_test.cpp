// The durable-offset watermark (docs/adr/0053-durable-offset-watermark.md): what a
// reader without the lock (attendance-sync --follow) may trust of a live log.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <attendance/jsonl_log/durable_mark.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include "jsonl_log/log_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
namespace jl = attendance::jsonl_log;
using attendance::testing::TempDir;
using attendance::testing::writeFile;

namespace {

constexpr std::int64_t kNow = attendance::testing::kLogOpenedAt;
constexpr auto record = attendance::testing::numberedCheckIn;

jl::DurableMark markOf(const std::filesystem::path& log) {
  auto mark = jl::readDurableMark(jl::durableMarkPathFor(log));
  if (!mark) ADD_FAILURE() << mark.error().message;
  if (!mark || !*mark) return {};
  return **mark;
}

}  // namespace

TEST(DurableMark, FormatsAndParsesStrictly) {
  const jl::DurableMark m{2049, 1234567, 22110, 201};
  const std::string text = jl::formatDurableMark(m);
  EXPECT_EQ(text, "{\"device\":2049,\"inode\":1234567,\"offset\":22110,\"lines\":201}\n");
  EXPECT_EQ(jl::parseDurableMark(text), m);
  EXPECT_FALSE(jl::parseDurableMark(""));
  EXPECT_FALSE(jl::parseDurableMark("{\"device\":2049,\"inode\":1234567,\"offset\":22110}\n"));
  EXPECT_FALSE(jl::parseDurableMark("{\"device\":2049,\"inode\":1234567,\"offset\":-1,\"lines\":201}\n"));
  EXPECT_FALSE(jl::parseDurableMark(text + "x"));
  EXPECT_EQ(jl::durableMarkPathFor("/a/log.jsonl"), std::filesystem::path("/a/log.jsonl.durable"));
}

TEST(DurableMark, MissingIsNothingAndGarbageIsAnError) {
  TempDir dir;
  auto missing = jl::readDurableMark(dir / "none.durable");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  writeFile(dir / "bad.durable", "garbage");
  EXPECT_FALSE(jl::readDurableMark(dir / "bad.durable"));
}

TEST(DurableMark, TheWriterPublishesOnlyWhatItHasFsynced) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  auto opened = jl::Writer::open(log, {.fsync = jl::FsyncPolicy::interval, .syncInterval = 1000ms}, kNow);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& w = *opened;
  struct stat st {};
  ASSERT_EQ(::stat(log.c_str(), &st), 0);
  // A new log: durable and empty.
  EXPECT_EQ(markOf(log), (jl::DurableMark{static_cast<std::uint64_t>(st.st_dev), st.st_ino, 0, 0}));

  const auto t0 = std::chrono::steady_clock::time_point{} + 10s;
  ASSERT_TRUE(w->append(record(0)));
  ASSERT_TRUE(w->commit(t0));  // the first line after a quiet interval: synced at once
  EXPECT_EQ(markOf(log).lines, 1u);
  ASSERT_TRUE(w->append(record(1)));
  ASSERT_TRUE(w->commit(t0 + 500ms));  // within the interval: not yet due, nothing new is durable
  EXPECT_EQ(markOf(log).lines, 1u);
  EXPECT_LT(markOf(log).offset, std::filesystem::file_size(log));
  ASSERT_TRUE(w->commit(t0 + 1s));
  EXPECT_EQ(markOf(log).offset, w->durableOffset());
  EXPECT_EQ(markOf(log).lines, 2u);
  EXPECT_EQ(markOf(log).offset, std::filesystem::file_size(log));

  ASSERT_TRUE(w->append(record(2)));
  EXPECT_EQ(markOf(log).lines, 2u);
  ASSERT_TRUE(w->sync());
  EXPECT_EQ(markOf(log).lines, 3u);
  EXPECT_EQ(markOf(log).offset, std::filesystem::file_size(log));
}

TEST(DurableMark, ReopeningPublishesEverythingRecoveryKept) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  writeFile(log, jl::formatLine(record(0)) + jl::formatLine(record(1)) + "{\"torn");
  auto w = jl::Writer::open(log, {}, kNow);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(markOf(log).lines, 2u);
  EXPECT_EQ(markOf(log).offset, std::filesystem::file_size(log));
}

TEST(DurableMark, WithFsyncAlwaysTheMarkIsPublishedAtMostEvery200MsAndTheDeadlineSaysWhen) {
  TempDir dir;
  const auto log = dir / "log.jsonl";
  auto opened = jl::Writer::open(log, {.fsync = jl::FsyncPolicy::always}, kNow);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& w = *opened;
  const auto t0 = std::chrono::steady_clock::time_point{} + 10s;
  ASSERT_TRUE(w->append(record(0)));
  ASSERT_TRUE(w->commit(t0));
  EXPECT_EQ(markOf(log).lines, 1u);  // the first one at once
  ASSERT_TRUE(w->append(record(1)));
  ASSERT_TRUE(w->commit(t0 + 50ms));  // durable, but the mark waits: a rename per fsync costs the hot path
  EXPECT_EQ(w->durableLines(), 2u);
  EXPECT_EQ(markOf(log).lines, 1u);
  EXPECT_EQ(w->syncDue(), t0 + 200ms);  // the scanner's loop wakes up for it
  ASSERT_TRUE(w->commit(t0 + 200ms));
  EXPECT_EQ(markOf(log).lines, 2u);
  EXPECT_FALSE(w->syncDue());
  ASSERT_TRUE(w->append(record(2)));
  ASSERT_TRUE(w->commit(t0 + 250ms));
  ASSERT_TRUE(w->sync());  // shutdown: published at once
  EXPECT_EQ(markOf(log).lines, 3u);
}
