// The discovery policy and the device table of BluezScanner without a bus: events in,
// actions out, time from a SimulatedTimeSource (libs/ble_scan/src/discovery_policy.*,
// device_table.*). The same behaviour against the BlueZ mock: bluez_scanner_test.cpp.
#include "device_table.hpp"
#include "discovery_policy.hpp"

#include <attendance/support/clock.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using attendance::ble_scan::ScannerOptions;
using attendance::ble_scan::ScannerState;
using attendance::ble_scan::detail::AtomicCounters;
using attendance::ble_scan::detail::DeviceKey;
using attendance::ble_scan::detail::DeviceTable;
using attendance::ble_scan::detail::DiscoveryPolicy;
using attendance::ble_scan::detail::PolicyAction;
using Kind = PolicyAction::Kind;

constexpr const char* kOwner = ":1.7";
constexpr const char* kHci0 = "/org/bluez/hci0";

std::vector<Kind> kinds(const DiscoveryPolicy::Actions& actions, bool withStates = false) {
  std::vector<Kind> out;
  for (const auto& a : actions) {
    if (withStates || a.kind != Kind::state_changed) {
      out.push_back(a.kind);
    }
  }
  return out;
}

const PolicyAction* find(const DiscoveryPolicy::Actions& actions, Kind kind) {
  auto it = std::find_if(actions.begin(), actions.end(), [&](const PolicyAction& a) { return a.kind == kind; });
  return it == actions.end() ? nullptr : &*it;
}

class DiscoveryPolicyTest : public ::testing::Test {
protected:
  DiscoveryPolicyTest() { options_.watchdog = 90s; }

  // GetManagedObjects answered with one adapter.
  void answerObjects(bool powered) {
    ASSERT_TRUE(policy_.resyncReplyApplies(kOwner));
    policy_.beginSnapshot();
    policy_.adapterAdded(kHci0);
    policy_.adapterPowered(kHci0, powered);
    policy_.endSnapshot();
  }

  // The start chain answered, then BlueZ confirms Discovering=true.
  void answerStart(const PolicyAction& start, bool confirm = true) {
    ASSERT_TRUE(policy_.startWanted(start.epoch));
    policy_.startDiscoverySent(start.epoch);
    policy_.startResult(start.epoch, true);
    if (confirm) {
      policy_.adapterDiscovering(kHci0, true);
    }
  }

  // start() to discovering on hci0, the cached devices reported.
  void discover() {
    policy_.start(kOwner);
    ASSERT_EQ(kinds(policy_.tick()), std::vector<Kind>{Kind::read_objects});
    answerObjects(/*powered=*/true);
    const auto actions = policy_.tick();
    const auto* start = find(actions, Kind::start_discovery);
    ASSERT_NE(start, nullptr);
    EXPECT_EQ(start->adapter, kHci0);
    answerStart(*start);
    EXPECT_EQ(kinds(policy_.tick()), std::vector<Kind>{Kind::report_cached});
    EXPECT_EQ(policy_.state(), ScannerState::discovering);
    EXPECT_TRUE(policy_.tick().empty());
  }

  ScannerOptions options_;
  attendance::support::SimulatedTimeSource time_;
  AtomicCounters counters_;
  DiscoveryPolicy policy_{options_, time_, counters_};
};

TEST_F(DiscoveryPolicyTest, WaitsForBluezThenReadsObjectsOnceAndStartsDiscovery) {
  policy_.start("");
  auto actions = policy_.tick();
  ASSERT_EQ(kinds(actions, true), std::vector<Kind>{Kind::state_changed});
  EXPECT_EQ(actions[0].state, ScannerState::waiting_for_bluez);
  EXPECT_FALSE(policy_.nextTimer());  // nothing to do until bluetoothd appears

  policy_.bluezOwnerChanged(kOwner);
  EXPECT_EQ(kinds(policy_.tick()), std::vector<Kind>{Kind::read_objects});
  EXPECT_TRUE(policy_.tick().empty()) << "one GetManagedObjects at a time";
  answerObjects(true);
  actions = policy_.tick();
  const auto* start = find(actions, Kind::start_discovery);
  ASSERT_NE(start, nullptr);
  answerStart(*start);
  EXPECT_EQ(kinds(policy_.tick()), std::vector<Kind>{Kind::report_cached});
  EXPECT_EQ(policy_.state(), ScannerState::discovering);
  EXPECT_EQ(counters_.discoveryStarts.load(), 1U);
}

TEST_F(DiscoveryPolicyTest, EscalatesRestartThenPowerCycleThenGivesUp) {
  discover();
  ASSERT_EQ(policy_.nextTimer(), time_.monotonicTime() + 90s);

  time_.advance(89s);
  EXPECT_TRUE(policy_.tick().empty());
  time_.advance(1s);
  auto actions = policy_.tick();
  const auto* restart = find(actions, Kind::start_discovery);
  ASSERT_NE(restart, nullptr) << "step 1: restart discovery";
  EXPECT_EQ(counters_.watchdogRestarts.load(), 1U);
  answerStart(*restart);
  (void)policy_.tick();

  time_.advance(90s);
  actions = policy_.tick();
  const auto* cycle = find(actions, Kind::power_cycle);
  ASSERT_NE(cycle, nullptr) << "step 2: power-cycle the adapter";
  EXPECT_EQ(find(actions, Kind::start_discovery), nullptr);
  EXPECT_EQ(counters_.adapterPowerCycles.load(), 1U);
  EXPECT_TRUE(policy_.tick().empty()) << "nothing until the power cycle answered";
  policy_.adapterPowered(kHci0, false);
  policy_.adapterPowered(kHci0, true);
  policy_.powerCycleDone(cycle->epoch, true);
  actions = policy_.tick();
  restart = find(actions, Kind::start_discovery);
  ASSERT_NE(restart, nullptr);
  EXPECT_EQ(find(actions, Kind::state_changed)->reason, "adapter-power-cycled");
  answerStart(*restart);
  (void)policy_.tick();

  time_.advance(90s);
  actions = policy_.tick();
  EXPECT_NE(find(actions, Kind::give_up), nullptr) << "step 3: exit for systemd";
  EXPECT_EQ(policy_.state(), ScannerState::stalled);
  time_.advance(90s);
  // The app has exited by now (poll() failed); were it still ticking, nothing more is tried.
  EXPECT_TRUE(kinds(policy_.tick()).empty()) << "gives up once";
}

TEST_F(DiscoveryPolicyTest, AnyAdvertisementResetsTheLadder) {
  discover();
  for (int i = 0; i < 4; ++i) {
    time_.advance(60s);
    policy_.advertisementSeen();
    time_.advance(90s);
    const auto actions = policy_.tick();
    const auto* restart = find(actions, Kind::start_discovery);
    ASSERT_NE(restart, nullptr) << "round " << i << ": only ever step 1";
    EXPECT_EQ(find(actions, Kind::power_cycle), nullptr);
    answerStart(*restart);
    (void)policy_.tick();
    policy_.advertisementSeen();
  }
  EXPECT_EQ(counters_.adapterPowerCycles.load(), 0U);
  EXPECT_EQ(counters_.watchdogRestarts.load(), 4U);
}

TEST_F(DiscoveryPolicyTest, WithoutEscalationTheWatchdogOnlyRestarts) {
  options_.escalate = false;
  discover();
  for (int i = 0; i < 5; ++i) {
    time_.advance(90s);
    const auto actions = policy_.tick();
    const auto* restart = find(actions, Kind::start_discovery);
    ASSERT_NE(restart, nullptr);
    answerStart(*restart);
    (void)policy_.tick();
  }
  EXPECT_NE(policy_.state(), ScannerState::stalled);
}

TEST_F(DiscoveryPolicyTest, PowersAnAdapterOnOnceWhenItIsOffAtStart) {
  policy_.start(kOwner);
  (void)policy_.tick();
  answerObjects(/*powered=*/false);
  auto actions = policy_.tick();
  ASSERT_NE(find(actions, Kind::power_on), nullptr);
  EXPECT_EQ(policy_.state(), ScannerState::waiting_for_power);
  EXPECT_EQ(find(policy_.tick(), Kind::power_on), nullptr) << "once";
  policy_.adapterPowered(kHci0, true);
  actions = policy_.tick();
  ASSERT_NE(find(actions, Kind::start_discovery), nullptr);
  EXPECT_EQ(find(actions, Kind::state_changed)->reason, "powered-on-at-start");
}

TEST_F(DiscoveryPolicyTest, AnAdapterPoweredOffAfterStartIsWaitedFor) {
  options_.powerOnAtStart = true;
  discover();
  policy_.adapterPowered(kHci0, false);
  const auto actions = policy_.tick();
  EXPECT_EQ(find(actions, Kind::power_on), nullptr) << "someone meant it";
  EXPECT_EQ(policy_.state(), ScannerState::waiting_for_power);
}

TEST_F(DiscoveryPolicyTest, ALateStartReplyForARemovedAdapterIsDropped) {
  policy_.start(kOwner);
  (void)policy_.tick();
  answerObjects(true);
  const auto actions = policy_.tick();
  const auto start = *find(actions, Kind::start_discovery);
  policy_.adapterRemoved(kHci0);
  EXPECT_FALSE(policy_.startWanted(start.epoch));
  policy_.startResult(start.epoch, true);
  EXPECT_EQ(counters_.discoveryStarts.load(), 0U);
  EXPECT_EQ(policy_.tick().back().state, ScannerState::waiting_for_adapter);
}

TEST_F(DiscoveryPolicyTest, AFailedStartIsRetriedAfterTheRetryInterval) {
  policy_.start(kOwner);
  (void)policy_.tick();
  answerObjects(true);
  const auto start = *find(policy_.tick(), Kind::start_discovery);
  policy_.startResult(start.epoch, false);
  EXPECT_EQ(find(policy_.tick(), Kind::start_discovery), nullptr);
  EXPECT_EQ(policy_.nextTimer(), time_.monotonicTime() + options_.retryInterval);
  time_.advance(options_.retryInterval);
  EXPECT_NE(find(policy_.tick(), Kind::start_discovery), nullptr);
}

TEST_F(DiscoveryPolicyTest, ADroppedDiscoveryIsRestarted) {
  discover();
  time_.advance(5s);  // past the grace in which a false is the echo of our own StopDiscovery
  (void)policy_.tick();
  policy_.adapterDiscovering(kHci0, false);
  const auto actions = policy_.tick();
  ASSERT_NE(find(actions, Kind::start_discovery), nullptr);
  EXPECT_EQ(find(actions, Kind::state_changed)->reason, "discovering-dropped");
}

TEST_F(DiscoveryPolicyTest, StopEndsOurSessionWithoutWaiting) {
  discover();
  const auto actions = policy_.stop();
  ASSERT_EQ(kinds(actions, true), (std::vector<Kind>{Kind::stop_discovery, Kind::state_changed}));
  EXPECT_EQ(actions[1].state, ScannerState::stopped);
  EXPECT_TRUE(policy_.tick().empty());
}

// ---- the device table ------------------------------------------------------------

constexpr auto kStale = 60s;

// "/org/bluez/hci0/dev_00_00_00_00_00_<i>" (i in hex).
std::string device(int i) {
  char last[16];
  std::snprintf(last, sizeof last, "%02X", static_cast<unsigned>(i));
  return std::string{kHci0} + "/dev_00_00_00_00_00_" + last;
}
DeviceKey key(int i) {
  const auto k = attendance::ble_scan::detail::parseDevicePath(device(i));
  EXPECT_TRUE(k) << device(i);
  return k.value_or(DeviceKey{});
}

// Issue 13 (memory): the table keys a device by 8 bytes, not its object path; the path,
// the adapter's path and name and the address come back from the key as BlueZ spells them.
TEST(DeviceKeyTest, ADevicePathRoundTripsThroughItsKey) {
  using namespace attendance::ble_scan::detail;
  const auto k = parseDevicePath("/org/bluez/hci12/dev_c0_FF_ee_01_23_4A");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->adapter(), 12U);
  EXPECT_EQ(k->address(), 0xC0FFEE01234AULL);
  EXPECT_EQ(devicePath(*k), "/org/bluez/hci12/dev_C0_FF_EE_01_23_4A");
  EXPECT_EQ(adapterPath(k->adapter()), "/org/bluez/hci12");
  EXPECT_EQ(adapterName(k->adapter()), "hci12");
  std::array<char, 17> text{};
  EXPECT_EQ(formatAddress(*k, text), "C0:FF:EE:01:23:4A");
  EXPECT_NE(parseDevicePath("/org/bluez/hci0/dev_C0_FF_EE_01_23_4A"), k) << "another adapter, another device";
  EXPECT_EQ(parseAdapterPath("/org/bluez/hci12"), std::optional<std::uint16_t>{12});
  for (const char* other : {"/org/bluez/hci0/dev_0", "/org/bluez/hci0/dev_C0_FF_EE_01_23_4", "/org/bluez/hci0",
                            "/org/bluez/hci0/dev_C0_FF_EE_01_23_4AB", "/org/bluez/hci0/dev_C0:FF:EE:01:23:4A",
                            "/org/bluez/hciX/dev_C0_FF_EE_01_23_4A", "/org/bluez/hci70000/dev_C0_FF_EE_01_23_4A",
                            "/org/bluez/hci0/dev_G0_FF_EE_01_23_4A", "/org/other/hci0/dev_C0_FF_EE_01_23_4A"}) {
    EXPECT_FALSE(parseDevicePath(other)) << other;
  }
  EXPECT_FALSE(parseAdapterPath("/org/bluez/hci0/dev_C0_FF_EE_01_23_4A"));
  EXPECT_FALSE(parseAdapterPath("/org/bluez/hci"));
}

TEST(DeviceTableTest, AtMostFourRemovalsAwaitAnAnswer) {
  attendance::support::SimulatedTimeSource time;
  DeviceTable table{kStale, 4096};
  for (int i = 0; i < 12; ++i) {
    table.add(key(i), time.monotonicTime());
  }
  time.advance(kStale);
  table.sweepStale(time.monotonicTime());
  int sent = 0;
  while (auto r = table.nextRemoval()) {
    EXPECT_EQ(r->adapterPath, kHci0);
    ++sent;
  }
  EXPECT_EQ(sent, 4) << "a hung bluetoothd collects at most 4 calls";
  EXPECT_TRUE(!table.removalsCanMove());
  table.removalAnswered();  // one answered (or timed out)
  EXPECT_TRUE(table.nextRemoval());
  EXPECT_FALSE(table.nextRemoval());
  for (int removed = sent + 1; removed < 12; ++removed) {
    table.removalAnswered();
    ASSERT_TRUE(table.nextRemoval()) << "one answer lets one more go";
  }
  EXPECT_FALSE(table.nextRemoval());
  EXPECT_TRUE(table.empty()) << "every stale device removed in the end";
}

TEST(DeviceTableTest, KeepsPairedDevicesAndEvictsTheLeastRecentlySeenBeyondTheCap) {
  attendance::support::SimulatedTimeSource time;
  DeviceTable table{kStale, 2};
  table.add(key(0), time.monotonicTime()).keep = true;  // the operator's keyboard
  time.advance(1s);
  table.add(key(1), time.monotonicTime());
  time.advance(1s);
  table.add(key(2), time.monotonicTime());
  time.advance(1s);
  table.add(key(3), time.monotonicTime());
  table.sweepStale(time.monotonicTime());
  std::vector<std::string> removed;
  while (auto r = table.nextRemoval()) {
    removed.push_back(r->device);
  }
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{device(1), device(2)})) << "the oldest that may go";
  time.advance(kStale);
  table.sweepStale(time.monotonicTime());
  for (int i = 0; i < 2; ++i) {
    table.removalAnswered();
  }
  removed.clear();
  while (auto r = table.nextRemoval()) {
    removed.push_back(r->device);
  }
  EXPECT_EQ(removed, std::vector<std::string>{device(3)}) << "never the paired one";
}

TEST(DeviceTableTest, OneReportPerDeviceAndBatchWithItsIdsOnce) {
  DeviceTable table{kStale, 16};
  auto& dev = table.add(key(0), {});
  const auto id = attendance::support::Uuid::parse("67931fbe-4269-4563-816a-bddeb3b42104");
  ASSERT_TRUE(id);
  using attendance::ble_scan::IgnoredReason;
  using attendance::ble_scan::detail::AdvertProperty;
  // Set out of order: the manufacturer data's id still comes first.
  dev.setCandidates(AdvertProperty::uuids, {{*id, attendance::ble_scan::Format::service_uuid, {}}},
                    IgnoredReason::none);
  dev.setCandidates(AdvertProperty::manufacturer_data, {{*id, attendance::ble_scan::Format::ibeacon, {}}},
                    IgnoredReason::none);
  table.markDirty(key(0), dev);
  table.markDirty(key(0), dev);
  int reports = 0;
  table.flushDirty([&](DeviceKey k, attendance::ble_scan::detail::DeviceInfo& d) {
    ++reports;
    EXPECT_EQ(k, key(0));
    std::vector<attendance::ble_scan::Candidate> ids;
    DeviceTable::collectCandidates(d, ids);
    ASSERT_EQ(ids.size(), 1U);
    EXPECT_EQ(ids[0].format, attendance::ble_scan::Format::ibeacon) << "first property wins";
  });
  EXPECT_EQ(reports, 1);
}

// One array holds the three properties' ids (issue 13, memory): a property's new data replaces
// its own ids and reason only, the others stay, and the order is still the properties'.
TEST(DeviceTableTest, APropertysNewDataReplacesOnlyItsOwnIds) {
  using attendance::ble_scan::Candidate;
  using attendance::ble_scan::Format;
  using attendance::ble_scan::IgnoredReason;
  using attendance::ble_scan::detail::AdvertProperty;
  const auto id = [](const char* text) { return attendance::support::Uuid::parse(text).value(); };
  const auto a = id("67931fbe-4269-4563-816a-bddeb3b42101");
  const auto b = id("67931fbe-4269-4563-816a-bddeb3b42102");
  const auto c = id("67931fbe-4269-4563-816a-bddeb3b42103");
  attendance::ble_scan::detail::DeviceInfo dev;
  EXPECT_EQ(dev.ignoredReason(), IgnoredReason::no_known_format);
  dev.setCandidates(AdvertProperty::uuids, {{c, Format::service_uuid, {}}}, IgnoredReason::none);
  dev.setCandidates(AdvertProperty::manufacturer_data, {{a, Format::ibeacon, {}}}, IgnoredReason::none);
  dev.setCandidates(AdvertProperty::service_data, {{b, Format::eddystone_uid, {}}}, IgnoredReason::none);
  const auto ids = [&] {
    std::vector<attendance::support::Uuid> out;
    std::vector<Candidate> collected;
    DeviceTable::collectCandidates(dev, collected);
    for (const auto& x : collected) out.push_back(x.bleUuid);
    return out;
  };
  EXPECT_EQ(ids(), (std::vector{a, b, c}));
  // The service data changes to an Eddystone TLM frame: only its id goes, with its reason.
  dev.setCandidates(AdvertProperty::service_data, {}, IgnoredReason::eddystone_not_uid);
  EXPECT_EQ(ids(), (std::vector{a, c}));
  dev.setCandidates(AdvertProperty::manufacturer_data, {}, IgnoredReason::apple_overflow_area);
  dev.setCandidates(AdvertProperty::uuids, {}, IgnoredReason::no_known_format);
  EXPECT_TRUE(ids().empty());
  EXPECT_EQ(dev.ignoredReason(), IgnoredReason::apple_overflow_area) << "the greatest of the three";
}

// Issue 13 (memory): one D-Bus batch can carry thousands of new devices before the loop
// sweeps (the 10 000-device run peaked at ~7 600 tracked against the cap of 4096). The table
// makes room as they arrive: never more than the cap + 1/8, the newest kept, paired ones never
// evicted, every evicted one handed out for RemoveDevice.
TEST(DeviceTableTest, ABurstOfNewDevicesBetweenSweepsStaysNearTheCap) {
  attendance::support::SimulatedTimeSource time;
  DeviceTable table{kStale, 16};
  table.add(key(0), time.monotonicTime()).keep = true;
  std::size_t most = 0;
  for (int i = 1; i < 200; ++i) {
    time.advance(1ms);
    table.add(key(i), time.monotonicTime());
    most = std::max(most, table.size());
  }
  EXPECT_LE(most, 16U + 16U / 8 + 1);
  EXPECT_NE(table.find(key(0)), nullptr) << "the paired device stays";
  EXPECT_NE(table.find(key(199)), nullptr) << "the newest stays";
  EXPECT_EQ(table.find(key(1)), nullptr) << "the oldest went";
  std::size_t removals = 0;
  while (table.nextRemoval()) {
    table.removalAnswered();
    ++removals;
  }
  EXPECT_EQ(removals + table.size(), 200U);
}

}  // namespace
