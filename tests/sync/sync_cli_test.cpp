// attendance-sync's command line (parseCommandLine), without running the binary.
#include "app_cli/build_info.hpp"
#include "sync/cli.hpp"
#include "sync/summary.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace as = attendance::sync;
using namespace std::chrono_literals;

namespace {

boost::system::result<as::Command, as::CliExit> parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"attendance-sync"};
  argv.insert(argv.end(), args);
  return as::parseCommandLine(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST(SyncCli, DefaultsAreTheDocumentedOnes) {
  auto command = parse({"--backend", "https://a.example", "--api-key-file", "k"});
  ASSERT_TRUE(command);
  const auto* o = std::get_if<as::SyncOptions>(&command->options);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->backendUrl, "https://a.example");
  EXPECT_EQ(o->apiKeyFile, "k");
  EXPECT_EQ(o->log, "/var/lib/attendance/attendance_log.jsonl");
  EXPECT_EQ(o->batchSize, 5000u);
  EXPECT_EQ(o->maxAttempts, 8u);
  EXPECT_FALSE(o->eventId);
  EXPECT_FALSE(o->all || o->dryRun || o->insecureHttp || o->stopScanner || o->trustClock);
  EXPECT_EQ(o->timeouts.connect, 10s);
  EXPECT_EQ(o->timeouts.request, 60s);
  EXPECT_EQ(o->timeouts.operation, 300s);
  EXPECT_EQ(o->stopTimeout, 30s);
}

TEST(SyncCli, EveryOptionReachesTheOptions) {
  auto command = parse({"--backend",
                        "http://127.0.0.1:1",
                        "--api-key-file",
                        "k",
                        "--log",
                        "l.jsonl",
                        "--event",
                        "ev1",
                        "--batch-size",
                        "7",
                        "--all",
                        "--dry-run",
                        "--ca-file",
                        "ca.pem",
                        "--insecure-http",
                        "--stop-scanner",
                        "--trust-clock",
                        "--connect-timeout",
                        "1.5",
                        "--request-timeout",
                        "2",
                        "--timeout",
                        "3",
                        "--retries",
                        "4",
                        "--stop-timeout",
                        "5"});
  ASSERT_TRUE(command);
  const auto& o = std::get<as::SyncOptions>(command->options);
  EXPECT_EQ(o.log, "l.jsonl");
  EXPECT_EQ(o.eventId, "ev1");
  EXPECT_EQ(o.batchSize, 7u);
  EXPECT_TRUE(o.all && o.dryRun && o.insecureHttp && o.stopScanner && o.trustClock);
  EXPECT_EQ(o.caFile, "ca.pem");
  EXPECT_EQ(o.timeouts.connect, 1500ms);
  EXPECT_EQ(o.timeouts.request, 2s);
  EXPECT_EQ(o.timeouts.operation, 3s);
  EXPECT_EQ(o.maxAttempts, 4u);
  EXPECT_EQ(o.stopTimeout, 5s);
}

// An empty --event is given (and refused later by runSync as a usage error), not absent.
TEST(SyncCli, AnEmptyEventIsGivenNotAbsent) {
  auto command = parse({"--event", ""});
  ASSERT_TRUE(command);
  EXPECT_EQ(std::get<as::SyncOptions>(command->options).eventId, "");
}

TEST(SyncCli, RosterTakesItsOwnOptionsAndTheTopLevelTimeouts) {
  auto command = parse({"--retries", "3", "--timeout", "9", "roster", "--event", "ev1", "--backend",
                        "https://a.example", "--api-key-file", "k", "--out", "roster.json"});
  ASSERT_TRUE(command);
  const auto* o = std::get_if<as::RosterOptions>(&command->options);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->eventId, "ev1");
  EXPECT_EQ(o->backendUrl, "https://a.example");
  EXPECT_EQ(o->out, "roster.json");
  EXPECT_EQ(o->maxAttempts, 3u);
  EXPECT_EQ(o->timeouts.operation, 9s);
  EXPECT_FALSE(o->insecureHttp);
}

TEST(SyncCli, HelpExitsZeroWithTheHelpOnStdout) {
  for (const auto* flag : {"--help", "-h"}) {
    auto command = parse({flag});
    ASSERT_FALSE(command) << flag;
    EXPECT_EQ(command.error().exitCode, 0) << flag;
    EXPECT_NE(command.error().out.find("Exit codes:\n  0   all accepted"), std::string::npos) << flag;
    EXPECT_NE(command.error().out.find("\n  6   a scanner holds the log"), std::string::npos) << flag;
    EXPECT_NE(command.error().out.find("--stop-scanner"), std::string::npos) << flag;
    EXPECT_EQ(command.error().err, "") << flag;
  }
  auto roster = parse({"roster", "--help"});
  ASSERT_FALSE(roster);
  EXPECT_EQ(roster.error().exitCode, 0);
  EXPECT_NE(roster.error().out.find("--out"), std::string::npos);
}

TEST(SyncCli, VersionNamesTheToolTheVersionAndTheRevision) {
  auto command = parse({"--version"});
  ASSERT_FALSE(command);
  EXPECT_EQ(command.error().exitCode, 0);
  EXPECT_EQ(command.error().err, "");
  EXPECT_EQ(command.error().out, "attendance-sync " + std::string(attendance::app_cli::projectVersion()) + " (" +
                                     std::string(attendance::app_cli::gitRevision()) + ")\n");
}

// Usage errors are exit 2 with one "attendance-sync: error:" line and a pointer to --help.
TEST(SyncCli, BadFlagsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<const char*>>{{"--bogus"},
                                                                {"--batch-size", "many"},
                                                                {"--retries", "-1x"},
                                                                {"--backend"},
                                                                {"roster", "--event", "ev1"},
                                                                {"extra-argument"}}) {
    std::vector<const char*> argv{"attendance-sync"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto command = as::parseCommandLine(static_cast<int>(argv.size()), argv.data());
    ASSERT_FALSE(command) << args.front();
    EXPECT_EQ(command.error().exitCode, as::kExitUsage) << args.front();
    EXPECT_EQ(command.error().out, "") << args.front();
    EXPECT_EQ(command.error().err.rfind("attendance-sync: error: ", 0), 0u) << command.error().err;
    EXPECT_NE(command.error().err.find("\nrun 'attendance-sync --help' for usage\n"), std::string::npos)
        << command.error().err;
  }
}

TEST(SyncCli, TimeoutsOutsideOneDayAreUsageErrors) {
  for (const auto* flag : {"--connect-timeout", "--request-timeout", "--timeout", "--stop-timeout"}) {
    for (const auto* value : {"0", "-1", "86400"}) {
      auto command = parse({flag, value});
      ASSERT_FALSE(command) << flag << " " << value;
      EXPECT_EQ(command.error().exitCode, as::kExitUsage);
      EXPECT_EQ(command.error().err, "attendance-sync: error: timeouts must be between 0 and 86400 seconds\n")
          << flag << " " << value;
    }
  }
}

TEST(SyncCli, FollowTakesAnIntervalInSecondsAndFewerRetriesPerRound) {
  auto command = parse({"--backend", "https://a.example", "--api-key-file", "k", "--follow", "--interval", "10s"});
  ASSERT_TRUE(command);
  const auto* o = std::get_if<as::SyncOptions>(&command->options);
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->follow);
  EXPECT_EQ(o->interval, 10s);
  EXPECT_EQ(o->maxAttempts, 2u);  // the follower's rounds retry; a round must not hide a returning backend

  command = parse({"--follow", "--interval", "2.5", "--retries", "5"});
  ASSERT_TRUE(command);
  o = std::get_if<as::SyncOptions>(&command->options);
  EXPECT_EQ(o->interval, 2500ms);
  EXPECT_EQ(o->maxAttempts, 5u);

  command = parse({"--backend", "https://a.example"});
  ASSERT_TRUE(command);
  o = std::get_if<as::SyncOptions>(&command->options);
  EXPECT_FALSE(o->follow);
  EXPECT_EQ(o->interval, 10s);

  for (const char* bad : {"0", "-1s", "10m", "s", "3601"}) {
    command = parse({"--follow", "--interval", bad});
    ASSERT_FALSE(command) << bad;
    EXPECT_EQ(command.error().exitCode, as::kExitUsage) << bad;
    EXPECT_NE(command.error().err.find("--interval"), std::string::npos) << command.error().err;
  }
}
