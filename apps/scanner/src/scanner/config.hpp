#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/ble_scan/advertisement.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/uuid.hpp>

namespace attendance::scanner {

// Exit codes of attendance-scanner (docs/scanner.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;       // runtime failure: fsync failed, bus lost, log unusable
inline constexpr int kExitUsage = 2;       // bad flags, config file or roster
inline constexpr int kExitLocked = 3;      // another process holds the log's lock
inline constexpr int kExitUnwritten = 4;   // check-ins could not be written before exit (dumped to the journal)
inline constexpr int kExitBleStalled = 5;  // no advertisements after a discovery restart and an adapter power cycle

struct ScannerConfig {
  std::string eventId;
  std::string scannerId;
  std::filesystem::path log;
  // --mirror: a second copy of the log on another device (docs/log-format.md, "Mirror").
  std::optional<std::filesystem::path> mirror;
  std::chrono::milliseconds dedupWindow{std::chrono::minutes{5}};
  std::size_t dedupCapacity = 16384;
  std::string adapter;                                      // empty = first powered adapter
  std::optional<std::int16_t> rssiMin = std::int16_t{-90};  // on the smoothed RSSI of a run (ADR 0025)
  std::size_t minSightings = 2;
  std::chrono::milliseconds minDwell{1500};
  ble_scan::FormatSet formats = ble_scan::FormatSet::all();
  support::Uuid attendanceServiceUuid = ble_scan::kDefaultAttendanceServiceUuid;
  jsonl_log::FsyncPolicy fsync = jsonl_log::FsyncPolicy::interval;
  std::chrono::milliseconds fsyncInterval{std::chrono::seconds{1}};
  std::optional<std::filesystem::path> roster;
  // Who may be logged (ADR 0027): ids inside the deployment's namespace, or (with a
  // roster) only rostered ids. Without either, only --accept-any-id starts the scanner.
  std::optional<support::BleNamespace> bleNamespace;
  bool acceptAnyId = false;
  std::chrono::milliseconds statusInterval{std::chrono::seconds{30}};
  // Last-seen lines (ADR 0026); std::nullopt (`off`) writes none.
  std::optional<std::chrono::milliseconds> lastSeenInterval{std::chrono::minutes{5}};
  std::chrono::milliseconds bleWatchdog{std::chrono::seconds{90}};
  bool recordRssi = true;
  std::size_t maxPending = 100'000;
  support::log::Level logLevel = support::log::Level::info;
};

struct ParsedCommandLine {
  std::optional<ScannerConfig> config;  // set when the scanner should run
  int exitCode = kExitOk;               // otherwise: exit with this code...
  std::string message;                  // ...after printing this (help text or error)
};

// Flags, then the optional --config TOML file for everything not given as a flag
// (flags win). Every problem is a sentence naming the flag or key, and exit code 2.
[[nodiscard]] ParsedCommandLine parseCommandLine(int argc, const char* const* argv);

// "500ms", "90s", "5m", "2h" or a plain number of seconds. Positive only (--min-dwell
// alone also takes 0).
[[nodiscard]] std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

}  // namespace attendance::scanner
