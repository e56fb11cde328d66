// The per-advertisement hot path must not allocate in steady state: a dedup hit,
// formatting a line into a reused buffer, parsing a line into a reused record.
// Counted by replacing the global operator new in this test binary.
// GCC 12 at -O2 sees the replaced operator new's malloc through inlining and flags
// the matching free() as mismatched; the pair is consistent by construction.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <attendance/ble_scan/advertisement.hpp>
#include <attendance/dedup_cache/dedup_cache.hpp>
#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include "jsonl_log/temp_dir.hpp"
#include "scanner/pipeline.hpp"

namespace {
std::atomic<std::size_t> gAllocations{0};
}  // namespace

void* operator new(std::size_t n) {
  ++gAllocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace std::chrono_literals;
using namespace attendance;

namespace {

template <class F>
std::size_t allocationsDuring(F&& f) {
  const std::size_t before = gAllocations.load();
  f();
  return gAllocations.load() - before;
}

}  // namespace

TEST(HotPathAllocations, DedupAdmitNeverAllocatesAfterConstruction) {
  support::SimulatedTimeSource clock;
  auto cache = dedup_cache::DedupCache::create(clock, {.window = 1s, .capacity = 64}).value();
  const auto n = allocationsDuring([&] {
    for (int i = 0; i < 10000; ++i) {
      support::Uuid id;
      // 40 regulars (hits) and a stream of passers-by (misses that evict each other).
      id.bytes[15] = static_cast<std::uint8_t>(i % 5 == 0 ? 50 + i % 200 : i % 40);
      (void)cache.admit(id);
      clock.advance(1ms);
    }
  });
  EXPECT_EQ(n, 0u);
  EXPECT_GT(cache.stats().suppressed, 0u);
  EXPECT_GT(cache.stats().evictions, 0u);
}

TEST(HotPathAllocations, ParseDedupAndFormatReuseTheirBuffers) {
  ble_scan::Advertisement ad;
  std::vector<std::uint8_t> frame{0x02, 0x15};
  for (int b = 0; b < 16; ++b) frame.push_back(static_cast<std::uint8_t>(0xa0 + b));
  frame.insert(frame.end(), {0x00, 0x01, 0x00, 0x02, 0xC5});
  ad.manufacturerData.push_back({ble_scan::kAppleCompanyId, frame});
  ad.rssi = -67;
  ble_scan::ParserOptions options;
  std::vector<ble_scan::Candidate> candidates;
  candidates.reserve(ble_scan::kMaxCandidatesPerAdvertisement);
  support::SimulatedTimeSource clock;
  auto cache = dedup_cache::DedupCache::create(clock, {.window = 1s, .capacity = 64}).value();
  jsonl_log::CheckIn record;
  record.scannerId = "Entrance-Scanner-01";
  record.eventId = "evt-2026-kickoff";
  record.bootId = "0f3c2a9e-1b2d-4c5e-8f70-123456789abc";
  std::string line;
  line.reserve(512);
  jsonl_log::CheckIn parsed = record;
  std::size_t lines = 0;
  const auto n = allocationsDuring([&] {
    for (int i = 0; i < 5000; ++i) {
      candidates.clear();
      ble_scan::parseAdvertisement(ad, options, candidates);
      for (const auto& c : candidates) {
        if (!cache.admit(c.bleUuid)) continue;
        record.bleUuid = c.bleUuid;
        record.checkInTime = support::toEpochMillis(clock.systemTime());
        record.rssi = *ad.rssi;
        record.bootMs = i;
        line.clear();
        jsonl_log::appendLine(line, record);
        ++lines;
        if (jsonl_log::parseLineInto(std::string_view(line).substr(0, line.size() - 1), parsed)) std::abort();
      }
      clock.advance(1ms);
    }
  });
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(lines, 5u);  // one line per 1 s window over 5 s
  EXPECT_EQ(parsed, record);
}

TEST(HotPathAllocations, PipelineWithWriterAllocatesNothingForKnownParticipants) {
  TempDir dir;
  support::SimulatedTimeSource clock;
  scanner::SimulatedBootClock boot(clock, "0f3c2a9e-1b2d-4c5e-8f70-123456789abc", 0);
  auto writer = jsonl_log::Writer::open(dir / "log.jsonl", {.fsync = jsonl_log::FsyncPolicy::never}, 0);
  ASSERT_TRUE(writer);
  // Last-seen lines on, as the scanner runs: writing them reuses the writer's buffer too.
  scanner::PipelineOptions o{.scannerId = "Entrance-Scanner-01", .eventId = "evt-1", .dedupWindow = 1s};
  o.lastSeenInterval = 1min;
  scanner::Pipeline p(o, clock, boot, **writer);
  std::vector<support::Uuid> ids(20);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i].bytes[15] = static_cast<std::uint8_t>(i + 1);
  // Until the presence rule lets them in and their first line is written, allocations
  // are allowed (a new candidate, the first line of an id); from then on none.
  while (p.counters().logged < ids.size()) {
    for (const auto& id : ids) p.onSighting(id, -60, clock.systemTime());
    clock.advance(10ms);
  }
  const auto n = allocationsDuring([&] {
    for (int round = 0; round < 500; ++round) {
      for (const auto& id : ids) p.onSighting(id, -60, clock.systemTime());
      clock.advance(10ms);
      if (!p.tick()) std::abort();
    }
  });
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(p.counters().logged, 20u + 20u * 5);  // the first line of each, then once per 1 s window over 5 s
  EXPECT_GT(p.counters().duplicates, 9000u);
}
