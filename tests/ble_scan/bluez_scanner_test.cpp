// BluezScanner against a private dbus-daemon running python-dbusmock's bluez5
// template, driven by tools/bluez-sim. Every wait is a poll with a deadline.
#include "bluez_sim_process.hpp"

#include <attendance/ble_scan/bluez_scanner.hpp>
#include <attendance/support/clock.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <signal.h>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using attendance::ble_scan::BluezScanner;
using attendance::ble_scan::Format;
using attendance::ble_scan::ScannerOptions;
using attendance::ble_scan::ScannerState;
using attendance::ble_scan::Sighting;
using attendance::ble_scan::StateChange;
using attendance::support::Uuid;
using attendance::test::BluezSimProcess;
namespace json = boost::json;

constexpr auto kDeadline = 15s;

struct Seen {
  std::string bleUuid;
  Format format;
  std::optional<std::int16_t> rssi;
  std::string address;
  std::string adapter;
};

class BluezScannerTest : public ::testing::Test {
protected:
  void SetUp() override { sim_ = BluezSimProcess::start(); }

  void TearDown() override {
    scanner_.reset();  // before the bus goes away
    sim_.reset();
  }

  void startScanner(ScannerOptions options = {}, const attendance::support::TimeSource* time = nullptr) {
    auto created = BluezScanner::createWithAddress(
        sim_->address(), std::move(options), time != nullptr ? *time : realTime_,
        [this](const Sighting& s) {
          seen_.push_back(Seen{s.bleUuid.toString(), s.format, s.rssi, std::string{s.address}, std::string{s.adapter}});
        },
        [this](const StateChange& c) {
          states_.push_back({c.state, std::string{c.adapter}, std::string{c.reason}});
        });
    ASSERT_TRUE(created) << created.error().message;
    scanner_ = std::move(*created);
    ASSERT_TRUE(scanner_->start());
  }

  // Polls the scanner until `done` or the deadline; returns done().
  bool pollUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline = kDeadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) {
        return false;
      }
      auto r = scanner_->poll(20ms);
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
    }
    return true;
  }

  // Keeps polling for `d` (to show that something does NOT happen).
  void pollFor(std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      ASSERT_TRUE(scanner_->poll(20ms));
    }
  }

  bool discovering(const std::string& adapter = "hci0") {
    return sim_->command({{"cmd", "discovering"}, {"name", adapter}}).as_bool();
  }

  bool waitDiscovering(const std::string& adapter = "hci0") {
    return pollUntil([&] {
      return scanner_->state() == ScannerState::discovering && scanner_->adapter() == adapter && discovering(adapter);
    });
  }

  std::int64_t calls(const std::string& path, const std::string& method) {
    return sim_->command({{"cmd", "calls"}, {"path", path}, {"method", method}}).as_int64();
  }

  std::vector<std::string> devicePaths() {
    std::vector<std::string> out;
    const auto paths = sim_->command({{"cmd", "device_paths"}});
    for (const auto& v : paths.as_array()) {
      out.emplace_back(v.as_string());
    }
    return out;
  }

  void advertise(const std::string& address, const std::string& format, const std::string& id, int rssi = -60,
                 const std::string& via = "properties", const std::string& adapter = "hci0") {
    sim_->command({{"cmd", "advertise"},
                   {"adapter", adapter},
                   {"address", address},
                   {"format", format},
                   {"ble_uuid", id},
                   {"rssi", rssi},
                   {"via", via}});
  }

  // Noise devices (no participant frame) of `kind` at <prefix>:<first>, ..., <prefix>:<first + n - 1>
  // (the last byte in hex).
  void addNoiseDevices(const std::string& prefix, int n, const std::string& kind, int first = 0) {
    for (int k = first; k < first + n; ++k) {
      char last[16];
      std::snprintf(last, sizeof last, "%02X", static_cast<unsigned>(k));
      sim_->command({{"cmd", "noise"}, {"address", prefix + ":" + last}, {"kind", kind}});
    }
  }

  // The process id of the mock bluetoothd (to freeze it with SIGSTOP).
  pid_t mockPid() {
    const auto pids = sim_->command({{"cmd", "pids"}}).as_array();
    EXPECT_EQ(pids.size(), 2U);  // dbus-daemon, the mock
    return static_cast<pid_t>(pids.back().as_int64());
  }

  bool sawId(const std::string& id) const {
    return std::any_of(seen_.begin(), seen_.end(), [&](const Seen& s) { return s.bleUuid == id; });
  }

  std::unique_ptr<BluezSimProcess> sim_;
  attendance::support::RealTimeSource realTime_;
  std::unique_ptr<BluezScanner> scanner_;
  std::vector<Seen> seen_;
  struct State {
    ScannerState state;
    std::string adapter;
    std::string reason;
  };
  std::vector<State> states_;

  bool sawState(ScannerState st, const std::string& reason) const {
    return std::any_of(states_.begin(), states_.end(),
                       [&](const State& s) { return s.state == st && s.reason == reason; });
  }
};

const std::string kA = "a1b2c3d4-e5f6-4a5b-8c7d-9e0f11223344";
const std::string kB = "0badc0de-0000-4000-8000-00000000000b";
const std::string kC = "c0ffee00-1234-4abc-8def-0123456789ab";
const std::string kD = "d00dfeed-5555-4666-8777-888899990000";

// The operator reads why the scanner could not start: the bus address and the
// D-Bus library's own error name and text, not just "connection aborted".
TEST(BluezScannerStart, NoBusIsAnErrorThatKeepsTheDBusErrorName) {
  attendance::support::SimulatedTimeSource clock;
  auto created = BluezScanner::createWithAddress("unix:path=/nonexistent/attendance-test-bus", ScannerOptions{}, clock,
                                                 [](const Sighting&) {});
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, boost::system::errc::connection_aborted);
  const std::string& message = created.error().message;
  EXPECT_NE(message.find("cannot connect to the D-Bus at unix:path=/nonexistent/attendance-test-bus"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("org."), std::string::npos) << "the D-Bus error name is kept: " << message;
}

TEST_F(BluezScannerTest, SetsTheLeFilterThenStartsDiscoveryOnTheFirstPoweredAdapter) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  const auto filter = sim_->command({{"cmd", "filter"}, {"name", "hci0"}}).as_object();
  EXPECT_EQ(filter.at("Transport").as_string(), "le");
  EXPECT_EQ(filter.at("DuplicateData").as_bool(), true);
  EXPECT_EQ(filter.at("RSSI").as_int64(), -90);
  EXPECT_EQ(calls("/org/bluez/hci0", "SetDiscoveryFilter"), 1);
  EXPECT_EQ(calls("/org/bluez/hci0", "StartDiscovery"), 1);
  EXPECT_EQ(scanner_->counters().discoveryStarts, 1U);
  EXPECT_EQ(scanner_->counters().discoveryRestarts, 0U);
  ASSERT_FALSE(states_.empty());
  EXPECT_EQ(states_.back().state, ScannerState::discovering);
  EXPECT_EQ(states_.back().adapter, "hci0");

  scanner_->stop();
  EXPECT_EQ(calls("/org/bluez/hci0", "StopDiscovery"), 2);  // one defensive before start, one at stop
  EXPECT_FALSE(discovering());
  EXPECT_EQ(scanner_->state(), ScannerState::stopped);
}

TEST_F(BluezScannerTest, EachPayloadFormatYieldsItsBleUuid) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  advertise("40:00:00:00:00:01", "ibeacon", kA, -61);
  advertise("40:00:00:00:00:02", "eddystone", kB, -62);
  advertise("40:00:00:00:00:03", "service-uuid", kC, -63);
  advertise("40:00:00:00:00:04", "service-data", kD, -64);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() >= 4; })) << seen_.size();
  pollFor(200ms);
  ASSERT_EQ(seen_.size(), 4U);
  std::map<std::string, Seen> byId;
  for (const auto& s : seen_) {
    byId.emplace(s.bleUuid, s);
  }
  EXPECT_EQ(byId.at(kA).format, Format::ibeacon);
  EXPECT_EQ(byId.at(kA).address, "40:00:00:00:00:01");
  EXPECT_EQ(byId.at(kA).rssi, std::optional<std::int16_t>{-61});
  EXPECT_EQ(byId.at(kA).adapter, "hci0");
  EXPECT_EQ(byId.at(kB).format, Format::eddystone_uid);
  EXPECT_EQ(byId.at(kC).format, Format::service_uuid);
  EXPECT_EQ(byId.at(kD).format, Format::service_data);
  EXPECT_EQ(byId.at(kD).rssi, std::optional<std::int16_t>{-64});
}

TEST_F(BluezScannerTest, DataInInterfacesAddedIsASighting) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  advertise("40:00:00:00:00:11", "ibeacon", kA, -55, "added");
  advertise("40:00:00:00:00:12", "service-data", kB, -56, "added");
  ASSERT_TRUE(pollUntil([&] { return seen_.size() >= 2; }));
  EXPECT_TRUE(sawId(kA));
  EXPECT_TRUE(sawId(kB));
  EXPECT_EQ(seen_[0].rssi, std::optional<std::int16_t>{-55});
}

TEST_F(BluezScannerTest, NoiseDevicesAreIgnored) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  int i = 0;
  for (const char* kind : {"sig-uuids", "apple-overflow", "altbeacon", "apple-other", "eddystone-tlm", "empty"}) {
    sim_->command({{"cmd", "noise"}, {"address", "50:00:00:00:00:0" + std::to_string(i++)}, {"kind", kind}});
  }
  // A participant after the noise: once it is seen, all the noise has been processed.
  advertise("40:00:00:00:00:21", "ibeacon", kA);
  ASSERT_TRUE(pollUntil([&] { return !seen_.empty(); }));
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].bleUuid, kA);
  EXPECT_GE(scanner_->counters().ignoredNoise, 6U);
}

TEST_F(BluezScannerTest, WrongVariantTypesAreSkippedNotFatal) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  // The mock's own AddDevice: ManufacturerData aa{qv}, ServiceData aa{sv}.
  sim_->command({{"cmd", "plain_device"}, {"address", "60:00:00:00:00:01"}});
  int i = 2;
  for (const char* c : {"manufacturer-data-string", "manufacturer-data-inner-string", "manufacturer-data-wrong-key",
                        "service-data-bad-key", "service-data-int", "uuids-int-array", "rssi-string"}) {
    sim_->command({{"cmd", "raw"}, {"address", "60:00:00:00:00:0" + std::to_string(i++)}, {"case", c}});
  }
  advertise("40:00:00:00:00:31", "eddystone", kB);
  ASSERT_TRUE(pollUntil([&] { return !seen_.empty(); }));
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].bleUuid, kB);
  EXPECT_GE(scanner_->counters().malformedValues, 8U);
}

TEST_F(BluezScannerTest, OneParticipantThroughTwoRotatingAddresses) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  advertise("40:00:00:00:00:41", "ibeacon", kA);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
  advertise("7A:00:00:00:00:42", "ibeacon", kA, -60, "added");
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 2; }));
  EXPECT_EQ(seen_[0].bleUuid, kA);
  EXPECT_EQ(seen_[1].bleUuid, kA);
  EXPECT_NE(seen_[0].address, seen_[1].address);
}

TEST_F(BluezScannerTest, RepeatedAdvertisementsAreEachReported) {
  // Dedup is the caller's job (dedup_cache): the scanner reports every advertisement.
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  for (int k = 0; k < 3; ++k) {
    advertise("40:00:00:00:00:51", "service-uuid", kC);
    ASSERT_TRUE(pollUntil([&] { return seen_.size() == static_cast<std::size_t>(k + 1); })) << k;
  }
}

TEST_F(BluezScannerTest, RssiFloorIsRecheckedLocally) {
  ScannerOptions o;
  o.rssiMin = -80;
  startScanner(o);
  ASSERT_TRUE(waitDiscovering());
  advertise("40:00:00:00:00:61", "ibeacon", kA, -95);
  advertise("40:00:00:00:00:62", "ibeacon", kB, -70);
  ASSERT_TRUE(pollUntil([&] { return !seen_.empty(); }));
  pollFor(200ms);
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].bleUuid, kB);
  EXPECT_GE(scanner_->counters().belowRssiFloor, 1U);
}

TEST_F(BluezScannerTest, DisabledFormatsAreNotReported) {
  ScannerOptions o;
  o.parser.formats = *attendance::ble_scan::FormatSet::parse("eddystone");
  startScanner(o);
  ASSERT_TRUE(waitDiscovering());
  advertise("40:00:00:00:00:71", "ibeacon", kA);
  advertise("40:00:00:00:00:72", "eddystone", kB);
  ASSERT_TRUE(pollUntil([&] { return !seen_.empty(); }));
  pollFor(200ms);
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].bleUuid, kB);
}

// Issue 13 §1: no RemoveDevice after a sighting (it cannot defeat the controller's duplicate
// filter, DuplicateData=true already reports every advertisement); the next advertisement of a
// known device (PropertiesChanged) is a sighting all the same.
TEST_F(BluezScannerTest, SightedDevicesAreNotRemoved) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  for (int k = 0; k < 20; ++k) {
    Uuid u = *Uuid::parse(kA);
    u.bytes[15] = static_cast<std::uint8_t>(k);
    char addr[32];
    std::snprintf(addr, sizeof addr, "41:00:00:00:00:%02X", k);
    advertise(addr, "ibeacon", u.toString(), -60, "added");
  }
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 20; })) << seen_.size();
  pollFor(300ms);
  EXPECT_EQ(calls("/org/bluez/hci0", "RemoveDevice"), 0);
  EXPECT_EQ(scanner_->counters().devicesRemoved, 0U);
  EXPECT_EQ(devicePaths().size(), 20U);
  EXPECT_EQ(scanner_->trackedDevices(), 20U);
  advertise("41:00:00:00:00:00", "ibeacon", kA, -55, "properties");
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 21; }));
  EXPECT_EQ(seen_.back().bleUuid, kA);
  EXPECT_EQ(seen_.back().rssi, std::optional<std::int16_t>{-55});
}

TEST_F(BluezScannerTest, StaleNoiseDevicesAreRemovedAfterTheirAge) {
  attendance::support::SimulatedTimeSource clock;
  ScannerOptions o;
  o.staleDeviceAge = 30s;
  startScanner(o, &clock);
  ASSERT_TRUE(waitDiscovering());
  sim_->command({{"cmd", "noise"}, {"address", "50:00:00:00:01:01"}, {"kind", "apple-overflow"}});
  sim_->command({{"cmd", "noise"}, {"address", "50:00:00:00:01:02"}, {"kind", "sig-uuids"}});
  // A paired device (the Pi's keyboard, say) must never be removed: that would unpair it.
  sim_->command({{"cmd", "noise"}, {"address", "50:00:00:00:01:03"}, {"kind", "empty"}});
  sim_->command({{"cmd", "set_device_flag"}, {"address", "50:00:00:00:01:03"}, {"name", "Paired"}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->trackedDevices() == 3; }));
  clock.advance(29s);
  pollFor(300ms);
  EXPECT_EQ(devicePaths().size(), 3U);
  clock.advance(2s);
  ASSERT_TRUE(pollUntil([&] { return devicePaths().size() == 1; }));
  pollFor(200ms);
  EXPECT_EQ(devicePaths(), std::vector<std::string>{"/org/bluez/hci0/dev_50_00_00_00_01_03"});
  EXPECT_EQ(scanner_->counters().devicesRemoved, 2U);
  EXPECT_TRUE(seen_.empty());
}

// Issue 13 §1: bluetoothd hangs (SIGSTOP) while 12 stale devices are due for removal. Each
// synchronous RemoveDevice would hold poll() until the call timeout (12 x timeout in all);
// no poll() may take much longer than its budget, and the removals finish once it answers.
TEST_F(BluezScannerTest, AFrozenBluetoothdNeverBlocksPoll) {
  attendance::support::SimulatedTimeSource clock;
  ScannerOptions o;
  o.staleDeviceAge = 30s;
  o.callTimeout = 1s;
  startScanner(o, &clock);
  ASSERT_TRUE(waitDiscovering());
  addNoiseDevices("53:00:00:00:00", 12, "sig-uuids");
  ASSERT_TRUE(pollUntil([&] { return scanner_->trackedDevices() == 12; }));
  const pid_t mock = mockPid();
  ASSERT_EQ(::kill(mock, SIGSTOP), 0);
  clock.advance(31s);  // all 12 are stale now
  auto longest = std::chrono::steady_clock::duration::zero();
  int polls = 0;
  const auto end = std::chrono::steady_clock::now() + 3s;  // three call timeouts
  while (std::chrono::steady_clock::now() < end) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(scanner_->poll(100ms));
    longest = std::max(longest, std::chrono::steady_clock::now() - t0);
    ++polls;
  }
  ASSERT_EQ(::kill(mock, SIGCONT), 0);
  EXPECT_LT(polls, 200) << "poll() must still sleep while calls are awaiting answers (no busy loop)";
  EXPECT_LT(longest, 500ms) << "poll() blocked on a frozen bluetoothd for "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(longest).count() << " ms";
  EXPECT_GT(scanner_->counters().dbusErrors, 0U) << "the calls timed out meanwhile";
  // Once it answers, every stale device is gone (what was sent reached it; the rest is sent now).
  ASSERT_TRUE(pollUntil([&] { return devicePaths().empty(); })) << devicePaths().size() << " devices left";
  EXPECT_EQ(scanner_->trackedDevices(), 0U);
}

TEST_F(BluezScannerTest, TrackedDevicesAreCappedByEvictingTheOldest) {
  attendance::support::SimulatedTimeSource clock;
  ScannerOptions o;
  o.maxTrackedDevices = 5;
  startScanner(o, &clock);
  ASSERT_TRUE(waitDiscovering());
  for (int k = 0; k < 12; ++k) {
    char addr[32];
    std::snprintf(addr, sizeof addr, "52:00:00:00:00:%02X", k);
    sim_->command({{"cmd", "noise"}, {"address", addr}, {"kind", "altbeacon"}});
    clock.advance(1ms);
    ASSERT_TRUE(scanner_->poll(0ms));
  }
  ASSERT_TRUE(pollUntil([&] { return devicePaths().size() <= 5; })) << devicePaths().size();
  EXPECT_LE(scanner_->trackedDevices(), 5U);
  // The newest survive.
  const auto left = devicePaths();
  EXPECT_NE(std::find(left.begin(), left.end(), "/org/bluez/hci0/dev_52_00_00_00_00_0B"), left.end());
}

// Issue 13 §2 (memory): removals wait behind a few calls in flight, so with a slow or hung
// bluetoothd the devices due for removal used to stay in the table with all their cached
// properties (10 000 new devices: ~9 500 tracked against a cap of 4 096, 2 MiB). The cap holds
// whatever BlueZ does: a device is forgotten when its removal is queued.
TEST_F(BluezScannerTest, TheCapHoldsWhileRemovalsWaitForAFrozenBluetoothd) {
  attendance::support::SimulatedTimeSource clock;
  ScannerOptions o;
  o.maxTrackedDevices = 5;
  o.callTimeout = 1s;
  startScanner(o, &clock);
  ASSERT_TRUE(waitDiscovering());
  addNoiseDevices("54:00:00:00:00", 5, "altbeacon");
  ASSERT_TRUE(pollUntil([&] { return scanner_->trackedDevices() == 5; }));
  const pid_t mock = mockPid();
  // Seven more arrive, then bluetoothd freezes before it answers any RemoveDevice.
  addNoiseDevices("54:00:00:00:00", 7, "altbeacon", 5);
  ASSERT_EQ(::kill(mock, SIGSTOP), 0);
  clock.advance(2s);
  pollFor(500ms);
  const auto tracked = scanner_->trackedDevices();
  ASSERT_EQ(::kill(mock, SIGCONT), 0);
  EXPECT_LE(tracked, 5U) << "devices waiting for their RemoveDevice still tracked";
  ASSERT_TRUE(pollUntil([&] { return devicePaths().size() <= 5; })) << devicePaths().size();
  EXPECT_LE(scanner_->trackedDevices(), 5U);
}

TEST_F(BluezScannerTest, WatchdogRestartsSilentDiscovery) {
  attendance::support::SimulatedTimeSource clock;
  ScannerOptions o;
  o.watchdog = 90s;
  startScanner(o, &clock);
  ASSERT_TRUE(waitDiscovering());
  // Advertisements keep it alive.
  clock.advance(60s);
  advertise("40:00:00:00:00:81", "ibeacon", kA);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
  clock.advance(60s);
  pollFor(200ms);
  EXPECT_EQ(scanner_->counters().watchdogRestarts, 0U);
  EXPECT_EQ(calls("/org/bluez/hci0", "StartDiscovery"), 1);
  // Silence beyond the watchdog period: stop + start.
  clock.advance(31s);
  ASSERT_TRUE(pollUntil([&] { return calls("/org/bluez/hci0", "StartDiscovery") == 2; }));
  ASSERT_TRUE(waitDiscovering());
  EXPECT_EQ(scanner_->counters().watchdogRestarts, 1U);
  EXPECT_EQ(scanner_->counters().discoveryRestarts, 1U);
  EXPECT_TRUE(sawState(ScannerState::discovering, "watchdog"));
}

// Issue 13 §1: advertisements stop. One silent watchdog period: restart discovery; an
// advertisement resets the ladder; two in a row: power-cycle the adapter; three: stalled, and
// poll() fails so the app exits for systemd to restart it.
TEST_F(BluezScannerTest, EscalatesWhenAdvertisementsStop) {
  attendance::support::SimulatedTimeSource clock;
  ScannerOptions o;
  o.watchdog = 10s;
  startScanner(o, &clock);
  ASSERT_TRUE(waitDiscovering());
  clock.advance(11s);
  ASSERT_TRUE(pollUntil([&] { return calls("/org/bluez/hci0", "StartDiscovery") == 2; }));
  ASSERT_TRUE(waitDiscovering());
  EXPECT_TRUE(sawState(ScannerState::discovering, "watchdog"));
  // An advertisement resets the ladder: the next silence is a restart again, not a power cycle.
  advertise("40:00:00:00:00:a1", "ibeacon", kA);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
  clock.advance(11s);
  ASSERT_TRUE(pollUntil([&] { return calls("/org/bluez/hci0", "StartDiscovery") == 3; }));
  ASSERT_TRUE(waitDiscovering());
  EXPECT_EQ(scanner_->counters().adapterPowerCycles, 0U);
  // Silent again: the adapter is powered off and on, then discovery starts again.
  clock.advance(11s);
  ASSERT_TRUE(pollUntil([&] { return sawState(ScannerState::discovering, "adapter-power-cycled"); }));
  // (Powered=false and =true may arrive in one batch: waiting-for-power need not show.)
  EXPECT_EQ(scanner_->counters().adapterPowerCycles, 1U);
  EXPECT_EQ(scanner_->counters().dbusErrors, 0U) << "both Powered sets were answered";
  EXPECT_EQ(calls("/org/bluez/hci0", "StartDiscovery"), 4);
  // Still silent: give up.
  clock.advance(11s);
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  bool failed = false;
  while (!failed && std::chrono::steady_clock::now() < end) {
    failed = !scanner_->poll(20ms);
  }
  ASSERT_TRUE(failed) << "poll() must fail once the scanner is stalled";
  EXPECT_EQ(scanner_->state(), ScannerState::stalled);
  EXPECT_EQ(calls("/org/bluez/hci0", "StartDiscovery"), 4);
}

TEST_F(BluezScannerTest, PowersTheAdapterOnAtStartIfItIsOff) {
  sim_->command({{"cmd", "set_powered"}, {"name", "hci0"}, {"powered", false}});
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  EXPECT_TRUE(sawState(ScannerState::discovering, "powered-on-at-start"));
  // Only at start: powered off later, it is waited for (someone meant it).
  sim_->command({{"cmd", "set_powered"}, {"name", "hci0"}, {"powered", false}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->state() == ScannerState::waiting_for_power; }));
  pollFor(300ms);
  EXPECT_EQ(scanner_->state(), ScannerState::waiting_for_power);
}

TEST_F(BluezScannerTest, DiscoveringDroppedIsRestarted) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  sim_->command({{"cmd", "drop_discovering"}, {"name", "hci0"}});
  ASSERT_TRUE(pollUntil([&] { return calls("/org/bluez/hci0", "StartDiscovery") == 2; }));
  ASSERT_TRUE(waitDiscovering());
  EXPECT_EQ(scanner_->counters().discoveryRestarts, 1U);
  EXPECT_TRUE(sawState(ScannerState::discovering, "discovering-dropped"));
  advertise("40:00:00:00:00:91", "ibeacon", kA);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
}

TEST_F(BluezScannerTest, RecoversFromABluetoothdRestart) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  sim_->command({{"cmd", "restart_bluez"}});  // new mock process: NameOwnerChanged, no session
  ASSERT_TRUE(pollUntil([&] { return scanner_->counters().discoveryRestarts == 1; }));
  ASSERT_TRUE(waitDiscovering());
  EXPECT_EQ(calls("/org/bluez/hci0", "StartDiscovery"), 1);  // on the new mock
  EXPECT_EQ(calls("/org/bluez/hci0", "SetDiscoveryFilter"), 1);
  EXPECT_TRUE(sawState(ScannerState::discovering, "bluez-restarted"));
  advertise("40:00:00:00:00:a1", "service-data", kD);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
  EXPECT_EQ(seen_[0].bleUuid, kD);
}

TEST_F(BluezScannerTest, RecoversFromAnAdapterPowerCycle) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  sim_->command({{"cmd", "set_powered"}, {"name", "hci0"}, {"powered", false}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->state() == ScannerState::waiting_for_power; }));
  pollFor(200ms);
  EXPECT_EQ(calls("/org/bluez/hci0", "StartDiscovery"), 1) << "no StartDiscovery while powered off";
  sim_->command({{"cmd", "set_powered"}, {"name", "hci0"}, {"powered", true}});
  ASSERT_TRUE(waitDiscovering());
  EXPECT_EQ(calls("/org/bluez/hci0", "StartDiscovery"), 2);
  EXPECT_EQ(scanner_->counters().discoveryRestarts, 1U);
  EXPECT_TRUE(sawState(ScannerState::discovering, "adapter-powered-on"));
  advertise("40:00:00:00:00:b1", "ibeacon", kA);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
}

TEST_F(BluezScannerTest, FollowsAnAdapterReAddedUnderANewName) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  sim_->command({{"cmd", "remove_adapter"}, {"name", "hci0"}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->state() == ScannerState::waiting_for_adapter; }));
  EXPECT_EQ(scanner_->adapter(), "");
  sim_->command({{"cmd", "add_adapter"}, {"name", "hci1"}});
  ASSERT_TRUE(waitDiscovering("hci1"));
  EXPECT_EQ(calls("/org/bluez/hci1", "StartDiscovery"), 1);
  advertise("40:00:00:00:00:c1", "eddystone", kB, -60, "properties", "hci1");
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
  EXPECT_EQ(seen_[0].adapter, "hci1");
}

TEST_F(BluezScannerTest, UsesTheConfiguredAdapterOnly) {
  sim_->command({{"cmd", "add_adapter"}, {"name", "hci1"}});
  ScannerOptions o;
  o.adapterName = "hci1";
  startScanner(o);
  ASSERT_TRUE(waitDiscovering("hci1"));
  EXPECT_FALSE(discovering("hci0"));
  advertise("40:00:00:00:00:d1", "ibeacon", kA, -60, "properties", "hci0");  // other adapter: not ours
  advertise("40:00:00:00:00:d2", "ibeacon", kB, -60, "properties", "hci1");
  ASSERT_TRUE(pollUntil([&] { return !seen_.empty(); }));
  pollFor(200ms);
  ASSERT_EQ(seen_.size(), 1U);
  EXPECT_EQ(seen_[0].bleUuid, kB);
}

TEST_F(BluezScannerTest, WaitsForAConfiguredAdapterThatIsMissing) {
  ScannerOptions o;
  o.adapterName = "hci3";
  startScanner(o);
  pollFor(200ms);
  EXPECT_EQ(scanner_->state(), ScannerState::waiting_for_adapter);
  EXPECT_FALSE(discovering("hci0"));
  sim_->command({{"cmd", "add_adapter"}, {"name", "hci3"}});
  ASSERT_TRUE(waitDiscovering("hci3"));
}

TEST_F(BluezScannerTest, PicksThePoweredAdapterWhenNoneIsConfigured) {
  sim_->command({{"cmd", "set_powered"}, {"name", "hci0"}, {"powered", false}});
  sim_->command({{"cmd", "add_adapter"}, {"name", "hci1"}});
  startScanner();
  ASSERT_TRUE(waitDiscovering("hci1"));
  EXPECT_FALSE(discovering("hci0"));
}

TEST_F(BluezScannerTest, DevicesSeenBeforeStartWithAnRssiAreReported) {
  sim_->command({{"cmd", "advertise"},
                 {"address", "40:00:00:00:00:e1"},
                 {"format", "ibeacon"},
                 {"ble_uuid", kC},
                 {"via", "added"}});
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
  EXPECT_EQ(seen_[0].bleUuid, kC);
}

TEST_F(BluezScannerTest, WaitsForBluezToAppear) {
  sim_->command({{"cmd", "stop_bluez"}});
  startScanner();
  pollFor(200ms);
  EXPECT_EQ(scanner_->state(), ScannerState::waiting_for_bluez);
  sim_->command({{"cmd", "start_bluez"}});
  ASSERT_TRUE(waitDiscovering());
  advertise("40:00:00:00:00:f1", "ibeacon", kA);
  ASSERT_TRUE(pollUntil([&] { return seen_.size() == 1; }));
}

TEST_F(BluezScannerTest, BluezGoingAwayIsReportedAndSurvived) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  sim_->command({{"cmd", "stop_bluez"}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->state() == ScannerState::waiting_for_bluez; }));
  EXPECT_EQ(scanner_->trackedDevices(), 0U);
  pollFor(300ms);  // nothing to do, nothing crashes
  sim_->command({{"cmd", "start_bluez"}});
  ASSERT_TRUE(waitDiscovering());
  EXPECT_EQ(scanner_->counters().discoveryRestarts, 1U);
}

// CPU near zero when nothing happens: poll() sleeps for its whole budget in each waiting state.
TEST_F(BluezScannerTest, PollBlocksWhenIdle) {
  auto elapsedPoll = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(scanner_->poll(300ms));
    return std::chrono::steady_clock::now() - t0;
  };
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  pollFor(100ms);
  EXPECT_GE(elapsedPoll(), 250ms) << "discovering, no devices";
  sim_->command({{"cmd", "set_powered"}, {"name", "hci0"}, {"powered", false}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->state() == ScannerState::waiting_for_power; }));
  EXPECT_GE(elapsedPoll(), 250ms) << "waiting for power";
  sim_->command({{"cmd", "remove_adapter"}, {"name", "hci0"}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->state() == ScannerState::waiting_for_adapter; }));
  EXPECT_GE(elapsedPoll(), 250ms) << "waiting for an adapter";
  sim_->command({{"cmd", "stop_bluez"}});
  ASSERT_TRUE(pollUntil([&] { return scanner_->state() == ScannerState::waiting_for_bluez; }));
  EXPECT_GE(elapsedPoll(), 250ms) << "waiting for bluez";
}

TEST_F(BluezScannerTest, LosingTheBusIsAnError) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  sim_.reset();  // the dbus-daemon goes away
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  bool failed = false;
  while (!failed && std::chrono::steady_clock::now() < end) {
    failed = !scanner_->poll(50ms);
  }
  EXPECT_TRUE(failed) << "poll() must report a lost bus so the app can exit non-zero";
}

TEST_F(BluezScannerTest, WakeInterruptsAPoll) {
  startScanner();
  ASSERT_TRUE(waitDiscovering());
  scanner_->wake();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(scanner_->poll(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

}  // namespace
