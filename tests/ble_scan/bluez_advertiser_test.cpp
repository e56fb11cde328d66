// BluezAdvertiser against the simulator's LEAdvertisingManager1 (tools/bluez-sim, bluez5_adv.py):
// what BlueZ holds is read back from the simulator ("advertisements"), never from the advertiser.
#include "bluez_sim_process.hpp"

#include <attendance/ble_scan/bluez_advertiser.hpp>
#include <attendance/support/clock.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <signal.h>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using attendance::ble_scan::AdvertiserOptions;
using attendance::ble_scan::AdvertiserState;
using attendance::ble_scan::AdvertisingData;
using attendance::ble_scan::BluezAdvertiser;
using attendance::ble_scan::Broadcast;
using attendance::test::BluezSimProcess;
namespace json = boost::json;

constexpr auto kDeadline = 15s;

// The 23 iBeacon bytes after Apple's company id for a proximity UUID of 16 × `fill`.
std::vector<std::uint8_t> iBeacon(std::uint8_t fill) {
  std::vector<std::uint8_t> out{0x02, 0x15};
  out.insert(out.end(), 16, fill);
  out.insert(out.end(), {0x00, 0x00, 0x00, 0x00, 0xc5});
  return out;
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

class BluezAdvertiserTest : public ::testing::Test {
protected:
  void SetUp() override { sim_ = BluezSimProcess::start(30s, {"--adapter", "hci0,hci1", "serve", "--control"}); }

  void TearDown() override {
    advertiser_.reset();
    sim_.reset();
  }

  void startAdvertiser(AdvertiserOptions options, BluezAdvertiser::BroadcastSource source) {
    options.retryInterval = 200ms;
    options.callTimeout = 1s;
    auto created = BluezAdvertiser::createWithAddress(sim_->address(), std::move(options), time_, std::move(source),
                                                      [this](const auto& c) { reasons_.emplace_back(c.reason); });
    ASSERT_TRUE(created) << created.error().message;
    advertiser_ = std::move(*created);
    ASSERT_TRUE(advertiser_->start());
  }

  bool pollUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline = kDeadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) {
        return false;
      }
      auto r = advertiser_->poll(20ms);
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
    }
    return true;
  }

  json::array registrations() { return sim_->command({{"cmd", "advertisements"}}).as_array(); }

  static Broadcast staticIBeacon(std::uint8_t fill) {
    Broadcast b;
    b.data.manufacturerData[0x004C] = iBeacon(fill);
    b.label = "fill-" + std::to_string(fill);
    return b;
  }

  attendance::support::RealTimeSource time_;
  std::unique_ptr<BluezSimProcess> sim_;
  std::unique_ptr<BluezAdvertiser> advertiser_;
  std::vector<std::string> reasons_;
};

TEST_F(BluezAdvertiserTest, RegistersABroadcastAdvertisementOnTheFirstAdapter) {
  startAdvertiser({}, [](auto) { return staticIBeacon(0x11); });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
  const auto regs = registrations();
  ASSERT_EQ(regs.size(), 1U);
  EXPECT_EQ(regs[0].at("adapter").as_string(), "hci0");
  EXPECT_EQ(regs[0].at("type").as_string(), "broadcast");
  EXPECT_EQ(regs[0].at("manufacturerData").at("76").as_string(), hex(iBeacon(0x11)));
  EXPECT_EQ(advertiser_->adapter(), "hci0");
  EXPECT_EQ(advertiser_->advertising(), "fill-17");
  EXPECT_EQ(advertiser_->counters().registrations, 1U);
  // Without an interval BlueZ leaves the kernel's default of 1.28 s, too slow for the presence rule
  // at the door (ADR 0025): the advertiser asks for 250 ms by default.
  EXPECT_EQ(regs[0].at("minInterval").as_int64(), 250);
  EXPECT_EQ(regs[0].at("maxInterval").as_int64(), 250);
}

TEST_F(BluezAdvertiserTest, RequestsTheConfiguredAdvertisingInterval) {
  AdvertiserOptions o;
  o.interval = 100ms;
  startAdvertiser(o, [](auto) { return staticIBeacon(0x12); });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
  const auto regs = registrations();
  ASSERT_EQ(regs.size(), 1U);
  EXPECT_EQ(regs[0].at("minInterval").as_int64(), 100);
  EXPECT_EQ(regs[0].at("maxInterval").as_int64(), 100);
}

TEST_F(BluezAdvertiserTest, AnIntervalBlueZWouldRefuseIsAnErrorAtCreation) {
  for (const auto interval : {19ms, std::chrono::milliseconds{10'485'001}}) {
    AdvertiserOptions o;
    o.interval = interval;
    auto created = BluezAdvertiser::createWithAddress(sim_->address(), o, time_, [](auto) { return staticIBeacon(1); });
    ASSERT_FALSE(created) << interval.count();
    EXPECT_NE(created.error().message.find("advertising interval"), std::string::npos) << interval.count();
  }
}

TEST_F(BluezAdvertiserTest, EddystoneServiceDataAndTheConfiguredAdapter) {
  AdvertiserOptions o;
  o.adapterName = "hci1";
  startAdvertiser(o, [](auto) {
    Broadcast b;
    b.data.serviceUuids = {"FEAA"};
    b.data.serviceData["FEAA"] = std::vector<std::uint8_t>(20, 0x22);
    return b;
  });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
  const auto regs = registrations();
  ASSERT_EQ(regs.size(), 1U);
  EXPECT_EQ(regs[0].at("adapter").as_string(), "hci1");
  EXPECT_EQ(regs[0].at("serviceData").at("FEAA").as_string(), std::string(40, '2'));
  EXPECT_EQ(regs[0].at("serviceUuids").as_array().size(), 1U);
}

TEST_F(BluezAdvertiserTest, RegistersAgainWithNewDataWhenTheBroadcastExpires) {
  std::atomic<int> windows{0};
  startAdvertiser({}, [&](std::chrono::system_clock::time_point now) {
    auto b = staticIBeacon(static_cast<std::uint8_t>(0x30 + windows++));
    b.until = now + 700ms;
    return b;
  });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->counters().registrations >= 3; }, 10s));
  const auto regs = registrations();
  ASSERT_EQ(regs.size(), 1U) << "the old id is withdrawn before the new one starts";
  EXPECT_GE(regs[0].at("serial").as_int64(), 3);
  EXPECT_NE(regs[0].at("manufacturerData").at("76").as_string(), hex(iBeacon(0x30)));
  EXPECT_GE(advertiser_->counters().rotations, 2U);
  EXPECT_EQ(advertiser_->counters().registrationFailures, 0U);
}

TEST_F(BluezAdvertiserTest, SurvivesABluetoothdRestart) {
  startAdvertiser({}, [](auto) { return staticIBeacon(0x44); });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
  sim_->command({{"cmd", "restart_bluez"}});  // a new mock: nothing registered any more
  ASSERT_TRUE(pollUntil([&] { return advertiser_->counters().bluezRestarts == 1; }));
  ASSERT_TRUE(
      pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising && registrations().size() == 1; }));
  EXPECT_EQ(registrations()[0].at("manufacturerData").at("76").as_string(), hex(iBeacon(0x44)));
  EXPECT_EQ(advertiser_->counters().registrations, 2U);
  EXPECT_NE(std::find(reasons_.begin(), reasons_.end(), "bluez-gone"), reasons_.end());
}

TEST_F(BluezAdvertiserTest, WaitsForBluezAndForAnAdapter) {
  sim_->command({{"cmd", "stop_bluez"}});
  startAdvertiser({}, [](auto) { return staticIBeacon(0x55); });
  EXPECT_EQ(advertiser_->state(), AdvertiserState::waiting_for_bluez);
  sim_->command({{"cmd", "start_bluez"}});
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
  EXPECT_EQ(registrations().size(), 1U);
}

TEST_F(BluezAdvertiserTest, MoreThanALegacyAdvertisementIsRefusedAndRetried) {
  startAdvertiser({}, [](auto) {
    Broadcast b;
    b.data.manufacturerData[0x004C] = std::vector<std::uint8_t>(27, 0x01);  // 3 + 4 + 27 = 34 > 31
    return b;
  });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->counters().registrationFailures >= 2; }));
  EXPECT_EQ(advertiser_->state(), AdvertiserState::registering);
  EXPECT_TRUE(registrations().empty());
}

TEST_F(BluezAdvertiserTest, AFrozenBluetoothdNeverBlocksPoll) {
  std::atomic<int> windows{0};
  startAdvertiser({}, [&](std::chrono::system_clock::time_point now) {
    auto b = staticIBeacon(static_cast<std::uint8_t>(windows++));
    b.until = now + 300ms;
    return b;
  });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
  const auto pids = sim_->command({{"cmd", "pids"}}).as_array();
  const auto mock = static_cast<pid_t>(pids[1].as_int64());
  ASSERT_EQ(::kill(mock, SIGSTOP), 0);
  auto longest = std::chrono::steady_clock::duration::zero();
  const auto end = std::chrono::steady_clock::now() + 2500ms;  // rotations due, each call times out after 1 s
  while (std::chrono::steady_clock::now() < end) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(advertiser_->poll(100ms));
    longest = std::max(longest, std::chrono::steady_clock::now() - t0);
  }
  ASSERT_EQ(::kill(mock, SIGCONT), 0);
  EXPECT_LT(longest, 500ms) << "poll() blocked on a frozen bluetoothd";
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
}

TEST_F(BluezAdvertiserTest, StopWithdrawsTheAdvertisement) {
  startAdvertiser({}, [](auto) { return staticIBeacon(0x66); });
  ASSERT_TRUE(pollUntil([&] { return advertiser_->state() == AdvertiserState::advertising; }));
  advertiser_->stop();
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (!registrations().empty() && std::chrono::steady_clock::now() < end) {
  }
  EXPECT_TRUE(registrations().empty());
  EXPECT_EQ(advertiser_->state(), AdvertiserState::stopped);
}

}  // namespace
