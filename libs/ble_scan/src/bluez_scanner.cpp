// BluezScanner's public API and the half of its sdbus adapter that talks: the policy's
// actions executed as asynchronous method calls (ADR 0020), the removals the device table
// hands out, and the poll loop. Signal decoding: bluez_signals.cpp; the model:
// bluez_scanner_impl.hpp.
#include "bluez_scanner_impl.hpp"

#include "bluez_paths.hpp"

#include <attendance/support/log.hpp>

#include <algorithm>
#include <map>
#include <vector>

namespace attendance::ble_scan {

namespace {

using Clock = std::chrono::steady_clock;
// The private vocabulary of this library: BlueZ names, counters, path helpers.
using namespace detail;
using Kind = PolicyAction::Kind;

// The last step of the escalation (ADR 0024): the caller exits for systemd to restart it.
Failure stalled() {
  return Failure{boost::system::errc::make_error_code(boost::system::errc::timed_out),
                 "no advertisements although discovery was restarted and the adapter power-cycled"};
}

}  // namespace

std::string_view stateName(ScannerState s) noexcept {
  switch (s) {
    case ScannerState::stopped: return "stopped";
    case ScannerState::waiting_for_bluez: return "waiting-for-bluez";
    case ScannerState::waiting_for_adapter: return "waiting-for-adapter";
    case ScannerState::waiting_for_power: return "waiting-for-power";
    case ScannerState::starting: return "starting";
    case ScannerState::discovering: return "discovering";
    case ScannerState::stalled: return "stalled";
  }
  return "unknown";
}

void BluezScanner::Impl::callAsync(const std::string& path, const char* iface, const char* method,
                                   const std::function<void(sdbus::MethodCall&)>& args, ReplyHandler onReply,
                                   bool logErrors) {
  auto failed = [this, path, method, logErrors](const std::string& name, const std::string& message) {
    if (logErrors) {
      bump(counters.dbusErrors);
      support::log::warn("ble.dbus_error", {{"method", method}, {"path", path}, {"error", name}, {"message", message}});
    }
    return name.empty() ? std::string{"error"} : name;
  };
  bus->callAsync(
      path, iface, method, args,
      [failed, onReply = std::move(onReply)](const sdbus::Error* error, sdbus::MethodReply& reply) {
        const std::string err = error == nullptr ? std::string{} : failed(error->getName(), error->getMessage());
        if (onReply) {
          onReply(err, reply);
        }
      },
      std::chrono::microseconds{timeoutUsec()});
}

Outcome<void> BluezScanner::Impl::subscribe() {
  try {
    slots.push_back(
        bus->watchBluezOwner([this](const std::string&, const std::string& newOwner) { onBluezOwner(newOwner); },
                             [this] { bump(counters.malformedValues); }));
    slots.push_back(bus->connection().addMatch(
        "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded'",
        [this](sdbus::Message& m) { onInterfacesAdded(m); }));
    slots.push_back(bus->connection().addMatch(
        "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesRemoved'",
        [this](sdbus::Message& m) { onInterfacesRemoved(m); }));
    slots.push_back(bus->connection().addMatch(
        "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path_"
        "namespace='/org/bluez'",
        [this](sdbus::Message& m) { onPropertiesChanged(m); }));
  } catch (const sdbus::Error& e) {
    support::log::error("ble.subscribe_failed", {{"error", e.getName()}, {"message", e.getMessage()}});
    return busFailure(e, "cannot subscribe to BlueZ's signals on the D-Bus");
  }
  return {};
}

std::string BluezScanner::Impl::readOwner() {
  return bus->nameOwner(kBluezService, std::chrono::microseconds{timeoutUsec()});
}

void BluezScanner::Impl::readObjects() {
  const auto owner = policy.bluezOwner();
  callAsync("/", kObjectManagerIface, "GetManagedObjects", {},
            [this, owner](const std::string& err, sdbus::MethodReply& reply) {
              if (!policy.resyncReplyApplies(owner)) {
                return;
              }
              if (!err.empty()) {
                policy.resyncFailed();
                return;
              }
              applyManagedObjects(reply);
            });
}

void BluezScanner::Impl::applyManagedObjects(sdbus::MethodReply& reply) {
  std::map<sdbus::ObjectPath, InterfaceMap> objects;
  try {
    reply >> objects;
  } catch (const sdbus::Error&) {
    bump(counters.malformedValues);
    return;
  }
  devices.clear();
  policy.beginSnapshot();
  for (const auto& [path, ifaces] : objects) {
    addObject(path, ifaces, /*live=*/false);
  }
  policy.endSnapshot();
}

void BluezScanner::Impl::startDiscovery(const std::string& path, std::uint64_t epoch) {
  callAsync(
      path, kAdapterIface, "StopDiscovery", {},
      [this, path, epoch](const std::string&, sdbus::MethodReply&) {
        if (!policy.startWanted(epoch)) {
          return;
        }
        callAsync(
            path, kAdapterIface, "SetDiscoveryFilter",
            [this](sdbus::MethodCall& m) {
              std::map<std::string, sdbus::Variant> filter;
              filter.emplace("Transport", sdbus::Variant{std::string{"le"}});
              filter.emplace("DuplicateData", sdbus::Variant{true});
              if (options.rssiMin) {
                filter.emplace("RSSI", sdbus::Variant{*options.rssiMin});
              }
              m << filter;
            },
            [this, path, epoch](const std::string& err, sdbus::MethodReply&) {
              if (!err.empty()) {
                policy.startResult(epoch, false);
                return;
              }
              if (!policy.startWanted(epoch)) {
                return;
              }
              policy.startDiscoverySent(epoch);
              callAsync(path, kAdapterIface, "StartDiscovery", {},
                        [this, epoch](const std::string& err2, sdbus::MethodReply&) {
                          policy.startResult(epoch, err2.empty() || err2 == "org.bluez.Error.InProgress");
                        });
            });
      },
      /*logErrors=*/false);  // "NotReady"/"Failed" when there is no session: expected
}

void BluezScanner::Impl::setPowered(const std::string& path, bool on, std::function<void(bool ok)> then) {
  callAsync(
      path, kPropertiesIface, "Set",
      [on](sdbus::MethodCall& m) { m << std::string{kAdapterIface} << std::string{"Powered"} << sdbus::Variant{on}; },
      [then = std::move(then)](const std::string& err, sdbus::MethodReply&) {
        if (then) {
          then(err.empty());
        }
      });
}

void BluezScanner::Impl::execute(const detail::DiscoveryPolicy::Actions& actions) {
  for (const auto& a : actions) {
    switch (a.kind) {
      case Kind::read_objects: readObjects(); break;
      case Kind::start_discovery: startDiscovery(a.adapter, a.epoch); break;
      case Kind::stop_discovery:
        callAsync(a.adapter, kAdapterIface, "StopDiscovery", {}, {}, /*logErrors=*/false);
        break;
      case Kind::power_on: setPowered(a.adapter, true, {}); break;
      case Kind::power_cycle:
        setPowered(a.adapter, false, [this, path = a.adapter, epoch = a.epoch](bool) {
          setPowered(path, true, [this, epoch](bool ok) { policy.powerCycleDone(epoch, ok); });
        });
        break;
      case Kind::report_cached:
        if (const auto adapter = detail::parseAdapterPath(a.adapter)) devices.markCachedWithRssi(*adapter);
        flushDirty();
        break;
      case Kind::state_changed:
        if (onState) {
          onState(StateChange{a.state, a.adapter, a.reason});
        }
        break;
      case Kind::give_up: gaveUp = true; break;
    }
  }
}

void BluezScanner::Impl::runRemovals() {
  while (auto r = devices.nextRemoval()) {
    // Removed or gone either way; InterfacesRemoved will follow for the former.
    callAsync(
        r->adapterPath, kAdapterIface, "RemoveDevice", [&](sdbus::MethodCall& m) { m << sdbus::ObjectPath{r->device}; },
        [this](const std::string& err, sdbus::MethodReply&) {
          devices.removalAnswered();
          if (err.empty()) {
            bump(counters.devicesRemoved);
          }
        });
  }
}

std::optional<Clock::time_point> BluezScanner::Impl::nextTimer() const {
  auto next = policy.nextTimer();
  if (!policy.running() || policy.bluezOwner().empty()) {
    return next;
  }
  if (const auto sweep = devices.nextSweep()) {
    next = next ? std::min(*next, *sweep) : *sweep;
  }
  return next;
}

Outcome<void> BluezScanner::Impl::processPending() { return bus->processPending(); }

Outcome<void> BluezScanner::Impl::step() {
  // Actions issue method calls; signals that arrive meanwhile are queued by
  // sd-bus, so alternate until both are quiet (bounded).
  for (int round = 0; round < 8; ++round) {
    if (auto r = processPending(); !r) {
      return r;
    }
    flushDirty();
    execute(policy.tick());
    if (policy.running()) {
      devices.sweepStale(now());
      runRemovals();
    }
    noteBackgroundIphones();
    // Replies come later through the bus fd; loop only while a queue can still move.
    if (!devices.removalsCanMove() && !policy.resyncDue()) {
      break;
    }
  }
  auto r = processPending();
  flushDirty();
  return r;
}

BluezScanner::BluezScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BluezScanner::~BluezScanner() { stop(); }

Outcome<std::unique_ptr<BluezScanner>> BluezScanner::create(ScannerOptions options, const support::TimeSource& time,
                                                            SightingCallback onSighting, StateCallback onState) {
  auto bus = BusLoop::system();
  if (!bus) {
    return bus.error();
  }
  auto impl = std::make_unique<Impl>(std::move(options), time, std::move(onSighting), std::move(onState));
  impl->bus = std::move(*bus);
  return std::unique_ptr<BluezScanner>{new BluezScanner(std::move(impl))};
}

Outcome<std::unique_ptr<BluezScanner>> BluezScanner::createWithAddress(std::string_view busAddress,
                                                                       ScannerOptions options,
                                                                       const support::TimeSource& time,
                                                                       SightingCallback onSighting,
                                                                       StateCallback onState) {
  auto bus = BusLoop::at(busAddress);
  if (!bus) {
    return bus.error();
  }
  auto impl = std::make_unique<Impl>(std::move(options), time, std::move(onSighting), std::move(onState));
  impl->bus = std::move(*bus);
  return std::unique_ptr<BluezScanner>{new BluezScanner(std::move(impl))};
}

Outcome<void> BluezScanner::start() {
  auto& d = *impl_;
  if (d.policy.running()) {
    return {};
  }
  // Subscribe first, then read the owner and the objects, so nothing falls in between.
  if (auto r = d.subscribe(); !r) {
    return r;
  }
  d.gaveUp = false;
  d.devices.resetSweepClock(d.now());
  d.policy.start(d.readOwner());
  return d.step();
}

void BluezScanner::stop() {
  auto& d = *impl_;
  if (!d.policy.running()) {
    return;
  }
  auto actions = d.policy.stop();
  d.slots.clear();
  d.execute(actions);
}

Outcome<void> BluezScanner::poll(std::chrono::milliseconds maxWait) {
  auto& d = *impl_;
  if (auto r = d.step(); !r) {
    return r;
  }
  if (d.gaveUp) {
    return stalled();
  }
  // Wake up for our own timers (in TimeSource time); none while merely waiting
  // for bluez, an adapter or power (those end with a signal).
  auto waitFor = maxWait;
  if (const auto next = d.nextTimer()) {
    const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*next - d.now());
    waitFor = std::min(waitFor, std::max(until, std::chrono::milliseconds{0}));
  }
  if (auto r = d.bus->wait(waitFor); !r) {
    return r;
  }
  if (auto r = d.step(); !r) {
    return r;
  }
  if (d.gaveUp) {
    return stalled();
  }
  return {};
}

void BluezScanner::wake() noexcept { impl_->bus->wake(); }

ScannerState BluezScanner::state() const noexcept { return impl_->policy.state(); }

std::string BluezScanner::adapter() const {
  const auto& path = impl_->policy.currentAdapter();
  return path.empty() ? std::string{} : lastPathComponent(path);
}

ScannerCounters BluezScanner::counters() const noexcept {
  const auto& c = impl_->counters;
  auto ld = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return ScannerCounters{ld(c.advertisements),     ld(c.sightings),
                         ld(c.ignoredNoise),       ld(c.belowRssiFloor),
                         ld(c.malformedValues),    ld(c.discoveryStarts),
                         ld(c.discoveryRestarts),  ld(c.watchdogRestarts),
                         ld(c.devicesRemoved),     ld(c.dbusErrors),
                         ld(c.adapterPowerCycles), ld(c.appleOverflowFrames),
                         ld(c.backgroundIphones),  ld(c.backgroundIphonesPeak)};
}

std::size_t BluezScanner::trackedDevices() const noexcept { return impl_->devices.size(); }

}  // namespace attendance::ble_scan
