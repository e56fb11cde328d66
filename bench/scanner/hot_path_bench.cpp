// Per-advertisement hot path of attendance-scanner: parse the BlueZ advertisement
// data, ask the dedup cache, format the log line (the write itself is measured in
// append_bench.cpp). Goal: >= 2 million advertisements per second on one core.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <attendance/ble_scan/advertisement.hpp>
#include <attendance/dedup_cache/dedup_cache.hpp>
#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/support/clock.hpp>

namespace {

using namespace attendance;

std::vector<ble_scan::Advertisement> makeAdvertisements(std::size_t devices) {
  std::vector<ble_scan::Advertisement> ads(devices);
  for (std::size_t i = 0; i < devices; ++i) {
    std::vector<std::uint8_t> data{0x02, 0x15};
    for (int b = 0; b < 16; ++b) data.push_back(static_cast<std::uint8_t>((i * 2654435761u) >> (b % 4 * 8)) ^ b);
    data.insert(data.end(), {0x00, 0x01, 0x00, 0x02, 0xC5});
    ads[i].manufacturerData.push_back({ble_scan::kAppleCompanyId, data});
    ads[i].rssi = static_cast<std::int16_t>(-60 - static_cast<int>(i % 30));
  }
  return ads;
}

// `devices` phones advertising round-robin; a window long enough that after the
// first round every advertisement is a duplicate (the steady state at a venue),
// and a 1 ms window (each phone is seen again 20 s later) where every
// advertisement produces a line.
void hotPath(benchmark::State& state, std::chrono::milliseconds window) {
  const auto devices = static_cast<std::size_t>(state.range(0));
  const auto ads = makeAdvertisements(devices);
  support::SimulatedTimeSource clock;
  auto cache = dedup_cache::DedupCache::create(clock, {.window = window, .capacity = 16384}).value();
  ble_scan::ParserOptions options;
  std::vector<ble_scan::Candidate> candidates;
  candidates.reserve(ble_scan::kMaxCandidatesPerAdvertisement);
  std::string line;
  line.reserve(512);
  jsonl_log::CheckIn record;
  record.scannerId = "Entrance-Scanner-01";
  record.eventId = "evt-2026-kickoff";
  record.bootId = "0f3c2a9e-1b2d-4c5e-8f70-123456789abc";
  std::size_t i = 0;
  std::uint64_t lines = 0;
  for (auto _ : state) {
    const auto& ad = ads[i];
    if (++i == devices) i = 0;
    clock.advance(std::chrono::milliseconds{2});
    candidates.clear();
    ble_scan::parseAdvertisement(ad, options, candidates);
    for (const auto& c : candidates) {
      if (!cache.admit(c.bleUuid)) continue;
      record.bleUuid = c.bleUuid;
      record.checkInTime = support::toEpochMillis(clock.systemTime());
      record.rssi = ad.rssi ? std::optional<int>(*ad.rssi) : std::nullopt;
      record.bootMs = 123456;
      line.clear();
      jsonl_log::appendLine(line, record);
      ++lines;
    }
    benchmark::DoNotOptimize(line.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["lines"] = benchmark::Counter(static_cast<double>(lines));
}

void BM_HotPath_SteadyStateDuplicates(benchmark::State& state) { hotPath(state, std::chrono::hours{1}); }
void BM_HotPath_EveryAdvertisementLogged(benchmark::State& state) { hotPath(state, std::chrono::milliseconds{1}); }

BENCHMARK(BM_HotPath_SteadyStateDuplicates)->Arg(100)->Arg(10000);
BENCHMARK(BM_HotPath_EveryAdvertisementLogged)->Arg(10000);

void BM_ParseLine(benchmark::State& state) {
  jsonl_log::CheckIn r;
  r.bleUuid.bytes[3] = 7;
  r.checkInTime = 1721471400000;
  r.scannerId = "Entrance-Scanner-01";
  r.eventId = "evt-2026-kickoff";
  r.rssi = -67;
  r.bootId = "0f3c2a9e-1b2d-4c5e-8f70-123456789abc";
  r.bootMs = 123456;
  std::string line = jsonl_log::formatLine(r);
  line.pop_back();
  jsonl_log::CheckIn out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(jsonl_log::parseLineInto(line, out));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size() + 1));
}
BENCHMARK(BM_ParseLine);

}  // namespace

BENCHMARK_MAIN();
