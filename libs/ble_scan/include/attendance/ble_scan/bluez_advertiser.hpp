#pragma once

#include <attendance/support/clock.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Broadcasting through BlueZ (docs/beacon.md): exports an org.bluez.LEAdvertisement1 object and
// registers it with org.bluez.LEAdvertisingManager1 on an adapter; registers again with new data
// when the broadcast's validity ends (private rotating ids: each window), when bluetoothd
// restarts or the adapter comes back. What to broadcast is the caller's (beacon_id's bytes);
// this class only knows how to say it over D-Bus.
//
// Threading, like BluezScanner (ADR 0020): single-threaded and caller-driven; every D-Bus call is
// asynchronous, so a frozen bluetoothd never blocks poll(). wake() and counters() may be called
// from any thread (wake() is async-signal-safe).
namespace attendance::ble_scan {

// The data of one legacy advertisement, as LEAdvertisement1 properties take it. The caller
// keeps it within 31 bytes (flags included); BlueZ refuses more (org.bluez.Error.InvalidLength).
struct AdvertisingData {
  std::map<std::uint16_t, std::vector<std::uint8_t>> manufacturerData;  // company id → bytes after it
  std::map<std::string, std::vector<std::uint8_t>> serviceData;         // UUID ("FEAA" or 128-bit) → bytes
  std::vector<std::string> serviceUuids;                                // "FEAA", ...
  friend bool operator==(const AdvertisingData&, const AdvertisingData&) = default;
};

// What to broadcast from now on, and until when (nullopt: for ever).
struct Broadcast {
  AdvertisingData data;
  std::optional<std::chrono::system_clock::time_point> until;
  std::string label;  // for logs and state changes, e.g. the id as a canonical UUID
};

struct AdvertiserOptions {
  // BlueZ adapter name ("hci1"); empty = the first adapter with an advertising manager.
  std::string adapterName;
  // Delay before retrying a failed registration (adapter missing, BlueZ refused, ...).
  std::chrono::milliseconds retryInterval = std::chrono::seconds{2};
  // Timeout of each D-Bus method call; calls are asynchronous, a hung bluetoothd delays only them.
  std::chrono::milliseconds callTimeout = std::chrono::seconds{5};
  // Advertising interval asked of BlueZ (LEAdvertisement1 MinInterval = MaxInterval, in ms; BlueZ
  // accepts 20 ms to 10,485 s). Without it the kernel's default of 1.28 s applies, too slow for the
  // scanner's presence rule at the door: 250 ms is what the participant apps must use (ADR 0025).
  // bluetoothd before 5.70 honours it only with experimental features on (docs/beacon.md).
  std::chrono::milliseconds interval = std::chrono::milliseconds{250};
  // Where the LEAdvertisement1 object is exported on our connection.
  std::string objectPath = "/org/attendance/beacon/advertisement0";
};

enum class AdvertiserState : std::uint8_t {
  stopped,              // start() not called, or stop() called
  waiting_for_bluez,    // org.bluez has no owner on the bus
  waiting_for_adapter,  // no (matching) adapter with LEAdvertisingManager1
  registering,          // RegisterAdvertisement sent (or UnregisterAdvertisement before a new one)
  advertising,          // BlueZ accepted the advertisement
};
[[nodiscard]] std::string_view stateName(AdvertiserState s) noexcept;

struct AdvertiserStateChange {
  AdvertiserState state = AdvertiserState::stopped;
  std::string_view adapter;  // empty when none
  std::string_view label;    // what is (being) broadcast
  std::string_view reason;   // short machine-friendly reason, e.g. "bluez-restarted", "rotated"
};

struct AdvertiserCounters {
  std::uint64_t registrations = 0;         // RegisterAdvertisement calls BlueZ accepted
  std::uint64_t registrationFailures = 0;  // ... it refused or did not answer
  std::uint64_t rotations = 0;             // re-registrations because the broadcast's validity ended
  std::uint64_t bluezRestarts = 0;         // new owners of org.bluez seen
  std::uint64_t releases = 0;              // LEAdvertisement1.Release calls from BlueZ
};

class BluezAdvertiser {
public:
  // What to broadcast at a given time (TimeSource::systemTime()); called at each registration.
  using BroadcastSource = std::function<Broadcast(std::chrono::system_clock::time_point now)>;
  using StateCallback = std::function<void(const AdvertiserStateChange&)>;

  // Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured); fails only when no bus
  // connection can be made.
  [[nodiscard]] static Outcome<std::unique_ptr<BluezAdvertiser>> create(AdvertiserOptions options,
                                                                        const support::TimeSource& time,
                                                                        BroadcastSource source,
                                                                        StateCallback onState = {});
  // Same, on an explicit bus address ("unix:path=..."), for tests and tools.
  [[nodiscard]] static Outcome<std::unique_ptr<BluezAdvertiser>> createWithAddress(std::string_view busAddress,
                                                                                   AdvertiserOptions options,
                                                                                   const support::TimeSource& time,
                                                                                   BroadcastSource source,
                                                                                   StateCallback onState = {});
  ~BluezAdvertiser();
  BluezAdvertiser(const BluezAdvertiser&) = delete;
  BluezAdvertiser& operator=(const BluezAdvertiser&) = delete;

  // Exports the advertisement, subscribes to BlueZ's signals and registers when an adapter is
  // there. Only a broken bus connection (or a taken object path) is an error.
  Outcome<void> start();
  // Unregisters (best effort, not waited for) and withdraws the object. Idempotent.
  void stop();
  // Waits up to `maxWait` for D-Bus traffic, wake() or the next timer (retry, end of the
  // broadcast's validity), then handles everything pending. Error: the bus connection is lost.
  Outcome<void> poll(std::chrono::milliseconds maxWait);
  void wake() noexcept;

  [[nodiscard]] AdvertiserState state() const noexcept;
  [[nodiscard]] std::string adapter() const;
  // The label of what BlueZ last accepted ("" when nothing is registered).
  [[nodiscard]] std::string advertising() const;
  [[nodiscard]] AdvertiserCounters counters() const noexcept;

  struct Impl;

private:
  explicit BluezAdvertiser(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::ble_scan
