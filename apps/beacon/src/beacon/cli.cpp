#include "beacon/cli.hpp"

#include "beacon/settings.hpp"

#include "app_cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <charconv>

namespace attendance::beacon {

std::optional<std::chrono::system_clock::time_point> parseInstant(const std::string& text) {
  if (auto iso = parseIsoUtc(text)) {
    return iso;
  }
  std::int64_t ms = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, ms);
  if (text.empty() || ec != std::errc{} || ptr != end || ms < 0) {
    return std::nullopt;
  }
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

boost::system::result<Options, CliExit> parseCommandLine(int argc, const char* const* argv) {
  constexpr std::string_view kTool = "attendance-beacon";
  Options o;
  std::string format = "ibeacon";
  std::string event;
  std::string at;

  CLI::App app{"Broadcasts a participant's id over Bluetooth LE through BlueZ, for Linux devices.", std::string{kTool}};
  app_cli::configure(app, kTool,
                     {{kExitOk, "stopped by SIGTERM/SIGINT (or: the id printed)"},
                      {kExitUsage, "usage or configuration error (flags, settings file, unknown event)"},
                      {kExitSignInRefused, "sign-in refused (wrong email or password)"},
                      {kExitBackend, "backend unreachable or its answer unusable (safe to run again)"},
                      {kExitBluetooth, "no system D-Bus (is bluetoothd running?) or the D-Bus connection lost"}},
                     "docs/beacon.md");
  app.add_option("--backend", o.backendUrl, "Backend base URL: sign in through the participant API");
  app.add_option("--email", o.email, "The participant's email");
  app.add_option("--password-file", o.passwordFile, "File holding the participant's password (first line)");
  app.add_option("--ca-file", o.caFile, "PEM file of CAs to trust instead of the system store");
  app.add_option("--settings", o.settingsFile, "Run offline from beacon settings saved with --save-settings");
  app.add_option("--save-settings", o.saveSettingsFile, "Write the beacon settings here (mode 0600: holds the key)");
  app.add_option("--format", format, "ibeacon (default) or eddystone");
  app.add_option("--event", event, "The event whose ids to broadcast (default: the one running now)");
  app.add_option("--adapter", o.adapter, "BlueZ adapter name, e.g. hci1 (default: the first that can advertise)");
  std::int64_t intervalMs = o.interval.count();
  app.add_option("--interval-ms", intervalMs,
                 "Advertising interval asked of BlueZ, 20-10240 ms (default 250: what the scanner's presence rule "
                 "needs at the door)");
  auto* id = app.add_subcommand("id", "Print the id broadcast at an instant as a canonical UUID, then exit");
  id->add_option("--at", at, "The instant: 2024-07-20T10:30:00Z or Unix epoch milliseconds")->required();
  id->fallthrough();  // the main options also after `id`

  const auto usage = [&](const std::string& message) {
    return CliExit{kExitUsage, {}, app_cli::errorLine(kTool, message) + "\n"};
  };
  if (auto exit = app_cli::parse(app, argc, argv)) {
    return CliExit{exit->code, exit->out, exit->err};
  }
  if (format == "ibeacon") {
    o.format = AdvertFormat::ibeacon;
  } else if (format == "eddystone") {
    o.format = AdvertFormat::eddystone;
  } else {
    return usage("--format must be ibeacon or eddystone (got \"" + format + "\")");
  }
  // Legacy advertising allows 20 ms to 10.24 s; slower than 250 ms delays check-ins (ADR 0025).
  if (intervalMs < 20 || intervalMs > 10'240) {
    return usage("--interval-ms must be between 20 and 10240 (got " + std::to_string(intervalMs) + ")");
  }
  o.interval = std::chrono::milliseconds{intervalMs};
  if (app.get_option("--event")->count() > 0) {
    o.eventId = event;
  }
  if (*id) {
    o.idAt = parseInstant(at);
    if (!o.idAt) {
      return usage("--at must be an ISO UTC time like 2024-07-20T10:30:00Z or Unix milliseconds (got \"" + at + "\")");
    }
  }
  const bool online = !o.backendUrl.empty() || !o.email.empty() || !o.passwordFile.empty();
  if (online && !o.settingsFile.empty()) {
    return usage("--settings runs offline; give it without --backend, --email and --password-file");
  }
  if (o.settingsFile.empty() && (o.backendUrl.empty() || o.email.empty() || o.passwordFile.empty())) {
    return usage(
        "say where the beacon settings come from: --backend URL --email E --password-file F, or --settings FILE");
  }
  return o;
}

}  // namespace attendance::beacon
