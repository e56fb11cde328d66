#include <gtest/gtest.h>

#include <vector>

#include "scanner/config.hpp"
#include "jsonl_log/temp_dir.hpp"

using namespace std::chrono_literals;
using attendance::scanner::kExitOk;
using attendance::scanner::kExitUsage;
using attendance::scanner::parseCommandLine;
using attendance::scanner::ParsedCommandLine;
using attendance::scanner::parseDuration;

namespace {

ParsedCommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "attendance-scanner");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST(ScannerConfig, FlagsWithDefaults) {
  const auto r = parse({"--event", "evt-1", "--scanner-id", "Entrance-Scanner-01", "--log", "/tmp/a.jsonl",
                        "--namespace", "EDD1EBEAC04E5DEFA017"});
  ASSERT_TRUE(r.config) << r.message;
  ASSERT_TRUE(r.config->bleNamespace);
  EXPECT_EQ(r.config->bleNamespace->toHex(), "edd1ebeac04e5defa017");
  EXPECT_FALSE(r.config->acceptAnyId);
  EXPECT_EQ(r.config->eventId, "evt-1");
  EXPECT_EQ(r.config->dedupWindow, 5min);
  EXPECT_EQ(r.config->rssiMin, -90);
  EXPECT_EQ(r.config->minSightings, 2u);
  EXPECT_EQ(r.config->minDwell, 1500ms);
  EXPECT_EQ(r.config->fsync, attendance::jsonl_log::FsyncPolicy::interval);
  EXPECT_EQ(r.config->formats, attendance::ble_scan::FormatSet::all());
  EXPECT_FALSE(r.config->roster);
}

TEST(ScannerConfig, ConfigFileFillsGapsAndFlagsWin) {
  TempDir dir;
  writeFile(dir / "scanner.toml",
            "event = \"evt-from-file\"\nscanner-id = \"Hall-2\"\nlog = \"/var/lib/a.jsonl\"\n"
            "dedup-window = \"10m\"\nrssi-min = -80\nnamespace = \"edd1ebeac04e5defa017\"\nfsync = \"always\"\nformats "
            "= \"ibeacon\"\nrecord-rssi = false\n");
  const auto r = parse({"--config", (dir / "scanner.toml").string(), "--event", "evt-flag", "--rssi-min", "-70"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->eventId, "evt-flag");
  EXPECT_EQ(r.config->scannerId, "Hall-2");
  EXPECT_EQ(r.config->dedupWindow, 10min);
  EXPECT_EQ(r.config->rssiMin, -70);
  EXPECT_EQ(r.config->fsync, attendance::jsonl_log::FsyncPolicy::always);
  EXPECT_FALSE(r.config->recordRssi);
  EXPECT_TRUE(r.config->formats.contains(attendance::ble_scan::Format::ibeacon));
  EXPECT_FALSE(r.config->formats.contains(attendance::ble_scan::Format::eddystone_uid));
}

TEST(ScannerConfig, PresenceFlagsAndKeys) {
  auto r = parse({"--event", "e", "--scanner-id", "s", "--log", "/tmp/a.jsonl", "--min-dwell", "0", "--min-sightings",
                  "1", "--accept-any-id"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->minSightings, 1u);
  EXPECT_EQ(r.config->minDwell, 0ms);
  TempDir dir;
  writeFile(dir / "scanner.toml",
            "event = \"e\"\nscanner-id = \"s\"\nlog = \"/tmp/a.jsonl\"\nmin-sightings = 3\nmin-dwell = \"5s\"\n"
            "accept-any-id = true\n");
  r = parse({"--config", (dir / "scanner.toml").string()});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->minSightings, 3u);
  EXPECT_EQ(r.config->minDwell, 5s);
  r = parse({"--config", (dir / "scanner.toml").string(), "--min-sightings", "0"});
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find("--min-sightings"), std::string::npos) << r.message;
  r = parse({"--config", (dir / "scanner.toml").string(), "--min-dwell", "-1s"});
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find("--min-dwell"), std::string::npos) << r.message;
}

// Issue 11 §1: without a way to tell participants from strangers the scanner does not start.
TEST(ScannerConfig, NamespaceRosterOrAcceptAnyIdIsRequired) {
  const std::vector<std::string> base{"--event", "e", "--scanner-id", "s", "--log", "/tmp/a.jsonl"};
  const auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return parse(args);
  };
  auto r = with({});
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.exitCode, kExitUsage);
  for (const char* hint : {"--namespace", "attendance-admin deployment show", "--roster", "--accept-any-id"}) {
    EXPECT_NE(r.message.find(hint), std::string::npos) << hint << " in " << r.message;
  }
  r = with({"--roster", "/var/lib/roster.json"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_FALSE(r.config->bleNamespace);  // may come from the roster
  r = with({"--accept-any-id"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_TRUE(r.config->acceptAnyId);
  EXPECT_FALSE(r.config->bleNamespace);
  r = with({"--namespace", "edd1ebeac04e5defa01"});
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find("--namespace: 'edd1ebeac04e5defa01' is not 20 hex digits"), std::string::npos) << r.message;
  TempDir dir;
  writeFile(dir / "bad.toml", "accept-any-id = \"yes\"\n");
  r = with({"--config", (dir / "bad.toml").string()});
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find("accept-any-id"), std::string::npos) << r.message;
}

TEST(ScannerConfig, LastSeenIntervalDefaultsToFiveMinutesAndCanBeOff) {
  auto r = parse({"--event", "e", "--scanner-id", "s", "--log", "/tmp/a.jsonl", "--accept-any-id"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->lastSeenInterval, std::optional<std::chrono::milliseconds>{5min});
  r = parse(
      {"--event", "e", "--scanner-id", "s", "--log", "/tmp/a.jsonl", "--accept-any-id", "--last-seen-interval", "1m"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->lastSeenInterval, std::optional<std::chrono::milliseconds>{1min});
  r = parse(
      {"--event", "e", "--scanner-id", "s", "--log", "/tmp/a.jsonl", "--accept-any-id", "--last-seen-interval", "off"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_FALSE(r.config->lastSeenInterval);
  r = parse({"--event", "e", "--scanner-id", "s", "--log", "/tmp/a.jsonl", "--accept-any-id", "--last-seen-interval",
             "soon"});
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find("--last-seen-interval"), std::string::npos) << r.message;
}

TEST(ScannerConfig, BadInputIsASentenceAndExitCode2) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--scanner-id", "s", "--log", "l"}, "--event is required"},
      {{"--event", "e", "--scanner-id", "s", "--log", "l", "--fsync", "sometimes"}, "--fsync: 'sometimes'"},
      {{"--event", "e", "--scanner-id", "s", "--log", "l", "--rssi-min", "loud"}, "--rssi-min: 'loud'"},
      {{"--event", "e", "--scanner-id", "s", "--log", "l", "--dedup-window", "0s"}, "--dedup-window: '0s'"},
      {{"--event", "e", "--scanner-id", "s", "--log", "l", "--formats", "altbeacon"}, "unknown format 'altbeacon'"},
      {{"--event", "e", "--scanner-id", "s", "--log", "l", "--attendance-service-uuid", "x"},
       "--attendance-service-uuid: 'x'"},
      {{"--event", "caf\xC3", "--scanner-id", "s", "--log", "l"}, "--event is not valid UTF-8"},
      {{"--event", "e", "--scanner-id", "a\tb", "--log", "l"}, "--scanner-id contains a control character"},
      {{"--event", std::string(257, 'e'), "--scanner-id", "s", "--log", "l"}, "--event is longer than 256 bytes"},
      {{"--no-such-flag"}, "no-such-flag"},
      {{"--config", "/nonexistent/scanner.toml"}, "/nonexistent/scanner.toml"},
  };
  for (const auto& [args, expected] : cases) {
    const auto r = parse(args);
    EXPECT_FALSE(r.config) << expected;
    EXPECT_EQ(r.exitCode, kExitUsage) << expected;
    EXPECT_NE(r.message.find(expected), std::string::npos) << r.message;
  }
}

TEST(ScannerConfig, ConfigFileProblemsNameTheKeyOrLine) {
  TempDir dir;
  writeFile(dir / "typo.toml", "event = \"e\"\nscaner-id = \"s\"\n");
  auto r = parse({"--config", (dir / "typo.toml").string()});
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find((dir / "typo.toml").string() + ":2:1: unknown key 'scaner-id'"), std::string::npos)
      << r.message;
  writeFile(dir / "broken.toml", "event = \"e\"\nlog = \n");
  r = parse({"--config", (dir / "broken.toml").string()});
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find("broken.toml:2:"), std::string::npos) << r.message;
  writeFile(dir / "type.toml", "event = [\"e\"]\n");
  r = parse({"--config", (dir / "type.toml").string()});
  EXPECT_NE(r.message.find("type.toml:1:9: key 'event' must be"), std::string::npos) << r.message;
}

TEST(ScannerConfig, HelpExitsZeroAndListsTheExitCodes) {
  const auto r = parse({"--help"});
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.exitCode, kExitOk);
  EXPECT_NE(r.message.find("--dedup-window"), std::string::npos);
  EXPECT_NE(r.message.find("Exit codes:\n  0   "), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("\n  3   another process holds the log's lock"), std::string::npos) << r.message;
}

TEST(ScannerConfig, VersionExitsZeroWithToolVersionAndRevision) {
  const auto r = parse({"--version"});
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.exitCode, kExitOk);
  EXPECT_EQ(r.message.rfind("attendance-scanner ", 0), 0U) << r.message;
  EXPECT_EQ(r.message.back(), ')') << r.message;
}

// One error format for every tool: "<tool>: error: <message>", then the pointer to --help.
TEST(ScannerConfig, CommandLineErrorsUseTheCommonFormat) {
  const auto r = parse({"--bogus"});
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_EQ(r.message,
            "attendance-scanner: error: the following argument was not expected: --bogus\n"
            "run 'attendance-scanner --help' for usage");
  const auto missing = parse({"--event"});
  EXPECT_EQ(missing.exitCode, kExitUsage);
  EXPECT_EQ(missing.message.rfind("attendance-scanner: error: --event", 0), 0U) << missing.message;
}

TEST(ScannerConfig, Durations) {
  EXPECT_EQ(parseDuration("500ms"), 500ms);
  EXPECT_EQ(parseDuration("90s"), 90s);
  EXPECT_EQ(parseDuration("90"), 90s);
  EXPECT_EQ(parseDuration("5m"), 5min);
  EXPECT_EQ(parseDuration("2h"), 2h);
  EXPECT_FALSE(parseDuration("-1s"));
  EXPECT_FALSE(parseDuration("5 m"));
  EXPECT_FALSE(parseDuration("m"));
  EXPECT_FALSE(parseDuration("99999999999999h"));
}

TEST(ScannerConfig, ShippedExampleConfigIsValid) {
  const auto r = parse({"--config", std::string(ATTENDANCE_SOURCE_DIR) + "/apps/scanner/systemd/scanner.toml.example"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->scannerId, "Entrance-Scanner-01");
  EXPECT_EQ(r.config->log, "/var/lib/attendance/attendance_log.jsonl");
}

TEST(ScannerConfig, MirrorIsASecondPathNotTheLogItself) {
  auto r = parse({"--event", "e", "--scanner-id", "s", "--log", "/data/a.jsonl", "--accept-any-id"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_FALSE(r.config->mirror);
  r = parse({"--event", "e", "--scanner-id", "s", "--log", "/data/a.jsonl", "--accept-any-id", "--mirror",
             "/media/usb/a.jsonl"});
  ASSERT_TRUE(r.config) << r.message;
  EXPECT_EQ(r.config->mirror, std::filesystem::path("/media/usb/a.jsonl"));
  r = parse({"--event", "e", "--scanner-id", "s", "--log", "/data/a.jsonl", "--accept-any-id", "--mirror",
             "/data/./a.jsonl"});
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.exitCode, kExitUsage);
  EXPECT_NE(r.message.find("--mirror must be another file than --log"), std::string::npos) << r.message;
}
