#include <attendance/ble_scan/bluez_scanner.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/utf8.hpp>

#include "dbus_decode.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace attendance::ble_scan {

namespace {

constexpr const char* kBluezService = "org.bluez";
constexpr const char* kAdapterIface = "org.bluez.Adapter1";
constexpr const char* kDeviceIface = "org.bluez.Device1";
constexpr const char* kPropertiesIface = "org.freedesktop.DBus.Properties";
constexpr const char* kObjectManagerIface = "org.freedesktop.DBus.ObjectManager";

using Clock = std::chrono::steady_clock;
// How long after our StartDiscovery a Discovering=false is still the echo of our own StopDiscovery.
constexpr auto kConfirmGrace = std::chrono::seconds{2};
// RemoveDevice calls awaiting an answer at most; the rest wait in the queue, so a hung
// bluetoothd does not collect an unbounded number of pending calls.
constexpr std::size_t kMaxRemovalsInFlight = 4;
using PropertyMap = std::map<std::string, sdbus::Variant>;
using InterfaceMap = std::map<std::string, PropertyMap>;

std::string lastPathComponent(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "/org/bluez/hci0/dev_AA_BB" belongs to adapter "/org/bluez/hci0".
bool isUnder(const std::string& path, const std::string& parent) {
  return path.size() > parent.size() + 1 && path.compare(0, parent.size(), parent) == 0 && path[parent.size()] == '/';
}

struct AdapterInfo {
  std::string name;
  bool powered = false;
  bool discovering = false;
};

struct DeviceInfo {
  std::string adapterPath;
  std::string address;
  Clock::time_point lastSeen{};
  std::vector<Candidate> fromManufacturer;
  std::vector<Candidate> fromServiceData;
  std::vector<Candidate> fromUuids;
  std::optional<std::int16_t> rssi;
  bool keep = false;            // paired/trusted/connected: never RemoveDevice it
  bool removalQueued = false;
  bool dirty = false;           // has an advertisement not yet turned into sightings
};

struct AtomicCounters {
  std::atomic<std::uint64_t> advertisements{0};
  std::atomic<std::uint64_t> sightings{0};
  std::atomic<std::uint64_t> ignoredNoise{0};
  std::atomic<std::uint64_t> belowRssiFloor{0};
  std::atomic<std::uint64_t> malformedValues{0};
  std::atomic<std::uint64_t> discoveryStarts{0};
  std::atomic<std::uint64_t> discoveryRestarts{0};
  std::atomic<std::uint64_t> watchdogRestarts{0};
  std::atomic<std::uint64_t> devicesRemoved{0};
  std::atomic<std::uint64_t> dbusErrors{0};
  std::atomic<std::uint64_t> adapterPowerCycles{0};
};

void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) { c.fetch_add(by, std::memory_order_relaxed); }

error_code errorFrom(const sdbus::Error& e) {
  (void)e;
  return boost::system::errc::make_error_code(boost::system::errc::connection_aborted);
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

struct BluezScanner::Impl {
  Impl(ScannerOptions o, const support::TimeSource& t, SightingCallback s, StateCallback st)
      : options(std::move(o)), time(t), onSighting(std::move(s)), onState(std::move(st)) {}

  ~Impl() {
    if (wakeFd >= 0) {
      ::close(wakeFd);
    }
  }

  ScannerOptions options;
  const support::TimeSource& time;
  SightingCallback onSighting;
  StateCallback onState;

  std::unique_ptr<sdbus::IConnection> conn;
  std::vector<sdbus::Slot> slots;
  // One proxy per object path, kept for the connection's lifetime: an asynchronous
  // call's reply is delivered only while its proxy lives.
  std::map<std::string, std::unique_ptr<sdbus::IProxy>> proxies;
  int wakeFd = -1;

  bool running = false;
  std::string bluezOwner;  // unique name of org.bluez's owner; empty = none
  bool resyncNeeded = false;
  bool resyncInFlight = false;  // GetManagedObjects sent, no reply yet
  // Bumped whenever an in-flight discovery start no longer applies (bluetoothd
  // restarted, adapter removed, re-picked or powered off): late replies are dropped.
  std::uint64_t epoch = 0;
  bool startInFlight = false;  // StopDiscovery → SetDiscoveryFilter → StartDiscovery under way
  bool confirmedDuringStart = false;  // Discovering=true arrived after our StartDiscovery was sent
  std::size_t removalsInFlight = 0;
  // Escalation when advertisements stop: watchdog periods in a row without one
  // (1: restart discovery, 2: power-cycle the adapter, 3: stalled, give up).
  int silentPeriods = 0;
  bool powerCycleInFlight = false;
  bool powerOnTried = false;  // powerOnAtStart done (once per start())
  bool stalled = false;
  bool initialSweepPending = false;  // report devices BlueZ cached with an RSSI once discovering
  std::map<std::string, AdapterInfo> adapters;  // by object path (sorted → deterministic pick)
  std::unordered_map<std::string, DeviceInfo> devices;
  std::vector<std::string> removalQueue;
  std::vector<std::string> dirty;  // devices with an advertisement not yet reported

  std::string currentAdapter;  // object path of the adapter in use
  bool sessionActive = false;  // we called StartDiscovery successfully on currentAdapter
  bool awaitingDiscovering = false;  // StartDiscovery done, Discovering=true not seen yet
  Clock::time_point startedAt{};
  bool everStarted = false;
  std::string pendingRestartReason;  // why the next start is a restart
  std::string lastStartReason;
  Clock::time_point nextAttempt{};
  Clock::time_point lastAdvert{};
  Clock::time_point lastStaleSweep{};

  ScannerState state = ScannerState::stopped;
  std::string stateAdapterName;

  AtomicCounters counters;
  Advertisement scratch;
  std::vector<Candidate> candidates;

  // ---- helpers -------------------------------------------------------------

  [[nodiscard]] Clock::time_point now() const { return time.monotonicTime(); }

  [[nodiscard]] std::uint64_t timeoutUsec() const {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(options.callTimeout).count());
  }

  void setState(ScannerState s, std::string_view reason) {
    const std::string name = currentAdapter.empty() ? std::string{} : lastPathComponent(currentAdapter);
    if (s == state && name == stateAdapterName) {
      return;
    }
    state = s;
    stateAdapterName = name;
    support::log::info("ble.state", {{"state", stateName(s)}, {"adapter", stateAdapterName}, {"reason", reason}});
    if (onState) {
      onState(StateChange{s, stateAdapterName, reason});
    }
  }

  sdbus::IProxy& proxyFor(const std::string& path) {
    auto& p = proxies[path];
    if (!p) {
      p = sdbus::createProxy(*conn, kBluezService, path);
    }
    return *p;
  }

  // The error name of a failed reply ("" on success).
  using ReplyHandler = std::function<void(const std::string& error, sdbus::MethodReply& reply)>;

  // Sends a BlueZ method call and returns at once: no call may block the loop, whatever
  // bluetoothd does (a frozen daemon answers only at the timeout). `onReply` runs inside a
  // later poll() with the reply, or with the error (the timeout included).
  void callAsync(const std::string& path, const char* iface, const char* method,
                 const std::function<void(sdbus::MethodCall&)>& args, ReplyHandler onReply, bool logErrors = true) {
    auto failed = [this, path, method, logErrors](const std::string& name, const std::string& message) {
      if (logErrors) {
        bump(counters.dbusErrors);
        support::log::warn("ble.dbus_error", {{"method", method}, {"path", path}, {"error", name}, {"message", message}});
      }
      return name.empty() ? std::string{"error"} : name;
    };
    try {
      auto& proxy = proxyFor(path);
      auto msg = proxy.createMethodCall(iface, method);
      if (args) {
        args(msg);
      }
      (void)proxy.callMethod(
          msg,
          [failed, onReply = std::move(onReply)](sdbus::MethodReply& reply, const sdbus::Error* error) {
            const std::string err = error == nullptr ? std::string{} : failed(error->getName(), error->getMessage());
            if (onReply) {
              onReply(err, reply);
            }
          },
          timeoutUsec());
    } catch (const sdbus::Error& e) {
      const std::string err = failed(e.getName(), e.getMessage());
      sdbus::MethodReply none;
      if (onReply) {
        onReply(err, none);
      }
    }
  }

  // ---- signal handlers (no method calls in here: they only update state) ---

  bool fromBluez(sdbus::Message& msg) const {
    return !bluezOwner.empty() && msg.getSender() == bluezOwner;
  }

  void onNameOwnerChanged(sdbus::Message& msg) {
    try {
      std::string name;
      std::string oldOwner;
      std::string newOwner;
      msg >> name >> oldOwner >> newOwner;
      if (name != kBluezService) {
        return;
      }
      support::log::info("ble.bluez_owner_changed", {{"old", oldOwner}, {"new", newOwner}});
      forgetBluez();
      abandonStart();
      resyncInFlight = false;  // its reply, if any, describes the old daemon
      bluezOwner = newOwner;
      if (!newOwner.empty()) {
        resyncNeeded = true;
        pendingRestartReason = "bluez-restarted";
      }
    } catch (const sdbus::Error&) {
      bump(counters.malformedValues);
    }
  }

  void onInterfacesAdded(sdbus::Message& msg) {
    if (!fromBluez(msg)) {
      return;
    }
    try {
      sdbus::ObjectPath path;
      InterfaceMap ifaces;
      msg >> path >> ifaces;
      addObject(path, ifaces, /*live=*/true);
    } catch (const sdbus::Error&) {
      bump(counters.malformedValues);
    }
  }

  void onInterfacesRemoved(sdbus::Message& msg) {
    if (!fromBluez(msg)) {
      return;
    }
    try {
      sdbus::ObjectPath path;
      std::vector<std::string> ifaces;
      msg >> path >> ifaces;
      for (const auto& iface : ifaces) {
        if (iface == kAdapterIface) {
          removeAdapter(path);
        } else if (iface == kDeviceIface) {
          devices.erase(path);
        }
      }
    } catch (const sdbus::Error&) {
      bump(counters.malformedValues);
    }
  }

  void onPropertiesChanged(sdbus::Message& msg) {
    if (!fromBluez(msg)) {
      return;
    }
    try {
      std::string iface;
      PropertyMap changed;
      std::vector<std::string> invalidated;
      msg >> iface >> changed >> invalidated;
      const std::string path = msg.getPath();
      if (iface == kAdapterIface) {
        adapterChanged(path, changed);
      } else if (iface == kDeviceIface) {
        auto it = devices.find(path);
        if (it == devices.end()) {
          // A device we did not see appear (e.g. it was in flight during a resync): adopt it.
          const auto slash = path.rfind('/');
          if (slash == std::string::npos || adapters.find(path.substr(0, slash)) == adapters.end()) {
            return;
          }
          it = devices.emplace(path, DeviceInfo{}).first;
          it->second.adapterPath = path.substr(0, slash);
        }
        for (const auto& name : invalidated) {
          if (name == "RSSI") {
            it->second.rssi.reset();
          }
        }
        deviceUpdate(path, it->second, changed, /*live=*/true);
      }
    } catch (const sdbus::Error&) {
      bump(counters.malformedValues);
    }
  }

  // ---- model updates -------------------------------------------------------

  void addObject(const std::string& path, const InterfaceMap& ifaces, bool live) {
    if (auto a = ifaces.find(kAdapterIface); a != ifaces.end()) {
      auto& info = adapters[path];
      info.name = lastPathComponent(path);
      info.powered = false;
      info.discovering = false;
      adapterChanged(path, a->second);
    }
    if (auto d = ifaces.find(kDeviceIface); d != ifaces.end()) {
      auto& dev = devices[path];
      if (dev.adapterPath.empty()) {
        const auto slash = path.rfind('/');
        dev.adapterPath = slash == std::string::npos ? std::string{} : path.substr(0, slash);
        dev.lastSeen = now();
      }
      deviceUpdate(path, dev, d->second, live);
    }
  }

  void removeAdapter(const std::string& path) {
    adapters.erase(path);
    for (auto it = devices.begin(); it != devices.end();) {
      it = isUnder(it->first, path) ? devices.erase(it) : std::next(it);
    }
    std::erase_if(removalQueue, [&](const std::string& p) { return isUnder(p, path); });
    if (path == currentAdapter) {
      support::log::warn("ble.adapter_removed", {{"adapter", lastPathComponent(path)}});
      currentAdapter.clear();
      sessionActive = false;
      abandonStart();
      pendingRestartReason = "adapter-removed";
    }
  }

  void adapterChanged(const std::string& path, const PropertyMap& props) {
    auto it = adapters.find(path);
    if (it == adapters.end()) {
      return;
    }
    auto& info = it->second;
    if (auto p = props.find("Powered"); p != props.end()) {
      if (auto v = decode::asBool(p->second)) {
        const bool wasPowered = info.powered;
        info.powered = *v;
        if (path == currentAdapter && wasPowered && !info.powered) {
          support::log::warn("ble.adapter_powered_off", {{"adapter", info.name}});
          sessionActive = false;
          abandonStart();
          if (pendingRestartReason != "adapter-power-cycled") {
            pendingRestartReason = "adapter-powered-on";
          }
        }
      } else {
        bump(counters.malformedValues);
      }
    }
    if (auto p = props.find("Discovering"); p != props.end()) {
      if (auto v = decode::asBool(p->second)) {
        const bool was = info.discovering;
        info.discovering = *v;
        if (path == currentAdapter && info.discovering) {
          awaitingDiscovering = false;
          confirmedDuringStart = startInFlight;
        }
        // A false that follows our own StopDiscovery/StartDiscovery pair is not a drop.
        if (path == currentAdapter && was && !info.discovering && sessionActive && !awaitingDiscovering) {
          support::log::warn("ble.discovery_dropped", {{"adapter", info.name}});
          sessionActive = false;
          pendingRestartReason = "discovering-dropped";
        }
      } else {
        bump(counters.malformedValues);
      }
    }
  }

  // One advertisement-carrying property (ManufacturerData, ServiceData, UUIDs):
  // decoded into `scratch` (what decoded before a malformed part still counts)
  // and parsed into the candidates that property gives, replacing its previous ones.
  void reparseAdvertProperty(const sdbus::Variant& value,
                             bool (*decodeInto)(const sdbus::Variant&, Advertisement&) noexcept,
                             std::vector<Candidate>& fromProperty) {
    scratch.clear();
    if (!decodeInto(value, scratch)) {
      bump(counters.malformedValues);
    }
    fromProperty.clear();
    parseAdvertisement(scratch, options.parser, fromProperty);
  }

  // Applies Device1 properties; emits sightings when they carry an advertisement.
  void deviceUpdate(const std::string& path, DeviceInfo& dev, const PropertyMap& props, bool live) {
    bool advertData = false;
    bool rssiSeen = false;
    for (const auto& [name, value] : props) {
      if (name == "ManufacturerData") {
        advertData = true;
        reparseAdvertProperty(value, &decode::manufacturerData, dev.fromManufacturer);
      } else if (name == "ServiceData") {
        advertData = true;
        reparseAdvertProperty(value, &decode::serviceData, dev.fromServiceData);
      } else if (name == "UUIDs") {
        advertData = true;
        reparseAdvertProperty(value, &decode::uuids, dev.fromUuids);
      } else if (name == "RSSI") {
        rssiSeen = true;
        if (auto v = decode::asInt16(value)) {
          dev.rssi = *v;
        } else {
          dev.rssi.reset();
          bump(counters.malformedValues);
        }
      } else if (name == "Address") {
        if (auto v = decode::asString(value)) {
          dev.address = support::utf8Prefix(*v, 64);
        } else {
          bump(counters.malformedValues);
        }
      } else if (name == "Paired" || name == "Trusted" || name == "Connected") {
        if (auto v = decode::asBool(value); v && *v) {
          dev.keep = true;
        }
      }
    }
    if (!live || (!advertData && !rssiSeen) || dev.adapterPath != currentAdapter) {
      // Cached objects from GetManagedObjects are not sightings unless they carry a
      // fresh RSSI (RSSI is invalidated when discovery stops), handled by the caller.
      return;
    }
    markDirty(path, dev);
  }

  // One advertisement often arrives as several signals (InterfacesAdded, then
  // PropertiesChanged for RSSI and for the data, depending on the BlueZ version):
  // everything about one device that arrives in one batch is one advertisement.
  void markDirty(const std::string& path, DeviceInfo& dev) {
    if (!dev.dirty) {
      dev.dirty = true;
      dirty.push_back(path);
    }
  }

  void flushDirty() {
    for (const auto& path : dirty) {
      auto it = devices.find(path);
      if (it != devices.end() && it->second.dirty) {
        it->second.dirty = false;
        sighting(it->second);
      }
    }
    dirty.clear();
  }

  void sighting(DeviceInfo& dev) {
    const auto mono = now();
    dev.lastSeen = mono;
    lastAdvert = mono;
    silentPeriods = 0;
    bump(counters.advertisements);

    candidates.clear();
    auto addAll = [&](const std::vector<Candidate>& from) {
      for (const auto& c : from) {
        if (std::none_of(candidates.begin(), candidates.end(),
                         [&](const Candidate& x) { return x.bleUuid == c.bleUuid; })) {
          candidates.push_back(c);
        }
      }
    };
    addAll(dev.fromManufacturer);
    addAll(dev.fromServiceData);
    addAll(dev.fromUuids);
    if (candidates.empty()) {
      bump(counters.ignoredNoise);
      return;
    }
    // BlueZ OR-merges the filters of all clients: re-check our own floor.
    if (options.rssiMin && dev.rssi && *dev.rssi < *options.rssiMin) {
      bump(counters.belowRssiFloor);
      return;
    }
    const auto wall = time.systemTime();
    const std::string adapterName = lastPathComponent(dev.adapterPath);
    for (const auto& c : candidates) {
      bump(counters.sightings);
      if (onSighting) {
        onSighting(Sighting{c.bleUuid, c.format, dev.rssi, wall, mono, dev.address, adapterName});
      }
    }
  }

  void queueRemoval(const std::string& path, DeviceInfo& dev) {
    if (dev.keep || dev.removalQueued) {
      return;
    }
    dev.removalQueued = true;
    removalQueue.push_back(path);
  }

  void abandonStart() {
    ++epoch;
    startInFlight = false;
  }

  void forgetBluez() {
    adapters.clear();
    devices.clear();
    dirty.clear();
    removalQueue.clear();
    currentAdapter.clear();
    sessionActive = false;
  }

  // ---- actions (method calls), run outside signal handlers ------------------

  Result<void> subscribe() {
    try {
      slots.push_back(conn->addMatch(
          "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',"
          "arg0='org.bluez'",
          [this](sdbus::Message& m) { onNameOwnerChanged(m); }));
      slots.push_back(conn->addMatch("type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded'",
                                     [this](sdbus::Message& m) { onInterfacesAdded(m); }));
      slots.push_back(conn->addMatch(
          "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesRemoved'",
          [this](sdbus::Message& m) { onInterfacesRemoved(m); }));
      slots.push_back(conn->addMatch(
          "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path_namespace='/org/bluez'",
          [this](sdbus::Message& m) { onPropertiesChanged(m); }));
    } catch (const sdbus::Error& e) {
      support::log::error("ble.subscribe_failed", {{"error", e.getName()}, {"message", e.getMessage()}});
      return errorFrom(e);
    }
    return {};
  }

  void readOwner() {
    try {
      auto proxy = sdbus::createProxy(*conn, "org.freedesktop.DBus", "/org/freedesktop/DBus");
      auto msg = proxy->createMethodCall("org.freedesktop.DBus", "GetNameOwner");
      msg << std::string{kBluezService};
      auto reply = proxy->callMethod(msg, timeoutUsec());
      std::string owner;
      reply >> owner;
      bluezOwner = owner;
      resyncNeeded = true;
    } catch (const sdbus::Error&) {
      bluezOwner.clear();  // NameHasNoOwner: wait for NameOwnerChanged
    }
  }

  void beginResync() {
    resyncNeeded = false;
    if (bluezOwner.empty()) {
      return;
    }
    resyncInFlight = true;
    const auto owner = bluezOwner;
    callAsync("/", kObjectManagerIface, "GetManagedObjects", {},
              [this, owner](const std::string& err, sdbus::MethodReply& reply) {
                if (!resyncInFlight || owner != bluezOwner) {
                  return;  // bluetoothd changed meanwhile; a new resync is under way
                }
                resyncInFlight = false;
                if (!err.empty()) {
                  resyncNeeded = true;  // retried on the next timer pass
                  nextAttempt = now() + options.retryInterval;
                  return;
                }
                applyManagedObjects(reply);
              });
  }

  void applyManagedObjects(sdbus::MethodReply& reply) {
    std::map<sdbus::ObjectPath, InterfaceMap> objects;
    try {
      reply >> objects;
    } catch (const sdbus::Error&) {
      bump(counters.malformedValues);
      return;
    }
    const auto keepAdapter = currentAdapter;
    const bool keepSession = sessionActive;
    forgetBluez();
    for (const auto& [path, ifaces] : objects) {
      addObject(path, ifaces, /*live=*/false);
    }
    if (adapters.count(keepAdapter) != 0U) {
      currentAdapter = keepAdapter;
      sessionActive = keepSession && adapters[keepAdapter].discovering;
    }
    // Cached devices that carry an RSSI were seen during an active discovery: queue
    // them like live sightings only once discovery is ours (reconcile does it).
    initialSweepPending = true;
  }

  void sweepInitialDevices() {
    initialSweepPending = false;
    for (auto& [path, dev] : devices) {
      if (dev.adapterPath == currentAdapter && dev.rssi) {
        markDirty(path, dev);
      }
    }
    flushDirty();
  }

  [[nodiscard]] std::string pickAdapter() const {
    if (!options.adapterName.empty()) {
      for (const auto& [path, info] : adapters) {
        if (info.name == options.adapterName) {
          return path;
        }
      }
      return {};
    }
    if (!currentAdapter.empty() && adapters.count(currentAdapter) != 0U) {
      return currentAdapter;  // stay on the adapter in use while it exists
    }
    for (const auto& [path, info] : adapters) {
      if (info.powered) {
        return path;
      }
    }
    return adapters.empty() ? std::string{} : adapters.begin()->first;
  }

  // StopDiscovery (a session left over from before, after a drop or the watchdog, makes
  // StartDiscovery answer InProgress; its answer is ignored), SetDiscoveryFilter,
  // StartDiscovery: each sent when the previous one answered, none waited for.
  void beginStart(const std::string& path) {
    startInFlight = true;
    const auto myEpoch = epoch;
    auto wanted = [this, myEpoch] { return running && startInFlight && myEpoch == epoch; };
    callAsync(
        path, kAdapterIface, "StopDiscovery", {},
        [this, path, wanted](const std::string&, sdbus::MethodReply&) {
          if (!wanted()) {
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
              [this, path, wanted](const std::string& err, sdbus::MethodReply&) {
                if (!wanted()) {
                  return;
                }
                if (!err.empty()) {
                  startFailed();
                  return;
                }
                confirmedDuringStart = false;
                callAsync(path, kAdapterIface, "StartDiscovery", {},
                          [this, wanted](const std::string& err2, sdbus::MethodReply&) {
                            if (!wanted()) {
                              return;
                            }
                            if (err2.empty() || err2 == "org.bluez.Error.InProgress") {
                              startSucceeded();
                            } else {
                              startFailed();
                            }
                          });
              });
        },
        /*logErrors=*/false);  // "NotReady"/"Failed" when there is no session: expected
  }

  void setPowered(const std::string& path, bool on, std::function<void(bool ok)> then) {
    callAsync(
        path, kPropertiesIface, "Set",
        [on](sdbus::MethodCall& m) { m << std::string{kAdapterIface} << std::string{"Powered"} << sdbus::Variant{on}; },
        [then = std::move(then)](const std::string& err, sdbus::MethodReply&) {
          if (then) {
            then(err.empty());
          }
        });
  }

  // Second step of the escalation: Powered=false, then Powered=true; discovery starts
  // again when BlueZ reports the adapter powered (the usual power-cycle recovery).
  void powerCycle(const std::string& path, long long silentMs) {
    support::log::warn("ble.adapter_power_cycle", {{"adapter", lastPathComponent(path)}, {"silent_ms", silentMs}});
    bump(counters.watchdogRestarts);
    bump(counters.adapterPowerCycles);
    sessionActive = false;
    abandonStart();
    powerCycleInFlight = true;
    pendingRestartReason = "adapter-power-cycled";
    const auto myEpoch = epoch;
    setPowered(path, false, [this, path, myEpoch](bool) {
      setPowered(path, true, [this, myEpoch](bool ok) {
        powerCycleInFlight = false;
        if (!ok && myEpoch == epoch) {
          nextAttempt = now() + options.retryInterval;
        }
      });
    });
  }

  void startFailed() {
    startInFlight = false;
    nextAttempt = now() + options.retryInterval;
  }

  void startSucceeded() {
    const auto t = now();
    startInFlight = false;
    sessionActive = true;
    // BlueZ may confirm (Discovering=true) before it answers StartDiscovery.
    awaitingDiscovering = !confirmedDuringStart;
    startedAt = t;
    lastAdvert = t;  // the watchdog counts from the (re)start
    bump(counters.discoveryStarts);
    if (everStarted) {
      bump(counters.discoveryRestarts);
    }
    everStarted = true;
    lastStartReason = pendingRestartReason.empty() ? std::string{"start"} : pendingRestartReason;
    pendingRestartReason.clear();
    support::log::info("ble.discovery_started",
                       {{"adapter", lastPathComponent(currentAdapter)}, {"reason", lastStartReason}});
    // Discovering=true usually arrives as a signal; a real adapter already
    // discovering for another client reports it only via the property.
  }

  void reconcile() {
    const auto t = now();
    if (!running) {
      return;
    }
    if (bluezOwner.empty()) {
      setState(ScannerState::waiting_for_bluez, "no-bluez");
      return;
    }
    if (resyncNeeded && !resyncInFlight && t >= nextAttempt) {
      beginResync();
    }
    if (resyncInFlight) {
      return;  // the adapters are known once GetManagedObjects answers
    }
    const std::string pick = pickAdapter();
    if (pick != currentAdapter) {
      if (!pick.empty()) {
        support::log::info("ble.adapter_selected", {{"adapter", lastPathComponent(pick)}});
      }
      currentAdapter = pick;
      sessionActive = false;
      abandonStart();
      nextAttempt = t;
    }
    if (currentAdapter.empty()) {
      setState(ScannerState::waiting_for_adapter, "no-adapter");
      return;
    }
    const auto& info = adapters[currentAdapter];
    if (!info.powered) {
      sessionActive = false;
      if (options.powerOnAtStart && !everStarted && !powerOnTried) {
        // Nothing can be scanned with it off, and nobody else is using it yet.
        powerOnTried = true;
        support::log::warn("ble.adapter_powering_on", {{"adapter", info.name}, {"reason", "off-at-start"}});
        pendingRestartReason = "powered-on-at-start";
        setPowered(currentAdapter, true, {});
      }
      setState(ScannerState::waiting_for_power, "powered-off");
      return;
    }
    if (powerCycleInFlight) {
      return;  // discovery starts again once the adapter is back on
    }
    if (sessionActive && !info.discovering) {
      // We started, BlueZ has not confirmed yet (or dropped it: handled by adapterChanged).
      setState(ScannerState::starting, "awaiting-discovering");
      if (t - startedAt >= options.watchdog) {
        support::log::warn("ble.discovering_not_confirmed", {{"adapter", info.name}});
        bump(counters.watchdogRestarts);
        sessionActive = false;
        pendingRestartReason = "watchdog";
      }
    }
    if (awaitingDiscovering && t - startedAt >= kConfirmGrace) {
      // Another client kept the adapter discovering, so no Discovering=true signal
      // comes for our start: from now on a false is a real drop.
      awaitingDiscovering = false;
    }
    if (sessionActive && info.discovering) {
      setState(ScannerState::discovering, lastStartReason);
      if (initialSweepPending) {
        sweepInitialDevices();
      }
      if (stalled || t - lastAdvert < options.watchdog) {
        return;
      }
      ++silentPeriods;
      const auto silentMs = std::chrono::duration_cast<std::chrono::milliseconds>(options.watchdog).count() *
                            silentPeriods;
      if (!options.escalate || silentPeriods == 1) {
        support::log::warn("ble.watchdog_restart", {{"adapter", info.name}, {"silent_ms", silentMs}});
        bump(counters.watchdogRestarts);
        sessionActive = false;
        pendingRestartReason = "watchdog";
      } else if (silentPeriods == 2) {
        powerCycle(currentAdapter, silentMs);
        return;
      } else {
        support::log::error("ble.stalled", {{"adapter", info.name}, {"silent_ms", silentMs},
                                            {"tried", "restart discovery, power-cycle the adapter"}});
        stalled = true;
        setState(ScannerState::stalled, "no-advertisements");
        return;
      }
    }
    if (!sessionActive && !startInFlight && t >= nextAttempt) {
      setState(ScannerState::starting, pendingRestartReason.empty() ? "start" : pendingRestartReason);
      beginStart(currentAdapter);
    }
  }

  void runRemovals() {
    while (!removalQueue.empty() && removalsInFlight < kMaxRemovalsInFlight) {
      const std::string path = std::move(removalQueue.back());
      removalQueue.pop_back();
      auto it = devices.find(path);
      if (it == devices.end()) {
        continue;
      }
      const std::string adapterPath = it->second.adapterPath;
      ++removalsInFlight;
      callAsync(adapterPath, kAdapterIface, "RemoveDevice",
                [&](sdbus::MethodCall& m) { m << sdbus::ObjectPath{path}; },
                [this](const std::string& err, sdbus::MethodReply&) {
                  --removalsInFlight;
                  if (err.empty()) {
                    bump(counters.devicesRemoved);
                  }
                });
      // Removed or gone either way; InterfacesRemoved will follow for the former.
      devices.erase(it);
    }
  }

  void sweepStale() {
    const auto t = now();
    if (t - lastStaleSweep < std::chrono::seconds{1} && devices.size() <= options.maxTrackedDevices) {
      return;
    }
    lastStaleSweep = t;
    for (auto& [path, dev] : devices) {
      if (!dev.keep && t - dev.lastSeen >= options.staleDeviceAge) {
        queueRemoval(path, dev);
      }
    }
    // Bound the cache: evict least recently seen beyond the limit.
    std::size_t live = 0;
    for (const auto& [path, dev] : devices) {
      live += dev.removalQueued ? 0U : 1U;
    }
    for (; live > options.maxTrackedDevices; --live) {
      DeviceInfo* oldest = nullptr;
      const std::string* oldestPath = nullptr;
      for (auto& [path, dev] : devices) {
        if (!dev.keep && !dev.removalQueued && (oldest == nullptr || dev.lastSeen < oldest->lastSeen)) {
          oldest = &dev;
          oldestPath = &path;
        }
      }
      if (oldest == nullptr) {
        break;
      }
      queueRemoval(*oldestPath, *oldest);
    }
  }

  // The earliest moment reconcile()/sweepStale() has something to do, if any.
  [[nodiscard]] std::optional<Clock::time_point> nextTimer() const {
    if (!running || bluezOwner.empty()) {
      return std::nullopt;
    }
    std::optional<Clock::time_point> next;
    auto consider = [&](Clock::time_point t) { next = next ? std::min(*next, t) : t; };
    if (resyncNeeded) {
      consider(nextAttempt);
    }
    const auto it = adapters.find(currentAdapter);
    // While GetManagedObjects is under way reconcile() starts nothing: its reply wakes poll().
    if (!resyncInFlight && it != adapters.end() && it->second.powered) {
      if (!sessionActive && !startInFlight && !powerCycleInFlight) {  // these end with a reply
        consider(nextAttempt);
      } else {
        consider((it->second.discovering ? lastAdvert : startedAt) + options.watchdog);
      }
    }
    if (!devices.empty()) {
      consider(lastStaleSweep + std::chrono::seconds{1});
    }
    return next;
  }

  Result<void> processPending() {
    try {
      for (int i = 0; i < 100000 && conn->processPendingRequest(); ++i) {
      }
    } catch (const sdbus::Error& e) {
      support::log::error("ble.bus_lost", {{"error", e.getName()}, {"message", e.getMessage()}});
      return errorFrom(e);
    }
    return {};
  }

  Result<void> step() {
    // Actions issue method calls; signals that arrive meanwhile are queued by
    // sd-bus, so alternate until both are quiet (bounded).
    for (int round = 0; round < 8; ++round) {
      if (auto r = processPending(); !r) {
        return r;
      }
      flushDirty();
      reconcile();
      if (running) {
        sweepStale();
        runRemovals();
      }
      // Replies come later through the bus fd; loop only while a queue can still move.
      const bool removalsCanMove = !removalQueue.empty() && removalsInFlight < kMaxRemovalsInFlight;
      const bool resyncCanStart = resyncNeeded && !resyncInFlight && now() >= nextAttempt;
      if (!removalsCanMove && !resyncCanStart) {
        break;
      }
    }
    auto r = processPending();
    flushDirty();
    return r;
  }
};

BluezScanner::BluezScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BluezScanner::~BluezScanner() { stop(); }

namespace {
Result<void> finish(BluezScanner::Impl& impl, std::unique_ptr<sdbus::IConnection> conn) {
  impl.conn = std::move(conn);
  impl.wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl.wakeFd < 0) {
    return error_code{errno, boost::system::system_category()};
  }
  return {};
}
}  // namespace

Result<std::unique_ptr<BluezScanner>> BluezScanner::create(ScannerOptions options, const support::TimeSource& time,
                                                           SightingCallback onSighting, StateCallback onState) {
  std::unique_ptr<sdbus::IConnection> conn;
  try {
    conn = sdbus::createSystemBusConnection();
  } catch (const sdbus::Error& e) {
    support::log::error("ble.bus_connect_failed", {{"error", e.getName()}, {"message", e.getMessage()}});
    return errorFrom(e);
  }
  auto impl = std::make_unique<Impl>(std::move(options), time, std::move(onSighting), std::move(onState));
  if (auto r = finish(*impl, std::move(conn)); !r) {
    return r.error();
  }
  return std::unique_ptr<BluezScanner>{new BluezScanner(std::move(impl))};
}

Result<std::unique_ptr<BluezScanner>> BluezScanner::createWithAddress(std::string_view busAddress,
                                                                      ScannerOptions options,
                                                                      const support::TimeSource& time,
                                                                      SightingCallback onSighting,
                                                                      StateCallback onState) {
  std::unique_ptr<sdbus::IConnection> conn;
  try {
    conn = sdbus::createSessionBusConnectionWithAddress(std::string{busAddress});
  } catch (const sdbus::Error& e) {
    support::log::error("ble.bus_connect_failed", {{"error", e.getName()}, {"message", e.getMessage()}});
    return errorFrom(e);
  }
  auto impl = std::make_unique<Impl>(std::move(options), time, std::move(onSighting), std::move(onState));
  if (auto r = finish(*impl, std::move(conn)); !r) {
    return r.error();
  }
  return std::unique_ptr<BluezScanner>{new BluezScanner(std::move(impl))};
}

Result<void> BluezScanner::start() {
  auto& d = *impl_;
  if (d.running) {
    return {};
  }
  // Subscribe first, then read the owner and the objects, so nothing falls in between.
  if (auto r = d.subscribe(); !r) {
    return r;
  }
  d.running = true;
  d.stalled = false;
  d.silentPeriods = 0;
  d.powerOnTried = false;
  d.lastAdvert = d.now();
  d.lastStaleSweep = d.now();
  d.nextAttempt = d.now();
  d.readOwner();
  return d.step();
}

void BluezScanner::stop() {
  auto& d = *impl_;
  if (!d.running) {
    return;
  }
  d.running = false;
  if ((d.sessionActive || d.startInFlight) && !d.currentAdapter.empty() && !d.bluezOwner.empty()) {
    // Not waited for (bluetoothd may be hung): sent now, and BlueZ ends a client's
    // discovery session anyway when the client's connection closes.
    d.callAsync(d.currentAdapter, kAdapterIface, "StopDiscovery", {}, {}, /*logErrors=*/false);
  }
  d.startInFlight = false;
  d.sessionActive = false;
  d.slots.clear();
  d.setState(ScannerState::stopped, "stopped");
}

Result<void> BluezScanner::poll(std::chrono::milliseconds maxWait) {
  auto& d = *impl_;
  if (auto r = d.step(); !r) {
    return r;
  }
  if (d.stalled) {
    return boost::system::errc::make_error_code(boost::system::errc::timed_out);
  }
  sdbus::IConnection::PollData pd{};
  try {
    pd = d.conn->getEventLoopPollData();
  } catch (const sdbus::Error& e) {
    return errorFrom(e);
  }
  auto waitMs = maxWait.count();
  if (pd.timeout_usec != UINT64_MAX) {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto nowUs = static_cast<std::uint64_t>(ts.tv_sec) * 1000000ULL + static_cast<std::uint64_t>(ts.tv_nsec) / 1000ULL;
    const auto rel = pd.timeout_usec > nowUs ? static_cast<long long>((pd.timeout_usec - nowUs + 999) / 1000) : 0LL;
    waitMs = std::min<long long>(waitMs, rel);
  }
  // Wake up for our own timers (in TimeSource time); none while merely waiting
  // for bluez, an adapter or power (those end with a signal).
  if (const auto next = d.nextTimer()) {
    const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*next - d.now()).count();
    waitMs = std::min<long long>(waitMs, std::max<long long>(until, 0));
  }
  pollfd fds[2] = {{pd.fd, pd.events, 0}, {d.wakeFd, POLLIN, 0}};
  const int n = ::poll(fds, 2, static_cast<int>(std::clamp<long long>(waitMs, 0, 60000)));
  if (n < 0 && errno != EINTR) {
    return error_code{errno, boost::system::system_category()};
  }
  if ((fds[1].revents & POLLIN) != 0) {
    std::uint64_t v = 0;
    (void)!::read(d.wakeFd, &v, sizeof v);
  }
  if (auto r = d.step(); !r) {
    return r;
  }
  if (d.stalled) {
    return boost::system::errc::make_error_code(boost::system::errc::timed_out);
  }
  return {};
}

void BluezScanner::wake() noexcept {
  const std::uint64_t one = 1;
  (void)!::write(impl_->wakeFd, &one, sizeof one);
}

ScannerState BluezScanner::state() const noexcept { return impl_->state; }

std::string BluezScanner::adapter() const {
  return impl_->currentAdapter.empty() ? std::string{} : lastPathComponent(impl_->currentAdapter);
}

ScannerCounters BluezScanner::counters() const noexcept {
  const auto& c = impl_->counters;
  auto ld = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return ScannerCounters{ld(c.advertisements),   ld(c.sightings),         ld(c.ignoredNoise), ld(c.belowRssiFloor),
                         ld(c.malformedValues),  ld(c.discoveryStarts),   ld(c.discoveryRestarts),
                         ld(c.watchdogRestarts), ld(c.devicesRemoved),    ld(c.dbusErrors),
                         ld(c.adapterPowerCycles)};
}

std::size_t BluezScanner::trackedDevices() const noexcept { return impl_->devices.size(); }

}  // namespace attendance::ble_scan
