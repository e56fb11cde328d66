// BluezAdvertiser: an exported org.bluez.LEAdvertisement1 object registered with
// org.bluez.LEAdvertisingManager1, on the scanner's bus loop (bus_loop.*). Signal handlers and
// BlueZ's Release only update the model; step() issues the calls, all asynchronous (ADR 0020).
#include <attendance/ble_scan/bluez_advertiser.hpp>

#include "bluez_paths.hpp"
#include "bus_loop.hpp"

#include <attendance/support/log.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <vector>

namespace attendance::ble_scan {

namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;
using PropertyMap = std::map<std::string, sdbus::Variant>;
using InterfaceMap = std::map<std::string, PropertyMap>;

constexpr const char* kAdapterIface = "org.bluez.Adapter1";
constexpr const char* kManagerIface = "org.bluez.LEAdvertisingManager1";
constexpr const char* kAdvertisementIface = "org.bluez.LEAdvertisement1";
constexpr const char* kObjectManagerIface = "org.freedesktop.DBus.ObjectManager";

void bump(std::atomic<std::uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

// BlueZ's range for MinInterval/MaxInterval; refused here so the caller hears it at start-up
// instead of a registration that BlueZ refuses and the advertiser retries for ever.
Outcome<void> checkOptions(const AdvertiserOptions& options) {
  constexpr std::chrono::milliseconds kMinInterval{20};
  constexpr std::chrono::milliseconds kMaxInterval{10'485'000};
  if (options.interval < kMinInterval || options.interval > kMaxInterval) {
    return Failure{boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                   "advertising interval " + std::to_string(options.interval.count()) +
                       " ms is outside BlueZ's range of 20 ms to 10485000 ms"};
  }
  return {};
}

}  // namespace

std::string_view stateName(AdvertiserState s) noexcept {
  switch (s) {
    case AdvertiserState::stopped: return "stopped";
    case AdvertiserState::waiting_for_bluez: return "waiting-for-bluez";
    case AdvertiserState::waiting_for_adapter: return "waiting-for-adapter";
    case AdvertiserState::registering: return "registering";
    case AdvertiserState::advertising: return "advertising";
  }
  return "unknown";
}

struct BluezAdvertiser::Impl {
  Impl(AdvertiserOptions o, const support::TimeSource& t, BroadcastSource s, StateCallback st)
      : options(std::move(o)), time(t), source(std::move(s)), onState(std::move(st)) {}

  AdvertiserOptions options;
  const support::TimeSource& time;
  BroadcastSource source;
  StateCallback onState;
  std::unique_ptr<BusLoop> bus;
  std::unique_ptr<sdbus::IObject> object;
  std::vector<sdbus::Slot> slots;

  bool running = false;
  AdvertiserState current = AdvertiserState::stopped;
  std::string owner;        // org.bluez's unique name, "" when none
  std::string adapterPath;  // the adapter we register with, "" when none
  // Every reset (new owner, adapter gone, stop) starts a new epoch: replies to calls of an
  // older one are ignored.
  std::uint64_t epoch = 0;
  bool resyncWanted = false;
  bool resyncInFlight = false;
  bool callInFlight = false;  // a Register/Unregister is waiting for its answer
  bool registered = false;    // BlueZ holds our advertisement
  bool registerWanted = false;
  std::optional<Clock::time_point> retryAt;
  Broadcast broadcast;  // what the exported object shows; set before each registration
  mutable std::mutex labelMutex;
  std::string registeredLabel;

  struct {
    std::atomic<std::uint64_t> registrations{0};
    std::atomic<std::uint64_t> registrationFailures{0};
    std::atomic<std::uint64_t> rotations{0};
    std::atomic<std::uint64_t> bluezRestarts{0};
    std::atomic<std::uint64_t> releases{0};
  } counters;

  [[nodiscard]] std::chrono::microseconds timeout() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(options.callTimeout);
  }

  void setState(AdvertiserState s, std::string_view reason) {
    if (s == current) {
      return;
    }
    current = s;
    const std::string adapter = adapterPath.empty() ? std::string{} : lastPathComponent(adapterPath);
    support::log::info("ble.advertiser_state",
                       {{"state", stateName(s)}, {"adapter", adapter}, {"id", broadcast.label}, {"reason", reason}});
    if (onState) {
      onState(AdvertiserStateChange{s, adapter, broadcast.label, reason});
    }
  }

  void setRegisteredLabel(std::string label) {
    const std::lock_guard lock{labelMutex};
    registeredLabel = std::move(label);
  }

  // ---- the exported LEAdvertisement1 --------------------------------------

  Outcome<void> exportObject() {
    try {
      object = sdbus::createObject(bus->connection(), options.objectPath);
      object->registerProperty("Type").onInterface(kAdvertisementIface).withGetter([] {
        return std::string{"broadcast"};  // non-connectable: there is nothing to connect to
      });
      object->registerProperty("ManufacturerData").onInterface(kAdvertisementIface).withGetter([this] {
        std::map<std::uint16_t, sdbus::Variant> out;
        for (const auto& [company, bytes] : broadcast.data.manufacturerData) {
          out.emplace(company, sdbus::Variant{bytes});
        }
        return out;
      });
      object->registerProperty("ServiceData").onInterface(kAdvertisementIface).withGetter([this] {
        std::map<std::string, sdbus::Variant> out;
        for (const auto& [uuid, bytes] : broadcast.data.serviceData) {
          out.emplace(uuid, sdbus::Variant{bytes});
        }
        return out;
      });
      object->registerProperty("ServiceUUIDs").onInterface(kAdvertisementIface).withGetter([this] {
        return broadcast.data.serviceUuids;
      });
      const auto intervalMs = static_cast<std::uint32_t>(options.interval.count());
      object->registerProperty("MinInterval").onInterface(kAdvertisementIface).withGetter([intervalMs] {
        return intervalMs;
      });
      object->registerProperty("MaxInterval").onInterface(kAdvertisementIface).withGetter([intervalMs] {
        return intervalMs;
      });
      // BlueZ took the advertisement back (adapter reset, another client's claim): register again.
      object->registerMethod("Release").onInterface(kAdvertisementIface).implementedAs([this] {
        bump(counters.releases);
        support::log::warn("ble.advertisement_released", {{"adapter", lastPathComponent(adapterPath)}});
        registered = false;
        setRegisteredLabel({});
        ++epoch;
        callInFlight = false;
        registerWanted = true;
        retryAt = time.monotonicTime() + options.retryInterval;
        setState(AdvertiserState::registering, "released");
      });
      object->finishRegistration();
    } catch (const sdbus::Error& e) {
      object.reset();
      return busFailure(e, "cannot export the advertisement at " + options.objectPath);
    }
    return {};
  }

  // ---- signals: model updates only ------------------------------------------

  void lostRegistration() {
    registered = false;
    callInFlight = false;
    resyncInFlight = false;
    setRegisteredLabel({});
    ++epoch;
  }

  void onBluezOwner(const std::string& newOwner) {
    lostRegistration();
    owner = newOwner;
    adapterPath.clear();
    retryAt.reset();
    if (newOwner.empty()) {
      setState(AdvertiserState::waiting_for_bluez, "bluez-gone");
      return;
    }
    bump(counters.bluezRestarts);
    resyncWanted = true;
    registerWanted = true;
  }

  [[nodiscard]] bool fromBluez(sdbus::Message& msg) const { return !owner.empty() && msg.getSender() == owner; }

  [[nodiscard]] bool adapterMatches(const std::string& path) const {
    return options.adapterName.empty() || lastPathComponent(path) == options.adapterName;
  }

  void onInterfacesAdded(sdbus::Message& msg) {
    if (!fromBluez(msg)) {
      return;
    }
    try {
      sdbus::ObjectPath path;
      InterfaceMap ifaces;
      msg >> path >> ifaces;
      if (adapterPath.empty() && ifaces.contains(kManagerIface) && adapterMatches(path)) {
        resyncWanted = true;
        registerWanted = true;
      }
    } catch (const sdbus::Error&) {
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
      const bool ours = std::string{path} == adapterPath;
      const bool manager = std::find(ifaces.begin(), ifaces.end(), kManagerIface) != ifaces.end() ||
                           std::find(ifaces.begin(), ifaces.end(), kAdapterIface) != ifaces.end();
      if (ours && manager) {
        lostRegistration();
        adapterPath.clear();
        setState(AdvertiserState::waiting_for_adapter, "adapter-removed");
        resyncWanted = true;  // another adapter may do
        registerWanted = true;
      }
    } catch (const sdbus::Error&) {
    }
  }

  Outcome<void> subscribe() {
    try {
      auto& c = bus->connection();
      slots.push_back(
          bus->watchBluezOwner([this](const std::string&, const std::string& newOwner) { onBluezOwner(newOwner); }));
      slots.push_back(
          c.addMatch("type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded'",
                     [this](sdbus::Message& m) { onInterfacesAdded(m); }));
      slots.push_back(
          c.addMatch("type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesRemoved'",
                     [this](sdbus::Message& m) { onInterfacesRemoved(m); }));
    } catch (const sdbus::Error& e) {
      return busFailure(e, "cannot subscribe to BlueZ's signals on the D-Bus");
    }
    return {};
  }

  // ---- calls ---------------------------------------------------------------

  void failed(std::string_view method, const sdbus::Error& error) {
    support::log::warn(
        "ble.dbus_error",
        {{"method", method}, {"path", adapterPath}, {"error", error.getName()}, {"message", error.getMessage()}});
  }

  void readObjects() {
    resyncWanted = false;
    resyncInFlight = true;
    const auto at = epoch;
    bus->callAsync(
        "/", kObjectManagerIface, "GetManagedObjects", {},
        [this, at](const sdbus::Error* error, sdbus::MethodReply& reply) {
          if (at != epoch) {
            return;
          }
          resyncInFlight = false;
          if (error != nullptr) {
            failed("GetManagedObjects", *error);
            retryAt = time.monotonicTime() + options.retryInterval;
            resyncWanted = true;
            return;
          }
          std::map<sdbus::ObjectPath, InterfaceMap> objects;
          try {
            reply >> objects;
          } catch (const sdbus::Error& e) {
            failed("GetManagedObjects", e);
            return;
          }
          std::vector<std::string> adapters;
          for (const auto& [path, ifaces] : objects) {
            if (ifaces.contains(kManagerIface) && adapterMatches(path)) {
              adapters.push_back(path);
            }
          }
          if (adapters.empty()) {
            adapterPath.clear();
            setState(AdvertiserState::waiting_for_adapter, "no-advertising-adapter");
            return;
          }
          std::sort(adapters.begin(), adapters.end());
          adapterPath = adapters.front();
        },
        timeout());
  }

  void registerNow(std::string_view reason) {
    registerWanted = false;
    broadcast = source(time.systemTime());
    callInFlight = true;
    setState(AdvertiserState::registering, reason);
    const auto at = epoch;
    bus->callAsync(
        adapterPath, kManagerIface, "RegisterAdvertisement",
        [this](sdbus::MethodCall& m) { m << sdbus::ObjectPath{options.objectPath} << PropertyMap{}; },
        [this, at](const sdbus::Error* error, sdbus::MethodReply&) {
          if (at != epoch) {
            return;
          }
          callInFlight = false;
          if (error != nullptr) {
            bump(counters.registrationFailures);
            failed("RegisterAdvertisement", *error);
            if (error->getName() == "org.bluez.Error.AlreadyExists") {
              registered = true;  // left over from before: take it back first, then register anew
              unregisterThenRegister("re-register");
              return;
            }
            registerWanted = true;
            retryAt = time.monotonicTime() + options.retryInterval;
            return;
          }
          registered = true;
          bump(counters.registrations);
          setRegisteredLabel(broadcast.label);
          support::log::info("ble.advertising", {{"adapter", lastPathComponent(adapterPath)}, {"id", broadcast.label}});
          setState(AdvertiserState::advertising, "registered");
        },
        timeout());
  }

  // Stop, then start with what the source says now: the new id gets a new start (and, on real
  // controllers, a chance of a new random address), never two ids at once.
  void unregisterThenRegister(std::string_view reason) {
    callInFlight = true;
    setState(AdvertiserState::registering, reason);
    const auto at = epoch;
    bus->callAsync(
        adapterPath, kManagerIface, "UnregisterAdvertisement",
        [this](sdbus::MethodCall& m) { m << sdbus::ObjectPath{options.objectPath}; },
        [this, at](const sdbus::Error* error, sdbus::MethodReply&) {
          if (at != epoch) {
            return;
          }
          callInFlight = false;
          if (error != nullptr && error->getName() != "org.bluez.Error.DoesNotExist") {
            failed("UnregisterAdvertisement", *error);
          }
          registered = false;
          setRegisteredLabel({});
          registerNow("rotated");
        },
        timeout());
  }

  [[nodiscard]] bool validityEnded() const {
    return registered && broadcast.until && time.systemTime() >= *broadcast.until;
  }

  void act() {
    if (!running || owner.empty()) {
      return;
    }
    const auto now = time.monotonicTime();
    if (retryAt && now < *retryAt) {
      return;
    }
    retryAt.reset();
    if (resyncWanted && !resyncInFlight && !callInFlight) {
      readObjects();
      return;
    }
    if (resyncInFlight || callInFlight || adapterPath.empty()) {
      return;
    }
    if (registerWanted && !registered) {
      registerNow(counters.bluezRestarts.load(std::memory_order_relaxed) > 0 ? "bluez-restarted" : "start");
      return;
    }
    if (validityEnded()) {
      bump(counters.rotations);
      unregisterThenRegister("rotating");
    }
  }

  Outcome<void> step() {
    for (int round = 0; round < 4; ++round) {
      if (auto r = bus->processPending(); !r) {
        return r;
      }
      act();
    }
    return bus->processPending();
  }

  // How long poll() may sleep: until a retry or the end of the broadcast's validity.
  [[nodiscard]] std::chrono::milliseconds nextWait(std::chrono::milliseconds maxWait) const {
    auto wait = maxWait;
    const auto clamp = [&](auto d) {
      wait = std::min(wait, std::max(std::chrono::ceil<std::chrono::milliseconds>(d), std::chrono::milliseconds{0}));
    };
    if (retryAt) {
      clamp(*retryAt - time.monotonicTime());
    }
    if (registered && broadcast.until) {
      clamp(*broadcast.until - time.systemTime());
    }
    return wait;
  }
};

BluezAdvertiser::BluezAdvertiser(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BluezAdvertiser::~BluezAdvertiser() { stop(); }

Outcome<std::unique_ptr<BluezAdvertiser>> BluezAdvertiser::create(AdvertiserOptions options,
                                                                  const support::TimeSource& time,
                                                                  BroadcastSource source, StateCallback onState) {
  if (auto valid = checkOptions(options); !valid) {
    return valid.error();
  }
  auto bus = BusLoop::system();
  if (!bus) {
    return bus.error();
  }
  auto impl = std::make_unique<Impl>(std::move(options), time, std::move(source), std::move(onState));
  impl->bus = std::move(*bus);
  return std::unique_ptr<BluezAdvertiser>{new BluezAdvertiser(std::move(impl))};
}

Outcome<std::unique_ptr<BluezAdvertiser>> BluezAdvertiser::createWithAddress(std::string_view busAddress,
                                                                             AdvertiserOptions options,
                                                                             const support::TimeSource& time,
                                                                             BroadcastSource source,
                                                                             StateCallback onState) {
  if (auto valid = checkOptions(options); !valid) {
    return valid.error();
  }
  auto bus = BusLoop::at(busAddress);
  if (!bus) {
    return bus.error();
  }
  auto impl = std::make_unique<Impl>(std::move(options), time, std::move(source), std::move(onState));
  impl->bus = std::move(*bus);
  return std::unique_ptr<BluezAdvertiser>{new BluezAdvertiser(std::move(impl))};
}

Outcome<void> BluezAdvertiser::start() {
  auto& d = *impl_;
  if (d.running) {
    return {};
  }
  if (!d.object) {
    if (auto r = d.exportObject(); !r) {
      return r;
    }
  }
  // Subscribe first, then read the owner, so a restart in between is not missed.
  if (auto r = d.subscribe(); !r) {
    return r;
  }
  d.running = true;
  d.owner = d.bus->nameOwner(kBluezService, d.timeout());
  d.registerWanted = true;
  if (d.owner.empty()) {
    d.setState(AdvertiserState::waiting_for_bluez, "no-bluez");
  } else {
    d.resyncWanted = true;
  }
  return d.step();
}

void BluezAdvertiser::stop() {
  auto& d = *impl_;
  if (!d.running) {
    return;
  }
  d.running = false;
  if (d.registered && !d.adapterPath.empty()) {
    d.bus->callAsync(
        d.adapterPath, kManagerIface, "UnregisterAdvertisement",
        [&d](sdbus::MethodCall& m) { m << sdbus::ObjectPath{d.options.objectPath}; }, {}, d.timeout());
  }
  d.lostRegistration();
  d.slots.clear();
  (void)d.bus->processPending();
  d.object.reset();
  d.setState(AdvertiserState::stopped, "stopped");
}

Outcome<void> BluezAdvertiser::poll(std::chrono::milliseconds maxWait) {
  auto& d = *impl_;
  if (auto r = d.step(); !r) {
    return r;
  }
  if (auto r = d.bus->wait(d.nextWait(maxWait)); !r) {
    return r;
  }
  return d.step();
}

void BluezAdvertiser::wake() noexcept { impl_->bus->wake(); }

AdvertiserState BluezAdvertiser::state() const noexcept { return impl_->current; }

std::string BluezAdvertiser::adapter() const {
  return impl_->adapterPath.empty() ? std::string{} : lastPathComponent(impl_->adapterPath);
}

std::string BluezAdvertiser::advertising() const {
  const std::lock_guard lock{impl_->labelMutex};
  return impl_->registeredLabel;
}

AdvertiserCounters BluezAdvertiser::counters() const noexcept {
  const auto& c = impl_->counters;
  auto ld = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return AdvertiserCounters{ld(c.registrations), ld(c.registrationFailures), ld(c.rotations), ld(c.bluezRestarts),
                            ld(c.releases)};
}

}  // namespace attendance::ble_scan
