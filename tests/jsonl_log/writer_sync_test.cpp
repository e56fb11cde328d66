// What the writer hands to fdatasync: this test is linked with -Wl,--wrap=fdatasync,
// so every fdatasync of the jsonl_log library lands in the counter below first.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <attendance/jsonl_log/writer.hpp>
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

using attendance::jsonl_log::FsyncPolicy;
using attendance::jsonl_log::Writer;
using attendance::testing::TempDir;

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

}  // namespace
