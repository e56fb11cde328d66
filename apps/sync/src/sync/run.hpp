#pragma once

#include "sync/run_error.hpp"

#include <attendance/batch_client/client.hpp>
#include <attendance/support/clock.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

// attendance-sync's behaviour, separate from main() so tests drive it with fake
// clocks, a fake scanner control and their own output streams.
namespace attendance::sync {

struct SyncOptions {
  std::filesystem::path log;
  std::string backendUrl;
  std::filesystem::path apiKeyFile;
  std::size_t batchSize = 5000;
  bool all = false;
  bool dryRun = false;
  bool insecureHttp = false;
  bool stopScanner = false;
  bool trustClock = false;  // treat the wall clock as correct even if the kernel says unsynchronised
  // --event: the event of lines without eventId (the original design's three-key
  // format); a line naming another event refuses the run (docs/sync.md).
  std::optional<std::string> eventId;
  std::string caFile;
  batch_client::Timeouts timeouts;
  unsigned maxAttempts = 8;
  std::chrono::milliseconds stopTimeout{30'000};
  // --follow: run beside the scanner, uploading what it has made durable every
  // `interval` (follow.hpp, docs/sync.md "Live upload").
  bool follow = false;
  std::chrono::milliseconds interval{10'000};
};

struct RosterOptions {
  std::string eventId;
  std::string backendUrl;
  std::filesystem::path apiKeyFile;
  std::filesystem::path out;
  bool insecureHttp = false;
  std::string caFile;
  batch_client::Timeouts timeouts;
  unsigned maxAttempts = 8;
};

// How to stop a running scanner (--stop-scanner). The real one talks to systemd
// and sends signals; tests substitute their own.
class ScannerControl {
public:
  virtual ~ScannerControl() = default;
  // True when the systemd unit attendance-scanner.service is active.
  [[nodiscard]] virtual bool unitActive() = 0;
  // Asks systemd to stop the unit; on failure, why (the caller adds what it was stopping).
  [[nodiscard]] virtual RunResult<void> stopUnit() = 0;
  // SIGTERM to a process; on failure, why.
  [[nodiscard]] virtual RunResult<void> terminate(pid_t pid) = 0;
};

class SystemScannerControl final : public ScannerControl {
public:
  [[nodiscard]] bool unitActive() override;
  [[nodiscard]] RunResult<void> stopUnit() override;
  [[nodiscard]] RunResult<void> terminate(pid_t pid) override;
};

struct Environment {
  Environment(const support::TimeSource& c, std::ostream& o, std::ostream& e) : clock(c), out(o), err(e) {}

  const support::TimeSource& clock;
  std::ostream& out;  // summary, final result
  std::ostream& err;  // errors, warnings, progress
  bool progressIsTty = false;
  // No progress display and no repeated notes: the follower's rounds (one line each).
  bool quiet = false;
  ScannerControl* scanner = nullptr;
  // Machine clock facts (clock correction); defaults read the real machine.
  std::function<std::optional<std::string>()> bootId;
  std::function<std::int64_t()> bootTimeMs;
  std::function<bool()> clockSynchronized;
  // Passed to the HTTP client (retry sleeps / jitter); defaults are real.
  batch_client::Hooks clientHooks;
  // How long to wait between polls of the log lock while a scanner stops.
  std::chrono::milliseconds lockPollInterval{100};
  // True once the operator asked to stop (SIGTERM/SIGINT in main): the follower
  // stops after the batch in flight. Unset = never.
  std::function<bool()> stopRequested;
};

// Fills unset machine hooks with the real machine's.
void useRealMachine(Environment& env);

// Returns the process exit code (ExitCode in summary.hpp). With options.follow it runs
// runFollow (follow.hpp) instead.
[[nodiscard]] int runSync(const SyncOptions& options, Environment& env);
[[nodiscard]] int runRoster(const RosterOptions& options, Environment& env);

// Reads an API key file: at most 4 KiB, surrounding whitespace trimmed, not empty
// (a usage error otherwise).
[[nodiscard]] RunResult<std::string> readApiKeyFile(const std::filesystem::path& path);

}  // namespace attendance::sync
