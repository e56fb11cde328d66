// What `attendance-sync --follow` (issue 14 §1) costs the scanner and the backend.
// One run measures one side of an A/B comparison; bench/sync/follower_cost.sh
// alternates them (A B A B ...) and prints medians and spread. docs/benchmarks.md,
// "Follower cost (issue 14)".
//
//   bench_follower_cost scanner --follower none|follow [--interval 0.5s] [--seconds 5] [--rate 2000]
//                              [--burst-lines 100000] [--dir D]
//     The scanner's hot path: check-in lines appended through the real jsonl_log::Writer
//     with the scanner's default policy (--fsync interval, 1 s) and its loop's shape
//     (a group of appends, then commit(now)), on the file system of --dir. Paced at
//     --rate lines/s for --seconds (per-line latency), then --burst-lines as fast as
//     possible (throughput). With `--follower follow` the real attendance-sync
//     --follow reads the same log and uploads to the fake backend of tests/sync in a
//     child process on loopback, from before the first measured line until every
//     line was uploaded. Prints one JSON line.
//
//   bench_follower_cost backend --mode follow|final [--checkins 1000] [--seconds 30] [--interval 10s]
//     The backend's side (inside pg_virtualenv): the real attendance-backend on a fresh
//     database; --checkins lines arrive evenly over --seconds through the same Writer;
//     `follow`: a follower at --interval uploads them as they become durable;
//     `final`: nobody uploads until the end, then one end-of-event attendance-sync.
//     Both count the backend's CPU (utime+stime of /proc/<pid>/stat) and its
//     /batchCheckIn requests (GET /metrics) over the same window: arrivals + upload.
//     Prints one JSON line.
//
//   bench_follower_cost fake-backend   (internal: the fake backend as a process of its own)
#include "sync/e2e_support.hpp"
#include "sync/fake_backend.hpp"

#include "support/temp_dir.hpp"
#include "support/test_client.hpp"

#include <attendance/core/assignments.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/jsonl_log/writer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace at = attendance::testing;
namespace core = attendance::core;
namespace jl = attendance::jsonl_log;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> parseFlags(int argc, char** argv, int from) {
  std::map<std::string, std::string> flags;
  for (int i = from; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  return flags;
}

std::string flag(const std::map<std::string, std::string>& f, const std::string& name, std::string fallback) {
  const auto it = f.find(name);
  return it == f.end() ? fallback : it->second;
}

std::string selfExe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

// utime + stime of a live process in milliseconds, all its threads.
double cpuMs(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The same from the scheduler, in nanoseconds: the sum of every live thread's run time
// (/proc/<pid>/task/*/schedstat), finer than the 10 ms ticks above.
double schedCpuMs(int pid) {
  double ns = 0;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    double run = 0;
    if (in >> run) ns += run;
  }
  return ns / 1e6;
}

// The database server's share: the postmaster of this cluster and every process it
// started (one per connection; the backend's pool keeps its connections open).
double postgresCpuMs(int postmaster) {
  double ms = schedCpuMs(postmaster);
  std::error_code ec;
  for (const auto& p : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = p.path().filename().string();
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) == 0) continue;
    std::ifstream in(p.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string state;
    int ppid = 0;
    if (rest >> state >> ppid && ppid == postmaster) ms += schedCpuMs(std::stoi(name));
  }
  return ms;
}

std::string readText(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Sum of "sent N records" in the follower's stderr (one line per round that sent something).
std::uint64_t followerSent(const std::filesystem::path& err) {
  const auto text = readText(err);
  const std::string tag = "attendance-sync: sent ";
  std::uint64_t total = 0;
  for (auto at = text.find(tag); at != std::string::npos; at = text.find(tag, at + tag.size())) {
    std::uint64_t n = 0;
    for (auto i = at + tag.size();
         i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == ','); ++i) {
      if (text[i] != ',') n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    total += n;
  }
  return total;
}

template <class F>
bool within(std::chrono::milliseconds deadline, F done) {
  const auto until = Clock::now() + deadline;
  while (!done()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

double percentile(std::vector<std::uint32_t> v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

jl::CheckIn checkIn(std::uint64_t i, const std::string& scanner, const std::string& event) {
  jl::CheckIn r;
  r.scannerId = scanner;
  r.eventId = event;
  r.rssi = -67;
  r.bootId = "0f3c2a9e-1b2d-4c5e-8f70-123456789abc";
  r.bootMs = static_cast<std::int64_t>(i);
  std::array<std::uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), &i, sizeof i);
  bytes[6] = 0x40;
  bytes[8] = 0x80;
  bytes[15] = 0x5a;
  r.bleUuid = attendance::support::Uuid::fromBytes(bytes);
  r.checkInTime = 1'721'471'400'000 + static_cast<std::int64_t>(i);
  return r;
}

std::int64_t epochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------- fake-backend

int fakeBackend() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server's threads start: they inherit it
  at::FakeBackend backend("good-key", "S1", {"ev1"});
  std::printf("%s\n", backend.url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("{\"rows\":%zu,\"requests\":%zu}\n", backend.rows().size(), backend.batchRequests());
  std::fflush(stdout);
  return 0;
}

// ---------------------------------------------------------------- scanner

int scannerSide(const std::map<std::string, std::string>& f) {
  const std::string follower = flag(f, "--follower", "none");
  if (follower != "none" && follower != "follow") {
    std::cerr << "--follower none|follow\n";
    return 2;
  }
  const std::string interval = flag(f, "--interval", "0.5s");
  const double seconds = std::stod(flag(f, "--seconds", "5"));
  const long rate = std::stol(flag(f, "--rate", "2000"));
  const long burstLines = std::stol(flag(f, "--burst-lines", "100000"));
  const std::filesystem::path base = flag(f, "--dir", std::filesystem::current_path().string());
  const std::string syncBin = flag(f, "--sync", std::string(ATTENDANCE_BINARY_DIR) + "/apps/sync/attendance-sync");

  const auto dir = base / ("follower-cost-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(p, ignored);
    }
  } cleanup{dir};
  const auto log = dir / "attendance_log.jsonl";
  auto opened = jl::Writer::open(log, {.fsync = jl::FsyncPolicy::interval, .syncInterval = 1s}, epochMs());
  if (!opened) {
    std::cerr << opened.error().message << "\n";
    return 1;
  }
  auto& w = **opened;

  std::optional<at::ChildProcess> backend;
  std::optional<at::ChildProcess> sync;
  const auto syncErr = dir / "follower-stderr.txt";
  std::uint64_t n = 0;
  auto appendOne = [&]() -> bool { return static_cast<bool>(w.append(checkIn(n++, "S1", "ev1"))); };

  if (follower == "follow") {
    backend.emplace(std::vector<std::string>{selfExe(), "fake-backend"}, std::vector<std::string>{},
                    dir / "backend-stderr.txt");
    const auto url = backend->readLine();
    if (!url) return 1;
    std::ofstream(dir / "key") << "good-key\n";
    sync.emplace(std::vector<std::string>{syncBin, "--follow", "--interval", interval, "--backend", *url,
                                          "--api-key-file", (dir / "key").string(), "--log", log.string()},
                 std::vector<std::string>{}, syncErr);
    // Warm-up: the follower has done a round that uploaded something before we measure.
    for (int i = 0; i < 10; ++i) appendOne();
    if (!w.sync()) return 1;
    if (!within(15s, [&] { return followerSent(syncErr) >= 10; })) {
      std::cerr << "the follower did not upload the warm-up lines:\n" << readText(syncErr);
      return 1;
    }
  } else {
    for (int i = 0; i < 10; ++i) appendOne();
    if (!w.sync()) return 1;
  }
  const double followerCpuStart = sync ? cpuMs(sync->pid()) : 0;
  const double fakeBackendCpuStart = backend ? cpuMs(backend->pid()) : 0;

  // Paced: every 10 ms a group of rate/100 lines, then commit(now), as the scanner's loop does.
  std::vector<std::uint32_t> appendNs;
  std::vector<std::uint32_t> commitNs;
  const long perTick = std::max(1L, rate / 100);
  const long ticks = static_cast<long>(seconds * 100);
  appendNs.reserve(static_cast<std::size_t>(perTick * ticks));
  commitNs.reserve(static_cast<std::size_t>(ticks));
  std::uint64_t fsyncs = 0;
  const auto pacedStart = Clock::now();
  for (long t = 0; t < ticks; ++t) {
    std::this_thread::sleep_until(pacedStart + t * 10ms);
    for (long i = 0; i < perTick; ++i) {
      const auto a = Clock::now();
      if (!appendOne()) return 1;
      appendNs.push_back(static_cast<std::uint32_t>((Clock::now() - a) / 1ns));
    }
    const auto c = Clock::now();
    const auto synced = w.commit(c);
    if (!synced) return 1;
    commitNs.push_back(static_cast<std::uint32_t>((Clock::now() - c) / 1ns));
    fsyncs += *synced ? 1 : 0;
  }
  double busyNs = 0;
  for (auto v : appendNs) busyNs += v;
  for (auto v : commitNs) busyNs += v;

  // Saturated: as fast as the writer goes, commit after each group of 64.
  std::vector<std::uint32_t> burstAppendNs;
  burstAppendNs.reserve(static_cast<std::size_t>(burstLines));
  const auto burstStart = Clock::now();
  for (long i = 0; i < burstLines; ++i) {
    const auto a = Clock::now();
    if (!appendOne()) return 1;
    burstAppendNs.push_back(static_cast<std::uint32_t>((Clock::now() - a) / 1ns));
    if (i % 64 == 63 && !w.commit(Clock::now())) return 1;
  }
  if (!w.commit(Clock::now())) return 1;
  const double burstSeconds = std::chrono::duration<double>(Clock::now() - burstStart).count();
  if (!w.sync()) return 1;

  // The follower must have taken everything: otherwise it was not really following.
  std::uint64_t uploaded = 0;
  double followerCpu = 0;
  double fakeBackendCpu = 0;  // here on the same machine; at a venue it runs elsewhere
  std::string backendTotals = "null";
  if (sync) {
    within(30s, [&] { return followerSent(syncErr) >= n; });
    uploaded = followerSent(syncErr);
    followerCpu = cpuMs(sync->pid()) - followerCpuStart;
    fakeBackendCpu = cpuMs(backend->pid()) - fakeBackendCpuStart;
    sync->kill(SIGTERM);
    (void)sync->wait(30s);
    backend->kill(SIGTERM);
    if (auto line = backend->readLine()) backendTotals = *line;
    (void)backend->wait(30s);
  }
  const double measured = static_cast<double>(appendNs.size()) + static_cast<double>(burstLines);
  std::printf(
      "{\"side\":\"scanner\",\"follower\":\"%s\",\"interval\":\"%s\",\"rate\":%ld,\"pacedLines\":%zu,"
      "\"appendP50Ns\":%.0f,\"appendP99Ns\":%.0f,\"appendMaxNs\":%.0f,\"commitP50Ns\":%.0f,\"commitP99Ns\":%.0f,"
      "\"commitMaxNs\":%.0f,\"fsyncs\":%ju,\"pacedBusyLinesPerSecond\":%.0f,"
      "\"burstLines\":%ld,\"burstLinesPerSecond\":%.0f,\"burstAppendP50Ns\":%.0f,\"burstAppendP99Ns\":%.0f,"
      "\"linesTotal\":%ju,\"uploaded\":%ju,\"followerCpuMs\":%.0f,\"followerCpuMsPer1000Lines\":%.2f,"
      "\"fakeBackendCpuMs\":%.0f,\"backend\":%s}\n",
      follower.c_str(), interval.c_str(), rate, appendNs.size(), percentile(appendNs, 0.5), percentile(appendNs, 0.99),
      percentile(appendNs, 1.0), percentile(commitNs, 0.5), percentile(commitNs, 0.99), percentile(commitNs, 1.0),
      static_cast<std::uintmax_t>(fsyncs), static_cast<double>(appendNs.size()) / (busyNs / 1e9), burstLines,
      static_cast<double>(burstLines) / burstSeconds, percentile(burstAppendNs, 0.5), percentile(burstAppendNs, 0.99),
      static_cast<std::uintmax_t>(n), static_cast<std::uintmax_t>(uploaded), followerCpu,
      sync ? followerCpu * 1000.0 / measured : 0.0, fakeBackendCpu, backendTotals.c_str());
  if (sync && uploaded < n) {
    std::cerr << "the follower uploaded " << uploaded << " of " << n << " lines\n";
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------- backend

// POST /batchCheckIn requests the backend has answered, from its /metrics.
double batchRequests(std::uint16_t port) {
  at::Client c(port);
  c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const auto body = c.read().body();
  double total = 0;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("http_requests_total{", 0) == 0 && line.find("batchCheckIn") != std::string::npos) {
      total += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return total;
}

int backendSide(const std::map<std::string, std::string>& f) {
  const std::string mode = flag(f, "--mode", "follow");
  if (mode != "follow" && mode != "final") {
    std::cerr << "--mode follow|final\n";
    return 2;
  }
  const long checkins = std::stol(flag(f, "--checkins", "1000"));
  const double seconds = std::stod(flag(f, "--seconds", "30"));
  const std::string interval = flag(f, "--interval", "10s");
  const std::string binDir = ATTENDANCE_BINARY_DIR;

  at::TempDir dir;
  at::TestDatabase db;
  core::NewEvent ev;
  ev.id = "bench";
  ev.name = "Follower benchmark";
  const auto apiKey = at::prepareSyncEvent(db.conninfo(), ev, "Bench-Scanner");
  if (!apiKey) return 1;
  const std::string& key = *apiKey;
  const auto keyFile = dir.path() / "key";
  std::ofstream(keyFile) << key << "\n";
  const auto log = dir.path() / "attendance_log.jsonl";

  at::ChildProcess backend(
      {binDir + "/apps/backend/attendance-backend", "serve", "--listen", "127.0.0.1:0", "--no-access-log"},
      {"DATABASE_URL=" + db.conninfo()}, dir.path() / "backend.err");
  const auto line = backend.readLine();
  if (!line) return 1;
  const auto colon = line->rfind(':');
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));
  const std::string url = "http://127.0.0.1:" + std::to_string(port);

  auto opened = jl::Writer::open(log, {.fsync = jl::FsyncPolicy::interval, .syncInterval = 1s}, epochMs());
  if (!opened) return 1;
  auto& w = **opened;

  const std::vector<std::string> syncArgs{binDir + "/apps/sync/attendance-sync",
                                          "--backend",
                                          url,
                                          "--api-key-file",
                                          keyFile.string(),
                                          "--log",
                                          log.string()};
  std::this_thread::sleep_for(500ms);  // the backend's start-up is not what we measure
  const double requestsStart = batchRequests(port);
  const double cpuStart = cpuMs(backend.pid());
  const double schedStart = schedCpuMs(backend.pid());
  const int postmaster =
      std::stoi(readText(std::filesystem::path(db.rows("SHOW data_directory")[0]) / "postmaster.pid"));
  const double pgStart = postgresCpuMs(postmaster);
  const auto start = Clock::now();

  std::optional<at::ChildProcess> follower;
  if (mode == "follow") {
    auto args = syncArgs;
    args.insert(args.begin() + 1, {"--follow", "--interval", interval});
    follower.emplace(args, std::vector<std::string>{}, dir.path() / "follower.err");
  }
  // Arrivals evenly over --seconds; commit(now) after each, as the scanner's loop does.
  for (long i = 0; i < checkins; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                              seconds * static_cast<double>(i) / static_cast<double>(checkins))));
    if (!w.append(checkIn(static_cast<std::uint64_t>(i), "Bench-Scanner", "bench"))) return 1;
    if (!w.commit(Clock::now())) return 1;
  }
  if (!w.sync()) return 1;
  const double arrivalsSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto stored = [&] { return std::stol(db.rows("SELECT count(*) FROM check_ins")[0]); };
  int finalExit = 0;
  if (follower) {
    // Its own report, not the database: polling the database would add to the CPU measured.
    within(60s, [&] { return followerSent(dir.path() / "follower.err") >= static_cast<std::uint64_t>(checkins); });
    follower->kill(SIGTERM);
    (void)follower->wait(30s);
  } else {
    opened->reset();  // the scanner has stopped: the end-of-event sync takes the lock
    finalExit = at::runToCompletion(syncArgs, dir.path()).code;
  }
  const double windowSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpuMs(backend.pid()) - cpuStart;
  const double sched = schedCpuMs(backend.pid()) - schedStart;
  const double pg = postgresCpuMs(postmaster) - pgStart;
  const double requests = batchRequests(port) - requestsStart;
  const long rows = stored();
  std::printf(
      "{\"side\":\"backend\",\"mode\":\"%s\",\"interval\":\"%s\",\"checkins\":%ld,\"arrivalSeconds\":%.1f,"
      "\"windowSeconds\":%.1f,\"batchRequests\":%.0f,\"requestsPerMinute\":%.2f,\"backendCpuMs\":%.0f,"
      "\"backendCpuMsPer1000\":%.1f,\"backendSchedCpuMs\":%.1f,\"backendSchedCpuMsPer1000\":%.1f,"
      "\"postgresCpuMs\":%.1f,\"postgresCpuMsPer1000\":%.1f,\"stored\":%ld,\"finalSyncExit\":%d}\n",
      mode.c_str(), mode == "follow" ? interval.c_str() : "-", checkins, arrivalsSeconds, windowSeconds, requests,
      requests * 60.0 / windowSeconds, cpu, cpu * 1000.0 / static_cast<double>(checkins), sched,
      sched * 1000.0 / static_cast<double>(checkins), pg, pg * 1000.0 / static_cast<double>(checkins), rows, finalExit);
  backend.kill(SIGTERM);
  (void)backend.wait(30s);
  return rows == checkins && finalExit == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string side = argc > 1 ? argv[1] : "";
  if (side == "fake-backend") return fakeBackend();
  if (side == "scanner") return scannerSide(parseFlags(argc, argv, 2));
  if (side == "backend") return backendSide(parseFlags(argc, argv, 2));
  std::cerr << "usage: bench_follower_cost scanner --follower none|follow [--interval 0.5s] [--seconds 5]\n"
               "                           [--rate 2000] [--burst-lines 100000] [--dir D]\n"
               "       bench_follower_cost backend --mode follow|final [--checkins 1000] [--seconds 30]\n"
               "                           [--interval 10s]   (inside pg_virtualenv)\n";
  return 2;
}
