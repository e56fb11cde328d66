#pragma once

#include <attendance/ble_scan/advertisement.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// The I/O half of ble_scan: BlueZ over D-Bus (sdbus-c++ lives only in src/).
//
// Threading: single-threaded and caller-driven. Nothing happens in the
// background; all D-Bus traffic, the state machine, the watchdog and every
// callback run on the thread that calls poll(). BluezScanner is not
// thread-safe, except wake() and counters(), which may be called from any
// thread (wake() is async-signal-safe, so a SIGTERM handler may call it).
// Callbacks must not call start(), stop() or poll() (set a flag instead).
namespace attendance::ble_scan {

struct ScannerOptions {
  // BlueZ adapter name ("hci1"); empty = the first powered adapter. Never assumed to be hci0.
  std::string adapterName;
  // RSSI floor passed to SetDiscoveryFilter and re-checked on every update
  // (filters of several clients are OR-merged by BlueZ). nullopt = no floor.
  std::optional<std::int16_t> rssiMin = std::int16_t{-90};
  ParserOptions parser;
  // No advertisement for this long while discovering → stop and restart discovery.
  std::chrono::milliseconds watchdog = std::chrono::seconds{90};
  // When advertisements stay away, escalate one step per further silent `watchdog`
  // period: restart discovery, power-cycle the adapter, then give up (state stalled,
  // poll() fails with timed_out so the app can exit for systemd to restart it).
  // Any advertisement (noise included) resets the ladder.
  bool escalate = true;
  // Power the adapter on (once, logged) when it is off at start instead of waiting.
  bool powerOnAtStart = true;
  // Delay before retrying a failed D-Bus step (adapter missing, StartDiscovery failed...).
  std::chrono::milliseconds retryInterval = std::chrono::seconds{2};
  // Sighted devices are not removed (RemoveDevice cannot defeat the controller's duplicate
  // filter; DuplicateData=true already reports every advertisement; ADR 0021). What bounds
  // BlueZ's device cache on BlueZ < 5.55, which has no TemporaryTimeout of its own:
  // remove any device (participants and noise) not updated for this long.
  std::chrono::milliseconds staleDeviceAge = std::chrono::seconds{60};
  // Devices tracked at most; beyond it the least recently seen one is removed from BlueZ.
  std::size_t maxTrackedDevices = 4096;
  // Timeout of each D-Bus method call. Calls are asynchronous: a hung bluetoothd delays
  // their replies, never poll().
  std::chrono::milliseconds callTimeout = std::chrono::seconds{5};
};

// One advertisement of one participant id. Views are valid during the callback only.
struct Sighting {
  support::Uuid bleUuid;
  Format format = Format::ibeacon;
  std::optional<std::int16_t> rssi;
  std::chrono::system_clock::time_point seenAt;      // TimeSource::systemTime()
  std::chrono::steady_clock::time_point seenAtMono;  // TimeSource::monotonicTime()
  std::string_view address;                          // device address (rotates; never an identity)
  std::string_view adapter;                          // adapter name, e.g. "hci0"
};

enum class ScannerState : std::uint8_t {
  stopped,              // start() not called, or stop() called
  waiting_for_bluez,    // org.bluez has no owner on the bus
  waiting_for_adapter,  // no (matching) adapter
  waiting_for_power,    // adapter present but Powered=false
  starting,             // filter set, StartDiscovery issued / being retried
  discovering,          // Discovering=true on our adapter
  stalled,              // no advertisements even after a discovery restart and an adapter power cycle
};
[[nodiscard]] std::string_view stateName(ScannerState s) noexcept;

struct StateChange {
  ScannerState state = ScannerState::stopped;
  std::string_view adapter;  // empty when none
  std::string_view reason;   // short machine-friendly reason, e.g. "bluez-restarted"
};

// Monotonic counters, for the status line.
struct ScannerCounters {
  std::uint64_t advertisements = 0;      // Device1 updates that carried advertisement data
  std::uint64_t sightings = 0;           // participant ids delivered to onSighting
  std::uint64_t ignoredNoise = 0;        // advertisements with no participant id
  std::uint64_t belowRssiFloor = 0;      // dropped by rssiMin
  std::uint64_t malformedValues = 0;     // D-Bus values of the wrong type, skipped
  std::uint64_t discoveryStarts = 0;     // successful StartDiscovery calls
  std::uint64_t discoveryRestarts = 0;   // restarts after a drop, watchdog, bluez restart, power or adapter change
  std::uint64_t watchdogRestarts = 0;    // of which by the watchdog
  std::uint64_t devicesRemoved = 0;      // successful RemoveDevice calls
  std::uint64_t dbusErrors = 0;          // failed method calls
  std::uint64_t adapterPowerCycles = 0;  // escalation step 2 (also counted in watchdogRestarts)
  // iPhones with the app in the background send only Apple's overflow area, no id (ADR 0022):
  // counted so the door staff can ask people to open the app (issue 13 §2).
  std::uint64_t appleOverflowFrames = 0;    // advertisements carrying it (also in ignoredNoise)
  std::uint64_t backgroundIphones = 0;      // devices that sent one within the last minute
  std::uint64_t backgroundIphonesPeak = 0;  // the most of those at any time in this run
};

class BluezScanner {
public:
  using SightingCallback = std::function<void(const Sighting&)>;
  using StateCallback = std::function<void(const StateChange&)>;

  // Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured). Fails only
  // when no bus connection can be made (the message keeps the D-Bus error's name);
  // BlueZ itself may come later.
  [[nodiscard]] static Outcome<std::unique_ptr<BluezScanner>> create(ScannerOptions options,
                                                                     const support::TimeSource& time,
                                                                     SightingCallback onSighting,
                                                                     StateCallback onState = {});
  // Same, on an explicit bus address ("unix:path=..."), for tests and tools.
  [[nodiscard]] static Outcome<std::unique_ptr<BluezScanner>> createWithAddress(std::string_view busAddress,
                                                                                ScannerOptions options,
                                                                                const support::TimeSource& time,
                                                                                SightingCallback onSighting,
                                                                                StateCallback onState = {});

  ~BluezScanner();
  BluezScanner(const BluezScanner&) = delete;
  BluezScanner& operator=(const BluezScanner&) = delete;

  // Subscribes to signals, reads the managed objects and starts discovery when an
  // adapter is ready. Errors from BlueZ are not fatal (the scanner waits and
  // retries); only a broken bus connection is returned as an error.
  Outcome<void> start();
  // Stops discovery (best effort) and unsubscribes. Idempotent; also done by the destructor.
  void stop();

  // Waits up to `maxWait` for D-Bus traffic or wake(), processes everything
  // pending, then runs timers (retries, watchdog, stale-device removal). Never
  // waits for BlueZ: method calls are sent, their replies handled in a later poll().
  // Callbacks run inside this call. Returns an error if the bus connection is lost, or
  // timed_out once the scanner is stalled (see ScannerOptions::escalate).
  Outcome<void> poll(std::chrono::milliseconds maxWait);
  // Makes a blocked poll() return early. Thread- and async-signal-safe.
  void wake() noexcept;

  [[nodiscard]] ScannerState state() const noexcept;
  // Name of the adapter in use ("" when none).
  [[nodiscard]] std::string adapter() const;
  // Thread-safe snapshot.
  [[nodiscard]] ScannerCounters counters() const noexcept;
  // Devices currently tracked (bounded by maxTrackedDevices).
  [[nodiscard]] std::size_t trackedDevices() const noexcept;

  struct Impl;

private:
  explicit BluezScanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::ble_scan
