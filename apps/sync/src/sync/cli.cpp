#include "sync/cli.hpp"

#include "sync/summary.hpp"

#include "app_cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <optional>

namespace attendance::sync {

namespace {

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds{static_cast<long long>(seconds * 1000)};
}

// "10s" or "10" (seconds, fractions allowed), 0.1 s to one hour.
std::optional<std::chrono::milliseconds> parseInterval(std::string text) {
  if (!text.empty() && text.back() == 's') text.pop_back();
  if (text.empty()) return std::nullopt;
  double seconds = 0;
  std::size_t used = 0;
  try {
    seconds = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size() || !(seconds >= 0.1 && seconds <= 3600)) return std::nullopt;
  return millis(seconds);
}

}  // namespace

boost::system::result<Command, CliExit> parseCommandLine(int argc, const char* const* argv) {
  SyncOptions sync;
  sync.log = "/var/lib/attendance/attendance_log.jsonl";
  RosterOptions roster;
  double connectTimeout = 10;
  double requestTimeout = 60;
  double operationTimeout = 300;
  double stopTimeout = 30;
  std::string event;
  std::string interval = "10s";

  CLI::App app{"Uploads the attendance scanner's log to the backend, exactly once in effect.", "attendance-sync"};
  app_cli::configure(
      app, "attendance-sync",
      {{kExitOk, "all accepted (or nothing to sync)"},
       {kExitUsage, "usage or configuration error (flags, files, URL, certificates, TLS)"},
       {kExitRejected, "some lines or records not accepted"},
       {kExitNetwork, "backend unavailable or unreachable, or a batch corrupted on every try (safe to run again)"},
       {kExitAuth, "API key refused or scanner not assigned to the event"},
       {kExitScannerRunning, "a scanner holds the log (use --stop-scanner)"}},
      "docs/sync.md");
  app.option_defaults()->always_capture_default();
  app.add_option("--backend", sync.backendUrl, "Backend base URL, e.g. https://attendance.example.org");
  app.add_option("--api-key-file", sync.apiKeyFile, "File holding this scanner's API key");
  app.add_option("--log", sync.log, "The scanner's log");
  auto* eventOption = app.add_option(
      "--event", event,
      "Event of log lines without eventId (the original design's three-key format); a line naming another "
      "event stops the run");
  app.add_option("--batch-size", sync.batchSize, "Records per request (1..100000)");
  app.add_flag("--all", sync.all, "Resend the whole log, ignoring the checkpoint");
  app.add_flag("--dry-run", sync.dryRun, "Read and report what would be sent; send nothing");
  app.add_option("--ca-file", sync.caFile, "PEM file of CAs to trust instead of the system store");
  app.add_flag("--insecure-http", sync.insecureHttp, "Allow plain http:// to a host that is not loopback");
  app.add_flag("--stop-scanner", sync.stopScanner,
               "Stop a running scanner (systemd unit or the PID holding the log) and wait for it");
  app.add_flag("--trust-clock", sync.trustClock,
               "Treat the wall clock as correct even if the kernel does not report it synchronised");
  app.add_option("--connect-timeout", connectTimeout, "Seconds for connecting (and TLS)");
  app.add_option("--request-timeout", requestTimeout, "Seconds for one request and its answer");
  app.add_option("--timeout", operationTimeout, "Seconds for one batch, all retries included");
  app.add_option("--retries", sync.maxAttempts, "Attempts per batch, the first one included");
  app.add_option("--stop-timeout", stopTimeout, "Seconds to wait for a stopped scanner to release the log");
  app.add_flag("--follow", sync.follow,
               "Run beside the scanner: upload what it has made durable every --interval, until SIGTERM/SIGINT");
  app.add_option("--interval", interval, "With --follow: seconds between uploads (e.g. 10s)");
  auto* retriesOption = app.get_option("--retries");

  auto* rosterCmd = app.add_subcommand("roster", "Download an event's roster (registered bleUuids) for the scanner");
  rosterCmd->add_option("--event", roster.eventId, "Event id")->required();
  rosterCmd->add_option("--backend", roster.backendUrl, "Backend base URL")->required();
  rosterCmd->add_option("--api-key-file", roster.apiKeyFile, "File holding this scanner's API key")->required();
  rosterCmd->add_option("--out", roster.out, "Where to write roster.json (atomically)")->required();
  rosterCmd->add_option("--ca-file", roster.caFile, "PEM file of CAs to trust");
  rosterCmd->add_flag("--insecure-http", roster.insecureHttp, "Allow plain http:// to a non-loopback host");

  const auto usageError = [](const std::string& message) {
    return CliExit{kExitUsage, {}, app_cli::errorLine("attendance-sync", message) + "\n"};
  };
  if (auto exit = app_cli::parse(app, argc, argv)) return CliExit{exit->code, exit->out, exit->err};
  for (double t : {connectTimeout, requestTimeout, operationTimeout, stopTimeout}) {
    if (!(t > 0 && t < 86'400)) return usageError("timeouts must be between 0 and 86400 seconds");
  }
  batch_client::Timeouts timeouts;
  timeouts.connect = millis(connectTimeout);
  timeouts.request = millis(requestTimeout);
  timeouts.operation = millis(operationTimeout);

  if (*rosterCmd) {
    roster.timeouts = timeouts;
    roster.maxAttempts = sync.maxAttempts;
    return Command{roster};
  }
  sync.timeouts = timeouts;
  const auto parsedInterval = parseInterval(interval);
  if (!parsedInterval) return usageError("--interval must be 0.1 to 3600 seconds, e.g. 10s (got \"" + interval + "\")");
  sync.interval = *parsedInterval;
  // The follower's own rounds are its retries (with backoff); long retries inside one
  // round would only delay noticing that the backend is back.
  if (sync.follow && retriesOption->count() == 0) sync.maxAttempts = 2;
  if (eventOption->count() > 0) sync.eventId = event;
  sync.stopTimeout = millis(stopTimeout);
  return Command{sync};
}

}  // namespace attendance::sync
