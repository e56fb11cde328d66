#include "scanner/config.hpp"

#include <charconv>
#include <map>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include "app_cli/cli.hpp"

namespace attendance::scanner {
namespace {

// Every setting, by its flag name (without "--"), which is also its config key.
struct Setting {
  const char* name;
  const char* help;
};

constexpr Setting kSettings[] = {
    {"event", "event id the check-ins belong to (required)"},
    {"scanner-id", "name of this scanner, e.g. Entrance-Scanner-01 (required)"},
    {"log", "path of the JSONL check-in log (required)"},
    {"mirror", "second copy of the log on another device (a USB stick); a failing copy never stops the other"},
    {"dedup-window", "log a participant again only after this long (default 5m)"},
    {"dedup-capacity", "participants remembered at most (default 16384)"},
    {"adapter", "BlueZ adapter name, e.g. hci1 (default: first powered adapter)"},
    {"rssi-min", "check in only at this smoothed RSSI (dBm) or stronger, or 'none' (default -90)"},
    {"min-sightings", "sightings in one run before a check-in (default 2; 1 with --min-dwell 0: one packet)"},
    {"min-dwell", "time from a run's first to its qualifying sighting, or 0 (default 1.5s)"},
    {"formats", "enabled formats: ibeacon,eddystone,service-uuid,service-data (default all)"},
    {"attendance-service-uuid", "service UUID of the service-data format"},
    {"fsync", "durability: always | interval | never (default interval)"},
    {"fsync-interval", "longest exposure with --fsync interval (default 1s)"},
    {"roster", "roster.json: log only registered bleUuids, count the rest as ignored"},
    {"namespace", "the deployment's 20-hex-digit namespace (attendance-admin deployment show): log only ids inside it"},
    {"accept-any-id", "log every participant-format id: no roster, no namespace (test benches only)"},
    {"status-interval", "period of the status line (default 30s)"},
    {"last-seen-interval", "period of the last-seen lines of present participants, or off (default 5m)"},
    {"ble-watchdog", "restart discovery after this long without advertisements (default 90s)"},
    {"record-rssi", "write the rssi key: true | false (default true)"},
    {"max-pending", "check-ins kept in memory while the log cannot be written (default 100000)"},
    {"log-level", "debug | info | warn | error (default info)"},
};

struct Problem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class Int>
Int parseInt(const std::string& name, const std::string& v, Int min, Int max) {
  Int out{};
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || out < min || out > max) {
    throw Problem("--" + name + ": '" + v + "' is not an integer in [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  }
  return out;
}

std::chrono::milliseconds duration(const std::string& name, const std::string& v) {
  const auto d = parseDuration(v);
  if (!d) throw Problem("--" + name + ": '" + v + "' is not a duration like 500ms, 90s, 5m or 2h");
  return *d;
}

// Ids go into every log line: they must survive format → parse unchanged (valid
// UTF-8, no control characters) and respect the reader's length limit.
void checkId(const char* name, const std::string& id) {
  if (id.size() > jsonl_log::kMaxIdBytes) throw Problem(std::string("--") + name + " is longer than 256 bytes");
  for (const char ch : id) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) {
      throw Problem(std::string("--") + name + " contains a control character");
    }
  }
  jsonl_log::CheckIn probe;
  probe.scannerId = id;
  probe.eventId = id;
  std::string line = jsonl_log::formatLine(probe);
  line.pop_back();
  const auto back = jsonl_log::parseLine(line);
  if (!back || back->eventId != id) throw Problem(std::string("--") + name + " is not valid UTF-8");
}

ScannerConfig build(const std::map<std::string, std::string>& s) {
  ScannerConfig c;
  const auto get = [&s](const char* k) -> const std::string* {
    const auto it = s.find(k);
    return it == s.end() ? nullptr : &it->second;
  };
  const auto required = [&](const char* k) -> std::string {
    const auto* v = get(k);
    if (v == nullptr || v->empty()) throw Problem(std::string("--") + k + " is required (flag or config key)");
    return *v;
  };
  c.eventId = required("event");
  c.scannerId = required("scanner-id");
  c.log = required("log");
  if (const auto* v = get("mirror")) {
    c.mirror = *v;
    if (c.mirror->lexically_normal() == c.log.lexically_normal()) {
      throw Problem("--mirror must be another file than --log (on another device)");
    }
  }
  checkId("event", c.eventId);
  checkId("scanner-id", c.scannerId);
  if (const auto* v = get("dedup-window")) c.dedupWindow = duration("dedup-window", *v);
  if (const auto* v = get("dedup-capacity")) {
    c.dedupCapacity = parseInt<std::size_t>("dedup-capacity", *v, 1, std::size_t{1} << 24);
  }
  if (const auto* v = get("adapter")) c.adapter = *v;
  if (const auto* v = get("rssi-min")) {
    if (*v == "none")
      c.rssiMin.reset();
    else
      c.rssiMin = parseInt<std::int16_t>("rssi-min", *v, -127, 20);
  }
  if (const auto* v = get("min-sightings")) c.minSightings = parseInt<std::size_t>("min-sightings", *v, 1, 1000);
  if (const auto* v = get("min-dwell")) {
    // 0 is meaningful here (single-packet mode), unlike for every other duration.
    c.minDwell = (*v == "0" || *v == "0s" || *v == "0ms") ? std::chrono::milliseconds{0} : duration("min-dwell", *v);
  }
  if (const auto* v = get("formats")) {
    const auto f = ble_scan::FormatSet::parse(*v);
    if (!f) throw Problem("--formats: " + f.error().message);
    c.formats = *f;
  }
  if (const auto* v = get("attendance-service-uuid")) {
    const auto u = support::Uuid::parse(*v);
    if (!u) throw Problem("--attendance-service-uuid: '" + *v + "' is not an 8-4-4-4-12 UUID");
    c.attendanceServiceUuid = *u;
  }
  if (const auto* v = get("fsync")) {
    const auto p = jsonl_log::parseFsyncPolicy(*v);
    if (!p) throw Problem("--fsync: '" + *v + "' is not one of always, interval, never");
    c.fsync = *p;
  }
  if (const auto* v = get("fsync-interval")) c.fsyncInterval = duration("fsync-interval", *v);
  if (const auto* v = get("roster"); v != nullptr && !v->empty()) c.roster = *v;
  if (const auto* v = get("namespace"); v != nullptr && !v->empty()) {
    c.bleNamespace = support::BleNamespace::parseHex(*v);
    if (!c.bleNamespace) throw Problem("--namespace: '" + *v + "' is not 20 hex digits");
  }
  if (const auto* v = get("accept-any-id")) {
    if (*v == "true")
      c.acceptAnyId = true;
    else if (*v != "false")
      throw Problem("--accept-any-id: '" + *v + "' is not true or false");
  }
  if (const auto* v = get("status-interval")) c.statusInterval = duration("status-interval", *v);
  if (const auto* v = get("last-seen-interval")) {
    if (*v == "off")
      c.lastSeenInterval.reset();
    else
      c.lastSeenInterval = duration("last-seen-interval", *v);
  }
  if (const auto* v = get("ble-watchdog")) c.bleWatchdog = duration("ble-watchdog", *v);
  if (const auto* v = get("record-rssi")) {
    if (*v == "true")
      c.recordRssi = true;
    else if (*v == "false")
      c.recordRssi = false;
    else
      throw Problem("--record-rssi: '" + *v + "' is not true or false");
  }
  if (const auto* v = get("max-pending")) c.maxPending = parseInt<std::size_t>("max-pending", *v, 1, 10'000'000);
  if (const auto* v = get("log-level")) {
    using support::log::Level;
    if (*v == "debug")
      c.logLevel = Level::debug;
    else if (*v == "info")
      c.logLevel = Level::info;
    else if (*v == "warn")
      c.logLevel = Level::warn;
    else if (*v == "error")
      c.logLevel = Level::error;
    else
      throw Problem("--log-level: '" + *v + "' is not one of debug, info, warn, error");
  }
  // Issue 11: without a roster or a namespace, every dev board and factory-default tag in
  // the room would become a check-in.
  if (!c.roster && !c.bleNamespace && !c.acceptAnyId) {
    throw Problem(
        "nothing tells participants from other devices: pass --namespace HEX (from `attendance-admin deployment "
        "show`), or --roster FILE (from `attendance-sync roster`), or --accept-any-id to log every id (test "
        "benches only)");
  }
  return c;
}

void readConfigFile(const std::string& path, std::map<std::string, std::string>& out) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw Problem(app_cli::fileError(path, where.line, where.column, e.description()));
  }
  for (const auto& [key, node] : table) {
    const std::string k(key.str());
    bool known = false;
    for (const auto& s : kSettings) known = known || k == s.name;
    const auto& at = known ? node.source().begin : key.source().begin;
    if (!known) throw Problem(app_cli::fileError(path, at.line, at.column, "unknown key '" + k + "'"));
    if (const auto* str = node.as_string())
      out[k] = str->get();
    else if (const auto* i = node.as_integer())
      out[k] = std::to_string(i->get());
    else if (const auto* b = node.as_boolean())
      out[k] = b->get() ? "true" : "false";
    else
      throw Problem(
          app_cli::fileError(path, at.line, at.column, "key '" + k + "' must be a string, integer or boolean"));
  }
}

}  // namespace

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  std::int64_t n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (r.ec != std::errc{} || n <= 0) return std::nullopt;
  const std::string_view unit(r.ptr, static_cast<std::size_t>(text.data() + text.size() - r.ptr));
  std::int64_t factor = 0;
  if (unit == "ms")
    factor = 1;
  else if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "m" || unit == "min")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return std::nullopt;
  if (n > (std::int64_t{1} << 40) / factor) return std::nullopt;
  return std::chrono::milliseconds{n * factor};
}

ParsedCommandLine parseCommandLine(int argc, const char* const* argv) {
  CLI::App app{"attendance-scanner: turns BLE advertisements into a durable JSONL check-in log, offline",
               "attendance-scanner"};
  app_cli::configure(app, "attendance-scanner",
                     {{kExitOk, "stopped by SIGTERM/SIGINT with every check-in written"},
                      {kExitFatal, "runtime failure: log unusable (fsync failed), D-Bus lost or absent"},
                      {kExitUsage, "bad flag, config file or roster"},
                      {kExitLocked, "another process holds the log's lock"},
                      {kExitUnwritten, "check-ins could not be written before exit (dumped to the journal)"},
                      {kExitBleStalled, "no advertisements after a discovery restart and an adapter power cycle"}},
                     "docs/scanner.md");
  std::map<std::string, std::string> flagValues;
  std::string configPath;
  app.add_option("--config", configPath, "TOML file with the same keys as the flags; flags win");
  std::map<std::string, CLI::Option*> options;
  for (const auto& s : kSettings) {
    // A switch on the command line, a boolean in the config file.
    if (std::string_view(s.name) == "accept-any-id") {
      options[s.name] = app.add_flag(std::string("--") + s.name, s.help);
      flagValues[s.name] = "true";
      continue;
    }
    options[s.name] = app.add_option(std::string("--") + s.name, flagValues[s.name], s.help);
  }
  ParsedCommandLine out;
  if (auto exit = app_cli::parse(app, argc, argv)) {
    out.exitCode = exit->code;
    out.message = exit->code == kExitOk ? exit->out : exit->err;
    while (!out.message.empty() && out.message.back() == '\n') out.message.pop_back();
    return out;
  }
  try {
    std::map<std::string, std::string> merged;
    if (!configPath.empty()) readConfigFile(configPath, merged);
    for (const auto& [name, opt] : options) {
      if (opt->count() > 0) merged[name] = flagValues[name];
    }
    out.config = build(merged);
  } catch (const Problem& p) {
    out.message = app_cli::errorLine("attendance-scanner", p.what());
    out.exitCode = kExitUsage;
  }
  return out;
}

}  // namespace attendance::scanner
