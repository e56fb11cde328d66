#pragma once

#include <attendance/ble_scan/bluez_scanner.hpp>
#include <attendance/support/clock.hpp>

#include "scanner_counters.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// When to read BlueZ's objects, which adapter to use, when to (re)start discovery, power
// an adapter on, power-cycle it or give up (ADR 0024): a state machine fed with events
// (BlueZ's owner, adapter properties, advertisements seen, replies to the calls it asked
// for) and the passing of time, answering with actions. It sends nothing itself: the sdbus
// adapter reports events (bluez_signals.cpp), executes the actions and reports their
// replies (bluez_scanner.cpp), so the whole recovery logic is tested with a
// SimulatedTimeSource and no bus (tests/ble_scan/discovery_policy_test.cpp).
namespace attendance::ble_scan::detail {

struct PolicyAction {
  enum class Kind : std::uint8_t {
    read_objects,     // GetManagedObjects; report with resyncReplyApplies() + resyncFailed()/snapshot
    start_discovery,  // StopDiscovery → SetDiscoveryFilter → StartDiscovery on `adapter`, each when the
                      // previous one answered, while startWanted(epoch); then startResult(epoch, ok)
    stop_discovery,   // StopDiscovery on `adapter`, answer ignored
    power_on,         // Powered=true on `adapter`, answer ignored
    power_cycle,      // Powered=false, then true on `adapter`; then powerCycleDone(epoch, ok)
    report_cached,    // report the devices of `adapter` that BlueZ cached with an RSSI
    state_changed,    // tell the caller: `state`, `adapter` (a name), `reason`
    give_up,          // stalled: poll() fails with timed_out, the app exits for systemd to restart it
  };
  Kind kind = Kind::read_objects;
  std::string adapter;  // object path, except for state_changed (the adapter's name)
  std::uint64_t epoch = 0;
  ScannerState state = ScannerState::stopped;
  std::string reason;
};

class DiscoveryPolicy {
public:
  using Clock = std::chrono::steady_clock;
  using Actions = std::vector<PolicyAction>;

  DiscoveryPolicy(const ScannerOptions& options, const support::TimeSource& time, AtomicCounters& counters)
      : options_(options), time_(time), counters_(counters) {}

  // ---- lifecycle -------------------------------------------------------------
  // `bluezOwner`: org.bluez's unique name now ("" = not on the bus).
  void start(const std::string& bluezOwner);
  Actions stop();
  [[nodiscard]] bool running() const noexcept { return running_; }

  // ---- events (they only update the model; tick() decides) -------------------
  void bluezOwnerChanged(const std::string& newOwner);
  void adapterAdded(const std::string& path);
  void adapterRemoved(const std::string& path);
  void adapterPowered(const std::string& path, bool powered);
  void adapterDiscovering(const std::string& path, bool discovering);
  void advertisementSeen();

  // ---- replies to the actions ------------------------------------------------
  // A GetManagedObjects reply from `owner`: true if it still applies (then report
  // resyncFailed(), or the objects between beginSnapshot() and endSnapshot()).
  [[nodiscard]] bool resyncReplyApplies(const std::string& owner);
  void resyncFailed();
  void beginSnapshot();  // the adapters are re-added from the reply (adapterAdded...)
  void endSnapshot();
  [[nodiscard]] bool startWanted(std::uint64_t epoch) const noexcept {
    return running_ && startInFlight_ && epoch == epoch_;
  }
  void startDiscoverySent(std::uint64_t epoch);
  void startResult(std::uint64_t epoch, bool ok);
  void powerCycleDone(std::uint64_t epoch, bool ok);

  // ---- time ------------------------------------------------------------------
  // Runs the state machine at TimeSource's now.
  [[nodiscard]] Actions tick();
  // The earliest moment tick() has something to do, if any (none while only a reply or
  // a signal can move things on).
  [[nodiscard]] std::optional<Clock::time_point> nextTimer() const;
  // A GetManagedObjects is due now (the adapter keeps ticking while one is).
  [[nodiscard]] bool resyncDue() const;

  // ---- queries ---------------------------------------------------------------
  [[nodiscard]] ScannerState state() const noexcept { return state_; }
  [[nodiscard]] const std::string& currentAdapter() const noexcept { return currentAdapter_; }
  [[nodiscard]] const std::string& bluezOwner() const noexcept { return bluezOwner_; }
  [[nodiscard]] bool hasAdapter(const std::string& path) const { return adapters_.count(path) != 0U; }

private:
  struct AdapterInfo {
    std::string name;
    bool powered = false;
    bool discovering = false;
  };

  [[nodiscard]] Clock::time_point now() const { return time_.monotonicTime(); }
  void setState(Actions& out, ScannerState s, std::string_view reason);
  void abandonStart();
  void forgetAdapters();
  [[nodiscard]] std::string pickAdapter() const;
  void powerCycle(Actions& out, long long silentMs);
  // The watchdog and escalation part of tick() while discovering: one step per silent
  // period; true when discovery is to be restarted now.
  bool onSilence(Actions& out, const AdapterInfo& info);

  const ScannerOptions& options_;
  const support::TimeSource& time_;
  AtomicCounters& counters_;

  bool running_ = false;
  std::string bluezOwner_;  // unique name of org.bluez's owner; empty = none
  bool resyncNeeded_ = false;
  bool resyncInFlight_ = false;  // GetManagedObjects sent, no reply yet
  // Bumped whenever an in-flight discovery start no longer applies (bluetoothd
  // restarted, adapter removed, re-picked or powered off): late replies are dropped.
  std::uint64_t epoch_ = 0;
  bool startInFlight_ = false;         // StopDiscovery → SetDiscoveryFilter → StartDiscovery under way
  bool confirmedDuringStart_ = false;  // Discovering=true arrived after our StartDiscovery was sent
  // Escalation when advertisements stop: watchdog periods in a row without one
  // (1: restart discovery, 2: power-cycle the adapter, 3: stalled, give up).
  int silentPeriods_ = 0;
  bool powerCycleInFlight_ = false;
  bool powerOnTried_ = false;  // powerOnAtStart done (once per start())
  bool stalled_ = false;
  bool initialSweepPending_ = false;             // report devices BlueZ cached with an RSSI once discovering
  std::map<std::string, AdapterInfo> adapters_;  // by object path (sorted → deterministic pick)

  std::string currentAdapter_;        // object path of the adapter in use
  bool sessionActive_ = false;        // we called StartDiscovery successfully on currentAdapter_
  bool awaitingDiscovering_ = false;  // StartDiscovery done, Discovering=true not seen yet
  Clock::time_point startedAt_{};
  bool everStarted_ = false;
  std::string pendingRestartReason_;  // why the next start is a restart
  std::string lastStartReason_;
  Clock::time_point nextAttempt_{};
  Clock::time_point lastAdvert_{};
  // beginSnapshot() .. endSnapshot(): what to keep across a fresh GetManagedObjects.
  std::string snapshotAdapter_;
  bool snapshotSession_ = false;

  ScannerState state_ = ScannerState::stopped;
  std::string stateAdapterName_;
};

}  // namespace attendance::ble_scan::detail
