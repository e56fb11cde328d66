#include "scanner/app.hpp"

#include <signal.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <attendance/ble_scan/bluez_scanner.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include <attendance/support/log.hpp>
#include "app_cli/cli.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/roster.hpp"

namespace attendance::scanner {
namespace {

namespace log = support::log;
using namespace std::chrono_literals;

volatile sig_atomic_t gStopRequested = 0;
std::atomic<ble_scan::BluezScanner*> gScanner{nullptr};

extern "C" void onStopSignal(int) {
  gStopRequested = 1;
  if (auto* s = gScanner.load()) s->wake();
}

void sleepFor(std::chrono::milliseconds d) {
  timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>((d.count() % 1000) * 1'000'000)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR && !gStopRequested) {
  }
}

// A reason to stop: the JSON log line for the journal and log shippers, and the
// one plain line every tool ends with ("attendance-scanner: error: ...").
int fail(int exitCode, const char* event, const std::string& message) {
  log::error(event, {{"error", message}});
  std::fprintf(stderr, "%s\n", app_cli::errorLine("attendance-scanner", message).c_str());
  return exitCode;
}

// Packets this far below --rssi-min are dropped before the presence rule: no median of
// three can lift them to the threshold in practice (RSSI noise is a few dB), and they
// would only fill the candidate table. Applied both in SetDiscoveryFilter and locally.
constexpr int kHardFloorBelowRssiMin = 20;

struct Status {
  const PipelineCounters& p;
  const PresenceFilter& presence;
  const ble_scan::ScannerCounters& b;
  std::size_t pending;
  std::uint64_t durableLines;
  std::string_view state;
  const Roster* roster;
  const jsonl_log::Writer& writer;
};

std::string statusText(const Status& s) {
  std::string t = "adverts=" + std::to_string(s.b.advertisements) + " unique=" + std::to_string(s.p.uniqueIds) +
                  " written=" + std::to_string(s.p.logged) + " noise=" + std::to_string(s.b.ignoredNoise) +
                  " not-rostered=" + std::to_string(s.p.notOnRoster) +
                  " outside-namespace=" + std::to_string(s.p.outsideNamespace) +
                  " pending=" + std::to_string(s.pending) + " candidates=" + std::to_string(s.presence.pending()) +
                  " expired=" + std::to_string(s.presence.counters().expired) +
                  " ios-background=" + std::to_string(s.b.backgroundIphones);
  if (s.roster != nullptr) {
    t += " registered=" + std::to_string(s.p.rosterArrivals) + "/" + std::to_string(s.roster->size());
  }
  t += " ble=";
  t += s.state;
  if (s.writer.mirrorState() != jsonl_log::CopyState::off) {
    // Which copies of the log are still being written (docs/scanner.md, "Mirror").
    t += " log=";
    t += jsonl_log::toString(s.writer.primaryState());
    t += " mirror=";
    t += jsonl_log::toString(s.writer.mirrorState());
  }
  return t;
}

// True when a copy of the log was given up since the last call: the status line then
// goes out at once, not at the next period.
bool reportFailedCopies(const jsonl_log::Writer& writer, bool (&reported)[2]) {
  bool changed = false;
  const jsonl_log::CopyState states[2] = {writer.primaryState(), writer.mirrorState()};
  for (int i = 0; i < 2; ++i) {
    if (states[i] == jsonl_log::CopyState::failed && !reported[i]) {
      reported[i] = true;
      changed = true;
    }
  }
  return changed;
}

void logStatus(const char* event, const Status& s) {
  log::info(event, {{"advertisements", s.b.advertisements},
                    {"sightings", s.p.sightings},
                    {"uniqueIds", s.p.uniqueIds},
                    {"linesWritten", s.p.logged},
                    {"duplicates", s.p.duplicates},
                    // Ignored, by kind: not a participant format, not on the roster, not this deployment's.
                    {"noise", s.b.ignoredNoise},
                    {"notOnRoster", s.p.notOnRoster},
                    {"outsideNamespace", s.p.outsideNamespace},
                    {"belowRssiFloor", s.b.belowRssiFloor},
                    {"notYetPresent", s.p.notYetPresent},
                    {"candidatesPending", s.presence.pending()},
                    {"candidatesExpired", s.presence.counters().expired},
                    {"candidatesEvicted", s.presence.counters().evicted},
                    {"pending", s.pending},
                    {"lastSeenLines", s.p.lastSeenWritten},
                    {"lastSeenDropped", s.p.lastSeenDropped},
                    {"dropped", s.p.dropped},
                    {"durableLines", s.durableLines},
                    {"logCopy", jsonl_log::toString(s.writer.primaryState())},
                    {"mirrorCopy", jsonl_log::toString(s.writer.mirrorState())},
                    {"registeredArrivals", s.p.rosterArrivals},
                    {"rosterSize", s.roster != nullptr ? s.roster->size() : std::size_t{0}},
                    {"discoveryRestarts", s.b.discoveryRestarts},
                    {"backgroundIphones", s.b.backgroundIphones},
                    {"backgroundIphonesPeak", s.b.backgroundIphonesPeak},
                    {"appleOverflowFrames", s.b.appleOverflowFrames},
                    {"ble", s.state}});
}

}  // namespace

void installStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked poll returns EINTR
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int run(const ScannerConfig& config, const support::TimeSource& time, const BootClock& boot) {
  log::setMinimumLevel(config.logLevel);

  std::optional<Roster> roster;
  if (config.roster) {
    auto loaded = Roster::load(*config.roster);
    if (!loaded) return fail(kExitUsage, "scanner.bad_roster", loaded.error().message);
    roster = std::move(*loaded);
    if (roster->eventId() != config.eventId) {
      return fail(kExitUsage, "scanner.bad_roster",
                  "roster " + config.roster->string() + " is for event '" + roster->eventId() + "', not '" +
                      config.eventId + "'");
    }
  }

  // The namespace: the flag (or config key), else the roster's; two different ones are a
  // scanner set up for another deployment.
  std::optional<support::BleNamespace> bleNamespace = config.bleNamespace;
  if (roster && roster->bleNamespace()) {
    if (bleNamespace && *bleNamespace != *roster->bleNamespace()) {
      return fail(kExitUsage, "scanner.bad_roster",
                  "roster " + config.roster->string() + " is for namespace " + roster->bleNamespace()->toHex() +
                      ", --namespace says " + bleNamespace->toHex());
    }
    bleNamespace = roster->bleNamespace();
  }
  // A private-ids event's roster (ADR 0078) names nobody: its participants broadcast rotating ids, so
  // the namespace it carries is the filter, exactly as with --namespace.
  if (roster && roster->privateIds()) {
    log::info("scanner.roster_private_ids", {{"eventId", roster->eventId()}, {"namespace", bleNamespace->toHex()}});
    roster.reset();
  }

  // A short lock wait rides out a sync probing the lock or the previous scanner still exiting.
  auto opened = jsonl_log::Writer::open(config.log,
                                        {.fsync = config.fsync,
                                         .syncInterval = config.fsyncInterval,
                                         .lockWait = std::chrono::seconds{2},
                                         .mirror = config.mirror.value_or(std::filesystem::path{})},
                                        support::toEpochMillis(time.systemTime()));
  if (!opened) {
    const bool locked = opened.error().code.value() == EWOULDBLOCK;
    return fail(locked ? kExitLocked : kExitFatal, locked ? "scanner.log_locked" : "scanner.log_open_failed",
                opened.error().message);
  }
  jsonl_log::Writer& writer = **opened;
  const auto& rec = writer.recovery();
  if (!rec.quarantineFile.empty()) {
    log::warn("log.tail_quarantined", {{"log", config.log.string()},
                                       {"quarantineFile", rec.quarantineFile.string()},
                                       {"bytes", rec.quarantinedBytes},
                                       {"keptLines", rec.keptLines}});
  }
  if (rec.completedLastLine) log::warn("log.last_line_completed", {{"log", config.log.string()}});
  log::info("log.opened", {{"log", config.log.string()},
                           {"created", rec.created},
                           {"lines", rec.keptLines},
                           {"records", rec.records},
                           {"badLines", rec.badLines},
                           {"fsync", jsonl_log::toString(config.fsync)},
                           {"mirror", config.mirror ? config.mirror->string() : std::string{}}});

  // Every registered participant must fit in the dedup table, or evictions would
  // re-log people standing in front of the scanner.
  std::size_t dedupCapacity = config.dedupCapacity;
  if (roster && roster->size() + roster->size() / 4 > dedupCapacity) {
    dedupCapacity = roster->size() + roster->size() / 4;
    log::info("dedup.capacity_raised", {{"capacity", dedupCapacity}, {"rosterSize", roster->size()}});
  }
  Pipeline pipeline({.scannerId = config.scannerId,
                     .eventId = config.eventId,
                     .dedupWindow = config.dedupWindow,
                     .dedupCapacity = dedupCapacity,
                     .recordRssi = config.recordRssi,
                     .maxPending = config.maxPending,
                     // As big as the dedup table: everyone who can be logged can also be a candidate.
                     .presence = {.minSightings = config.minSightings,
                                  .minDwell = config.minDwell,
                                  .rssiMin = config.rssiMin,
                                  .capacity = dedupCapacity},
                     .bleNamespace = bleNamespace,
                     .lastSeenInterval = config.lastSeenInterval},
                    time, boot, writer, roster ? &*roster : nullptr);
  if (auto seeded = pipeline.seedFromLog(config.log); !seeded) {
    return fail(kExitFatal, "scanner.seed_failed", seeded.error().message);
  } else {
    log::info("dedup.seeded", {{"records", seeded->records},
                               {"seeded", seeded->seeded},
                               {"withoutEventId", seeded->withoutEventId},
                               {"otherEvents", seeded->otherEvents},
                               {"badLines", seeded->badLines}});
  }

  ble_scan::ScannerOptions bleOptions;
  bleOptions.adapterName = config.adapter;
  // --rssi-min applies to the smoothed RSSI of a run, so weak single packets must reach the pipeline.
  if (config.rssiMin) {
    bleOptions.rssiMin = static_cast<std::int16_t>(std::max(-127, *config.rssiMin - kHardFloorBelowRssiMin));
  } else {
    bleOptions.rssiMin.reset();
  }
  bleOptions.parser.formats = config.formats;
  bleOptions.parser.attendanceServiceUuid = config.attendanceServiceUuid;
  bleOptions.watchdog = config.bleWatchdog;
  auto created = ble_scan::BluezScanner::create(
      bleOptions, time,
      [&pipeline](const ble_scan::Sighting& s) {
        std::optional<int> rssi;
        if (s.rssi) rssi = *s.rssi;
        pipeline.onSighting(s.bleUuid, rssi, s.seenAt);
      },
      [](const ble_scan::StateChange& c) {
        log::info("ble.state", {{"state", ble_scan::stateName(c.state)}, {"adapter", c.adapter}, {"reason", c.reason}});
      });
  if (!created) return fail(kExitFatal, "scanner.dbus_failed", created.error().message);
  ble_scan::BluezScanner& scanner = **created;
  gScanner.store(&scanner);
  struct ClearGlobal {
    ~ClearGlobal() { gScanner.store(nullptr); }
  } clearGlobal;

  if (auto started = scanner.start(); !started) {
    return fail(kExitFatal, "scanner.dbus_failed", started.error().message);
  }
  log::info("scanner.started", {{"eventId", config.eventId},
                                {"scannerId", config.scannerId},
                                {"formats", config.formats.toString()},
                                {"dedupWindowMs", config.dedupWindow.count()},
                                {"minSightings", config.minSightings},
                                {"minDwellMs", config.minDwell.count()},
                                {"roster", roster ? static_cast<std::int64_t>(roster->size()) : -1},
                                {"namespace", bleNamespace ? bleNamespace->toHex() : std::string{}},
                                {"acceptAnyId", !roster && !bleNamespace}});
  ::sd_notify(0, "READY=1\nSTATUS=scanning");

  std::uint64_t watchdogUsec = 0;
  const bool watchdog = ::sd_watchdog_enabled(0, &watchdogUsec) > 0 && watchdogUsec > 0;
  const auto watchdogPeriod =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds{watchdogUsec / 2});

  auto now = time.monotonicTime();
  auto nextStatus = now + config.statusInterval;
  auto nextWatchdog = now + watchdogPeriod;
  int exitCode = kExitOk;
  std::string why;        // the reason of a failure exit, for the last line
  bool logFatal = false;  // the log itself failed: nothing more may be written
  bool reportedCopyFailure[2] = {false, false};
  while (!gStopRequested) {
    now = time.monotonicTime();
    auto wake = std::min(nextStatus, now + 1s);
    if (watchdog) wake = std::min(wake, nextWatchdog);
    if (const auto d = pipeline.nextDeadline()) wake = std::min(wake, *d);
    const auto wait = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(wake - now), 0ms);
    if (auto polled = scanner.poll(wait); !polled) {
      if (gStopRequested) break;
      if (scanner.state() == ble_scan::ScannerState::stalled) {
        // Last step of the escalation (docs/ble.md): a fresh process, restarted by systemd.
        log::error("scanner.ble_stalled", {{"error", polled.error().message}, {"exitCode", kExitBleStalled}});
        exitCode = kExitBleStalled;
        why = polled.error().message;
        break;
      }
      log::error("scanner.dbus_lost", {{"error", polled.error().message}});
      exitCode = kExitFatal;
      why = polled.error().message;
      break;
    }
    if (auto ticked = pipeline.tick(); !ticked) {
      log::error("log.fatal", {{"error", ticked.error().message}});
      exitCode = kExitFatal;
      why = ticked.error().message;
      logFatal = true;
      break;
    }
    now = time.monotonicTime();
    const bool copyJustFailed = reportFailedCopies(writer, reportedCopyFailure);
    if (now >= nextStatus || copyJustFailed) {
      const auto counters = scanner.counters();
      const Status s{pipeline.counters(),
                     pipeline.presence(),
                     counters,
                     pipeline.pendingCount(),
                     writer.durableLines(),
                     ble_scan::stateName(scanner.state()),
                     roster ? &*roster : nullptr,
                     writer};
      logStatus("scanner.status", s);
      // Loud while a copy is given up: an error line with every status line.
      if (writer.primaryState() == jsonl_log::CopyState::failed) {
        log::error("log.primary_failed", {{"log", config.log.string()}, {"error", writer.primaryError()}});
      }
      if (writer.mirrorState() == jsonl_log::CopyState::failed) {
        log::error("log.mirror_failed", {{"mirror", config.mirror->string()}, {"error", writer.mirrorError()}});
      }
      ::sd_notifyf(0, "STATUS=%s", statusText(s).c_str());
      nextStatus = now + config.statusInterval;
    }
    if (watchdog && now >= nextWatchdog) {
      ::sd_notify(0, "WATCHDOG=1");
      nextWatchdog = now + watchdogPeriod;
    }
  }

  ::sd_notify(0, "STOPPING=1\nSTATUS=stopping: flushing the log");
  log::info("scanner.stopping", {{"reason", exitCode == kExitOk ? "signal" : "error"}});
  scanner.stop();
  gScanner.store(nullptr);

  if (!logFatal) {
    // Also after losing D-Bus: what was seen gets written and synced.
    // Give a full disk a few chances to clear before giving up on pending check-ins.
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto flushed = pipeline.flush();
      if (!flushed) {
        log::error("log.fatal", {{"error", flushed.error().message}});
        exitCode = kExitFatal;
        why = flushed.error().message;
        break;
      }
      if (pipeline.pendingCount() == 0) break;
      sleepFor(500ms);
    }
  }
  if (pipeline.pendingCount() > 0 || pipeline.counters().dropped > 0) {
    // Last resort: the journal keeps them; an operator can append these lines by hand.
    for (const auto& c : pipeline.pending()) {
      std::string line = jsonl_log::formatLine(c);
      line.pop_back();
      log::error("scanner.unwritten_checkin", {{"line", line}});
    }
    log::error("scanner.checkins_lost",
               {{"unwritten", pipeline.pendingCount()}, {"dropped", pipeline.counters().dropped}});
    if (exitCode == kExitOk) exitCode = kExitUnwritten;
    if (why.empty()) {
      why = std::to_string(pipeline.pendingCount() + pipeline.counters().dropped) +
            " check-ins could not be written (the journal has them as scanner.unwritten_checkin)";
    }
  }
  const auto counters = scanner.counters();
  logStatus("scanner.stopped",
            Status{pipeline.counters(), pipeline.presence(), counters, pipeline.pendingCount(), writer.durableLines(),
                   ble_scan::stateName(scanner.state()), roster ? &*roster : nullptr, writer});
  if (exitCode != kExitOk && why.empty()) why = "stopped with exit code " + std::to_string(exitCode);
  if (exitCode != kExitOk) std::fprintf(stderr, "%s\n", app_cli::errorLine("attendance-scanner", why).c_str());
  return exitCode;
}

}  // namespace attendance::scanner
