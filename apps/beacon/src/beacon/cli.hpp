#pragma once

// attendance-beacon's command line (docs/beacon.md):
//   attendance-beacon (--backend URL --email E --password-file F | --settings FILE) [--save-settings FILE]
//                     [--format ibeacon|eddystone] [--event ID] [--adapter NAME] [--interval-ms N]
//   attendance-beacon id --at TIME [the same options]
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace attendance::beacon {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;          // command line, settings file, unknown event
inline constexpr int kExitSignInRefused = 3;  // wrong email or password, or the account cannot have beacon settings
inline constexpr int kExitBackend = 4;        // backend unreachable or its answer unusable (safe to run again)
inline constexpr int kExitBluetooth = 5;      // no system D-Bus, or the D-Bus connection lost

enum class AdvertFormat { ibeacon, eddystone };

struct Options {
  // Where the settings come from: the participant API, or a saved file.
  std::string backendUrl;
  std::string email;
  std::string passwordFile;
  std::string caFile;
  std::string settingsFile;
  std::string saveSettingsFile;  // "" = do not save
  AdvertFormat format = AdvertFormat::ibeacon;
  std::optional<std::string> eventId;
  std::string adapter;  // "" = the first adapter that can advertise
  // Advertising interval asked of BlueZ; 250 ms is what the scanner's presence rule needs (ADR 0025).
  std::chrono::milliseconds interval{250};
  // The `id` subcommand: print the id for this instant and exit.
  std::optional<std::chrono::system_clock::time_point> idAt;
};

struct CliExit {
  int code = kExitOk;
  std::string out;  // --help, --version
  std::string err;  // usage errors, in the common format
};

[[nodiscard]] boost::system::result<Options, CliExit> parseCommandLine(int argc, const char* const* argv);

// "2024-07-20T10:30:00Z" (a fraction allowed) or Unix epoch milliseconds.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parseInstant(const std::string& text);

}  // namespace attendance::beacon
