#pragma once

// BluezScanner::Impl, the sdbus adapter of the scanner: bluez_signals.cpp decodes BlueZ's
// signals and replies into the device table (device_table.*) and the discovery policy
// (discovery_policy.*); bluez_scanner.cpp executes the policy's actions as asynchronous
// method calls (ADR 0020) and holds the public API. What to do and when is the policy's;
// these files only know how to say it over D-Bus.
#include <attendance/ble_scan/bluez_scanner.hpp>

#include "background_iphones.hpp"
#include "bus_loop.hpp"
#include "device_table.hpp"
#include "discovery_policy.hpp"
#include "scanner_counters.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attendance::ble_scan {

namespace detail {
inline constexpr const char* kAdapterIface = "org.bluez.Adapter1";
inline constexpr const char* kDeviceIface = "org.bluez.Device1";
inline constexpr const char* kPropertiesIface = "org.freedesktop.DBus.Properties";
inline constexpr const char* kObjectManagerIface = "org.freedesktop.DBus.ObjectManager";
using PropertyMap = std::map<std::string, sdbus::Variant>;
using InterfaceMap = std::map<std::string, PropertyMap>;
}  // namespace detail

struct BluezScanner::Impl {
  using Clock = std::chrono::steady_clock;
  using PropertyMap = detail::PropertyMap;
  using InterfaceMap = detail::InterfaceMap;

  Impl(ScannerOptions o, const support::TimeSource& t, SightingCallback s, StateCallback st)
      : options(std::move(o)),
        time(t),
        onSighting(std::move(s)),
        onState(std::move(st)),
        policy(options, time, counters),
        devices(options.staleDeviceAge, options.maxTrackedDevices) {}

  ScannerOptions options;
  const support::TimeSource& time;
  SightingCallback onSighting;
  StateCallback onState;
  detail::AtomicCounters counters;
  detail::DiscoveryPolicy policy;
  detail::DeviceTable devices;
  // A minute: longer than an iPhone's silences in the background, short enough that people who
  // left drop out of the count soon. 4096 devices bound it at ~100 KiB.
  detail::BackgroundIphones backgroundIphones{std::chrono::minutes{1}, 4096};

  std::unique_ptr<detail::BusLoop> bus;
  std::vector<sdbus::Slot> slots;
  bool gaveUp = false;  // the policy said stalled: poll() fails with timed_out

  Advertisement scratch;
  std::vector<Candidate> candidates;
  std::vector<Candidate> parsed;  // one property's ids (reparseAdvertProperty)

  // ---- helpers -------------------------------------------------------------

  [[nodiscard]] Clock::time_point now() const { return time.monotonicTime(); }

  [[nodiscard]] std::uint64_t timeoutUsec() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(options.callTimeout).count());
  }

  // The error name of a failed reply ("" on success).
  using ReplyHandler = std::function<void(const std::string& error, sdbus::MethodReply& reply)>;

  // Sends a BlueZ method call and returns at once: no call may block the loop, whatever
  // bluetoothd does (a frozen daemon answers only at the timeout). `onReply` runs inside a
  // later poll() with the reply, or with the error (the timeout included).
  void callAsync(const std::string& path, const char* iface, const char* method,
                 const std::function<void(sdbus::MethodCall&)>& args, ReplyHandler onReply, bool logErrors = true);

  // ---- signal handlers (no method calls in here: they only update the model) ---

  bool fromBluez(sdbus::Message& msg) const {
    return !policy.bluezOwner().empty() && msg.getSender() == policy.bluezOwner();
  }

  void onBluezOwner(const std::string& newOwner);  // org.bluez changed hands ("": gone)

  void onInterfacesAdded(sdbus::Message& msg);

  void onInterfacesRemoved(sdbus::Message& msg);

  void onPropertiesChanged(sdbus::Message& msg);

  // ---- model updates -------------------------------------------------------

  void addObject(const std::string& path, const InterfaceMap& ifaces, bool live);

  void adapterChanged(const std::string& path, const PropertyMap& props);

  // One advertisement-carrying property (ManufacturerData, ServiceData, UUIDs):
  // decoded into `scratch` (what decoded before a malformed part still counts)
  // and parsed into the candidates that property gives, replacing its previous ones.
  void reparseAdvertProperty(const sdbus::Variant& value,
                             bool (*decodeInto)(const sdbus::Variant&, Advertisement&) noexcept,
                             detail::DeviceInfo& dev, detail::AdvertProperty property);

  // Applies Device1 properties; marks the device dirty when they carry an advertisement.
  void deviceUpdate(detail::DeviceKey key, detail::DeviceInfo& dev, const PropertyMap& props, bool live);

  void flushDirty() {
    devices.flushDirty([this](detail::DeviceKey key, detail::DeviceInfo& dev) { sighting(key, dev); });
  }

  void sighting(detail::DeviceKey key, detail::DeviceInfo& dev);
  // Ages the background-iPhone count and publishes it in the counters.
  void noteBackgroundIphones() {
    backgroundIphones.expire(now());
    counters.backgroundIphones.store(backgroundIphones.current(), std::memory_order_relaxed);
    counters.backgroundIphonesPeak.store(backgroundIphones.peak(), std::memory_order_relaxed);
  }

  // ---- method calls, run outside signal handlers ----------------------------

  Outcome<void> subscribe();

  // org.bluez's unique name, "" when it has none. Synchronous, but asks the bus daemon, not BlueZ.
  std::string readOwner();

  void readObjects();

  void applyManagedObjects(sdbus::MethodReply& reply);

  // StopDiscovery (a session left over from before, after a drop or the watchdog, makes
  // StartDiscovery answer InProgress; its answer is ignored), SetDiscoveryFilter,
  // StartDiscovery: each sent when the previous one answered, none waited for.
  void startDiscovery(const std::string& path, std::uint64_t epoch);

  void setPowered(const std::string& path, bool on, std::function<void(bool ok)> then);

  void execute(const detail::DiscoveryPolicy::Actions& actions);

  void runRemovals();

  // The earliest moment the policy or the stale sweep has something to do, if any.
  [[nodiscard]] std::optional<Clock::time_point> nextTimer() const;

  Outcome<void> processPending();

  Outcome<void> step();
};

}  // namespace attendance::ble_scan
