// End-to-end sync benchmark: a fresh database and event, attendance-backend on
// loopback, a log of N lines, and the real attendance-sync binary timed from
// start to exit. Also reports the sync's peak RSS (ru_maxrss of the child).
// Run inside pg_virtualenv (PG* variables): see docs/benchmarks-sync.md.
#include "sync/e2e_support.hpp"

#include "batch_client/test_server.hpp"
#include "support/temp_dir.hpp"

#include <attendance/core/assignments.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/jsonl_log/check_in.hpp>

#include <array>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>

extern char** environ;

namespace at = attendance::testing;
namespace core = attendance::core;
namespace jl = attendance::jsonl_log;

namespace {

struct Timed {
  int code = -1;
  double seconds = 0;
  long maxRssKb = 0;
};

Timed runTimed(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  Timed t;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return t;
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  t.maxRssKb = usage.ru_maxrss;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  long lines = 100'000;
  std::string batch = "5000";
  std::string binDir = ATTENDANCE_BINARY_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--lines") == 0) lines = std::stol(argv[i + 1]);
    if (std::strcmp(argv[i], "--batch-size") == 0) batch = argv[i + 1];
  }
  at::TempDir dir;
  at::TestDatabase db;
  core::NewEvent ev;
  ev.id = "bench";
  ev.name = "Sync benchmark";
  const auto apiKey = at::prepareSyncEvent(db.conninfo(), ev, "Bench-Scanner");
  if (!apiKey) return 1;
  const std::string& key = *apiKey;
  const auto keyFile = dir.path() / "key";
  std::ofstream(keyFile) << key << "\n";
  const auto log = dir.path() / "attendance_log.jsonl";
  {
    std::ofstream out(log);
    jl::CheckIn r;
    r.scannerId = "Bench-Scanner";
    r.eventId = "bench";
    r.rssi = -70;
    std::string buf;
    for (long i = 0; i < lines; ++i) {
      std::array<std::uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), &i, sizeof i);
      bytes[6] = 0x40;
      bytes[8] = 0x80;
      r.bleUuid = attendance::support::Uuid::fromBytes(bytes);
      r.checkInTime = 1'721'471'400'000 + i;
      buf.clear();
      jl::appendLine(buf, r);
      out << buf;
    }
  }
  at::Child backend(
      {binDir + "/apps/backend/attendance-backend", "serve", "--listen", "127.0.0.1:0", "--no-access-log"},
      {"DATABASE_URL=" + db.conninfo()}, dir.path() / "backend.err");
  auto line = backend.readLine();
  if (!line) return 1;
  const std::string url = "http://127.0.0.1:" +
                          line->substr(line->rfind(':') + 1, line->find('"', line->rfind(':')) - line->rfind(':') - 1);
  const auto t = runTimed({binDir + "/apps/sync/attendance-sync", "--backend", url, "--api-key-file", keyFile.string(),
                           "--log", log.string(), "--batch-size", batch});
  const auto stored = db.rows("SELECT count(*) FROM check_ins")[0];
  std::printf(
      "{\"lines\":%ld,\"batchSize\":%s,\"exit\":%d,\"seconds\":%.3f,\"recordsPerSecond\":%.0f,"
      "\"syncMaxRssKb\":%ld,\"stored\":%s,\"logBytes\":%ju}\n",
      lines, batch.c_str(), t.code, t.seconds, static_cast<double>(lines) / t.seconds, t.maxRssKb, stored.c_str(),
      static_cast<std::uintmax_t>(std::filesystem::file_size(log)));
  backend.kill(SIGTERM);
  (void)backend.wait(std::chrono::seconds{30});
  return t.code == 0 ? 0 : 1;
}
