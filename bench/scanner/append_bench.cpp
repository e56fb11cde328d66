// Append throughput of jsonl_log::Writer per fsync policy, on the filesystem of
// $BENCH_DIR (default: the current directory) — run it on the Pi's SD card to
// know what `--fsync always` costs there.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <attendance/jsonl_log/durable_mark.hpp>
#include <attendance/jsonl_log/writer.hpp>

namespace {

using namespace attendance;

std::filesystem::path benchDir() {
  const char* d = std::getenv("BENCH_DIR");
  return d != nullptr ? std::filesystem::path(d) : std::filesystem::current_path();
}

// `group` lines per commit(); with `always` that is one fdatasync per group.
void append(benchmark::State& state, jsonl_log::FsyncPolicy policy) {
  const auto group = static_cast<int>(state.range(0));
  const auto path = benchDir() / ("bench-append-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  auto w = jsonl_log::Writer::open(path, {.fsync = policy, .syncInterval = std::chrono::seconds{1}}, 0);
  if (!w) {
    state.SkipWithError(w.error().message.c_str());
    return;
  }
  jsonl_log::CheckIn r;
  r.checkInTime = 1721471400000;
  r.scannerId = "Entrance-Scanner-01";
  r.eventId = "evt-2026-kickoff";
  r.rssi = -67;
  r.bootId = "0f3c2a9e-1b2d-4c5e-8f70-123456789abc";
  r.bootMs = 123456;
  std::uint64_t n = 0;
  for (auto _ : state) {
    for (int i = 0; i < group; ++i) {
      r.bleUuid.bytes[15] = static_cast<std::uint8_t>(++n);
      if (!(*w)->append(r)) state.SkipWithError("append failed");
    }
    if (!(*w)->commit(std::chrono::steady_clock::now())) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations() * group);
  w->reset();
  std::filesystem::remove(path);
  std::filesystem::remove(jsonl_log::durableMarkPathFor(path));
}

void BM_Append_Always(benchmark::State& s) { append(s, jsonl_log::FsyncPolicy::always); }
void BM_Append_Interval(benchmark::State& s) { append(s, jsonl_log::FsyncPolicy::interval); }
void BM_Append_Never(benchmark::State& s) { append(s, jsonl_log::FsyncPolicy::never); }

BENCHMARK(BM_Append_Always)->Arg(1)->Arg(16)->UseRealTime();
BENCHMARK(BM_Append_Interval)->Arg(1)->UseRealTime();
BENCHMARK(BM_Append_Never)->Arg(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
