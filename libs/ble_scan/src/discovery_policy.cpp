#include "discovery_policy.hpp"

#include "bluez_paths.hpp"

#include <attendance/support/log.hpp>

namespace attendance::ble_scan::detail {

namespace {
// How long after our StartDiscovery a Discovering=false is still the echo of our own StopDiscovery.
constexpr auto kConfirmGrace = std::chrono::seconds{2};

PolicyAction act(PolicyAction::Kind kind, std::string adapter, std::uint64_t epoch = 0) {
  PolicyAction a;
  a.kind = kind;
  a.adapter = std::move(adapter);
  a.epoch = epoch;
  return a;
}
}  // namespace

void DiscoveryPolicy::start(const std::string& bluezOwner) {
  running_ = true;
  stalled_ = false;
  silentPeriods_ = 0;
  powerOnTried_ = false;
  lastAdvert_ = now();
  nextAttempt_ = now();
  bluezOwner_ = bluezOwner;
  resyncNeeded_ = !bluezOwner_.empty();
}

DiscoveryPolicy::Actions DiscoveryPolicy::stop() {
  Actions out;
  if (!running_) {
    return out;
  }
  running_ = false;
  if ((sessionActive_ || startInFlight_) && !currentAdapter_.empty() && !bluezOwner_.empty()) {
    // Not waited for (bluetoothd may be hung): BlueZ ends a client's discovery session
    // anyway when the client's connection closes.
    out.push_back(act(PolicyAction::Kind::stop_discovery, currentAdapter_));
  }
  startInFlight_ = false;
  sessionActive_ = false;
  setState(out, ScannerState::stopped, "stopped");
  return out;
}

void DiscoveryPolicy::setState(Actions& out, ScannerState s, std::string_view reason) {
  const std::string name = currentAdapter_.empty() ? std::string{} : lastPathComponent(currentAdapter_);
  if (s == state_ && name == stateAdapterName_) {
    return;
  }
  state_ = s;
  stateAdapterName_ = name;
  support::log::info("ble.state", {{"state", stateName(s)}, {"adapter", stateAdapterName_}, {"reason", reason}});
  auto a = act(PolicyAction::Kind::state_changed, stateAdapterName_);
  a.state = s;
  a.reason = std::string{reason};
  out.push_back(std::move(a));
}

void DiscoveryPolicy::abandonStart() {
  ++epoch_;
  startInFlight_ = false;
}

void DiscoveryPolicy::forgetAdapters() {
  adapters_.clear();
  currentAdapter_.clear();
  sessionActive_ = false;
}

// ---- events -----------------------------------------------------------------

void DiscoveryPolicy::bluezOwnerChanged(const std::string& newOwner) {
  forgetAdapters();
  abandonStart();
  resyncInFlight_ = false;  // its reply, if any, describes the old daemon
  bluezOwner_ = newOwner;
  if (!newOwner.empty()) {
    resyncNeeded_ = true;
    pendingRestartReason_ = "bluez-restarted";
  }
}

void DiscoveryPolicy::adapterAdded(const std::string& path) {
  auto& info = adapters_[path];
  info.name = lastPathComponent(path);
  info.powered = false;
  info.discovering = false;
}

void DiscoveryPolicy::adapterRemoved(const std::string& path) {
  adapters_.erase(path);
  if (path == currentAdapter_) {
    support::log::warn("ble.adapter_removed", {{"adapter", lastPathComponent(path)}});
    currentAdapter_.clear();
    sessionActive_ = false;
    abandonStart();
    pendingRestartReason_ = "adapter-removed";
  }
}

void DiscoveryPolicy::adapterPowered(const std::string& path, bool powered) {
  auto it = adapters_.find(path);
  if (it == adapters_.end()) {
    return;
  }
  auto& info = it->second;
  const bool wasPowered = info.powered;
  info.powered = powered;
  if (path == currentAdapter_ && wasPowered && !info.powered) {
    support::log::warn("ble.adapter_powered_off", {{"adapter", info.name}});
    sessionActive_ = false;
    abandonStart();
    if (pendingRestartReason_ != "adapter-power-cycled") {
      pendingRestartReason_ = "adapter-powered-on";
    }
  }
}

void DiscoveryPolicy::adapterDiscovering(const std::string& path, bool discovering) {
  auto it = adapters_.find(path);
  if (it == adapters_.end()) {
    return;
  }
  auto& info = it->second;
  const bool was = info.discovering;
  info.discovering = discovering;
  if (path == currentAdapter_ && info.discovering) {
    awaitingDiscovering_ = false;
    confirmedDuringStart_ = startInFlight_;
  }
  // A false that follows our own StopDiscovery/StartDiscovery pair is not a drop.
  if (path == currentAdapter_ && was && !info.discovering && sessionActive_ && !awaitingDiscovering_) {
    support::log::warn("ble.discovery_dropped", {{"adapter", info.name}});
    sessionActive_ = false;
    pendingRestartReason_ = "discovering-dropped";
  }
}

void DiscoveryPolicy::advertisementSeen() {
  lastAdvert_ = now();
  silentPeriods_ = 0;
}

// ---- replies ----------------------------------------------------------------

bool DiscoveryPolicy::resyncReplyApplies(const std::string& owner) {
  if (!resyncInFlight_ || owner != bluezOwner_) {
    return false;  // bluetoothd changed meanwhile; a new resync is under way
  }
  resyncInFlight_ = false;
  return true;
}

void DiscoveryPolicy::resyncFailed() {
  resyncNeeded_ = true;  // retried on the next timer pass
  nextAttempt_ = now() + options_.retryInterval;
}

void DiscoveryPolicy::beginSnapshot() {
  snapshotAdapter_ = currentAdapter_;
  snapshotSession_ = sessionActive_;
  forgetAdapters();
}

void DiscoveryPolicy::endSnapshot() {
  if (auto it = adapters_.find(snapshotAdapter_); it != adapters_.end()) {
    currentAdapter_ = snapshotAdapter_;
    sessionActive_ = snapshotSession_ && it->second.discovering;
  }
  // Cached devices that carry an RSSI were seen during an active discovery: report
  // them like live sightings only once discovery is ours (tick() asks for it).
  initialSweepPending_ = true;
}

void DiscoveryPolicy::startDiscoverySent(std::uint64_t epoch) {
  if (startWanted(epoch)) {
    confirmedDuringStart_ = false;
  }
}

void DiscoveryPolicy::startResult(std::uint64_t epoch, bool ok) {
  if (!startWanted(epoch)) {
    return;
  }
  startInFlight_ = false;
  if (!ok) {
    nextAttempt_ = now() + options_.retryInterval;
    return;
  }
  const auto t = now();
  sessionActive_ = true;
  // BlueZ may confirm (Discovering=true) before it answers StartDiscovery.
  awaitingDiscovering_ = !confirmedDuringStart_;
  startedAt_ = t;
  lastAdvert_ = t;  // the watchdog counts from the (re)start
  bump(counters_.discoveryStarts);
  if (everStarted_) {
    bump(counters_.discoveryRestarts);
  }
  everStarted_ = true;
  lastStartReason_ = pendingRestartReason_.empty() ? std::string{"start"} : pendingRestartReason_;
  pendingRestartReason_.clear();
  support::log::info("ble.discovery_started",
                     {{"adapter", lastPathComponent(currentAdapter_)}, {"reason", lastStartReason_}});
  // Discovering=true usually arrives as a signal; a real adapter already
  // discovering for another client reports it only via the property.
}

void DiscoveryPolicy::powerCycleDone(std::uint64_t epoch, bool ok) {
  powerCycleInFlight_ = false;
  if (!ok && epoch == epoch_) {
    nextAttempt_ = now() + options_.retryInterval;
  }
}

// ---- time -------------------------------------------------------------------

std::string DiscoveryPolicy::pickAdapter() const {
  if (!options_.adapterName.empty()) {
    for (const auto& [path, info] : adapters_) {
      if (info.name == options_.adapterName) {
        return path;
      }
    }
    return {};
  }
  if (!currentAdapter_.empty() && adapters_.count(currentAdapter_) != 0U) {
    return currentAdapter_;  // stay on the adapter in use while it exists
  }
  for (const auto& [path, info] : adapters_) {
    if (info.powered) {
      return path;
    }
  }
  return adapters_.empty() ? std::string{} : adapters_.begin()->first;
}

// Second step of the escalation: Powered=false, then Powered=true; discovery starts
// again when BlueZ reports the adapter powered (the usual power-cycle recovery).
void DiscoveryPolicy::powerCycle(Actions& out, long long silentMs) {
  support::log::warn("ble.adapter_power_cycle",
                     {{"adapter", lastPathComponent(currentAdapter_)}, {"silent_ms", silentMs}});
  bump(counters_.watchdogRestarts);
  bump(counters_.adapterPowerCycles);
  sessionActive_ = false;
  abandonStart();
  powerCycleInFlight_ = true;
  pendingRestartReason_ = "adapter-power-cycled";
  out.push_back(act(PolicyAction::Kind::power_cycle, currentAdapter_, epoch_));
}

bool DiscoveryPolicy::onSilence(Actions& out, const AdapterInfo& info) {
  ++silentPeriods_;
  const auto silentMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.watchdog).count() * silentPeriods_;
  if (!options_.escalate || silentPeriods_ == 1) {
    support::log::warn("ble.watchdog_restart", {{"adapter", info.name}, {"silent_ms", silentMs}});
    bump(counters_.watchdogRestarts);
    sessionActive_ = false;
    pendingRestartReason_ = "watchdog";
    return true;
  }
  if (silentPeriods_ == 2) {
    powerCycle(out, silentMs);
    return false;
  }
  support::log::error(
      "ble.stalled",
      {{"adapter", info.name}, {"silent_ms", silentMs}, {"tried", "restart discovery, power-cycle the adapter"}});
  stalled_ = true;
  setState(out, ScannerState::stalled, "no-advertisements");
  out.push_back(act(PolicyAction::Kind::give_up, currentAdapter_));
  return false;
}

DiscoveryPolicy::Actions DiscoveryPolicy::tick() {
  Actions out;
  const auto t = now();
  if (!running_) {
    return out;
  }
  if (bluezOwner_.empty()) {
    setState(out, ScannerState::waiting_for_bluez, "no-bluez");
    return out;
  }
  if (resyncNeeded_ && !resyncInFlight_ && t >= nextAttempt_) {
    resyncNeeded_ = false;
    resyncInFlight_ = true;
    out.push_back(act(PolicyAction::Kind::read_objects, "/"));
  }
  if (resyncInFlight_) {
    return out;  // the adapters are known once GetManagedObjects answers
  }
  const std::string pick = pickAdapter();
  if (pick != currentAdapter_) {
    if (!pick.empty()) {
      support::log::info("ble.adapter_selected", {{"adapter", lastPathComponent(pick)}});
    }
    currentAdapter_ = pick;
    sessionActive_ = false;
    abandonStart();
    nextAttempt_ = t;
  }
  if (currentAdapter_.empty()) {
    setState(out, ScannerState::waiting_for_adapter, "no-adapter");
    return out;
  }
  const auto& info = adapters_[currentAdapter_];
  if (!info.powered) {
    sessionActive_ = false;
    if (options_.powerOnAtStart && !everStarted_ && !powerOnTried_) {
      // Nothing can be scanned with it off, and nobody else is using it yet.
      powerOnTried_ = true;
      support::log::warn("ble.adapter_powering_on", {{"adapter", info.name}, {"reason", "off-at-start"}});
      pendingRestartReason_ = "powered-on-at-start";
      out.push_back(act(PolicyAction::Kind::power_on, currentAdapter_));
    }
    setState(out, ScannerState::waiting_for_power, "powered-off");
    return out;
  }
  if (powerCycleInFlight_) {
    return out;  // discovery starts again once the adapter is back on
  }
  if (sessionActive_ && !info.discovering) {
    // We started, BlueZ has not confirmed yet (or dropped it: handled by adapterDiscovering).
    setState(out, ScannerState::starting, "awaiting-discovering");
    if (t - startedAt_ >= options_.watchdog) {
      support::log::warn("ble.discovering_not_confirmed", {{"adapter", info.name}});
      bump(counters_.watchdogRestarts);
      sessionActive_ = false;
      pendingRestartReason_ = "watchdog";
    }
  }
  if (awaitingDiscovering_ && t - startedAt_ >= kConfirmGrace) {
    // Another client kept the adapter discovering, so no Discovering=true signal
    // comes for our start: from now on a false is a real drop.
    awaitingDiscovering_ = false;
  }
  if (sessionActive_ && info.discovering) {
    setState(out, ScannerState::discovering, lastStartReason_);
    if (initialSweepPending_) {
      // Their sightings count as advertisements: judge silence on the next tick.
      initialSweepPending_ = false;
      out.push_back(act(PolicyAction::Kind::report_cached, currentAdapter_));
      return out;
    }
    if (stalled_ || t - lastAdvert_ < options_.watchdog) {
      return out;
    }
    if (!onSilence(out, info)) {
      return out;  // power cycle under way, or stalled
    }
  }
  if (!sessionActive_ && !startInFlight_ && t >= nextAttempt_) {
    setState(out, ScannerState::starting, pendingRestartReason_.empty() ? "start" : pendingRestartReason_);
    startInFlight_ = true;
    out.push_back(act(PolicyAction::Kind::start_discovery, currentAdapter_, epoch_));
  }
  return out;
}

std::optional<DiscoveryPolicy::Clock::time_point> DiscoveryPolicy::nextTimer() const {
  if (!running_ || bluezOwner_.empty()) {
    return std::nullopt;
  }
  std::optional<Clock::time_point> next;
  auto consider = [&](Clock::time_point t) { next = next ? std::min(*next, t) : t; };
  if (resyncNeeded_) {
    consider(nextAttempt_);
  }
  const auto it = adapters_.find(currentAdapter_);
  // While GetManagedObjects is under way tick() starts nothing: its reply wakes poll().
  if (!resyncInFlight_ && it != adapters_.end() && it->second.powered) {
    if (!sessionActive_ && !startInFlight_ && !powerCycleInFlight_) {  // these end with a reply
      consider(nextAttempt_);
    } else {
      consider((it->second.discovering ? lastAdvert_ : startedAt_) + options_.watchdog);
    }
  }
  return next;
}

bool DiscoveryPolicy::resyncDue() const { return resyncNeeded_ && !resyncInFlight_ && now() >= nextAttempt_; }

}  // namespace attendance::ble_scan::detail
