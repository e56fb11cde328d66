// The background-iPhone count of the status line (libs/ble_scan/src/background_iphones.*).
#include "background_iphones.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using attendance::ble_scan::detail::BackgroundIphones;
using namespace std::chrono_literals;
using Clock = BackgroundIphones::Clock;

const Clock::time_point t0{std::chrono::hours{1}};

TEST(BackgroundIphones, CountsPhonesNotFrames) {
  BackgroundIphones b{60s, 100};
  for (int i = 0; i < 10; ++i) {
    b.seen("/org/bluez/hci0/dev_40_00_00_00_00_01", t0 + i * 100ms);
    b.seen("/org/bluez/hci0/dev_40_00_00_00_00_02", t0 + i * 100ms);
  }
  b.expire(t0 + 1s);
  EXPECT_EQ(b.current(), 2U);
  EXPECT_EQ(b.peak(), 2U);
  EXPECT_EQ(b.frames(), 20U);
}

TEST(BackgroundIphones, APhoneSilentForTheWindowNoLongerCountsButThePeakStays) {
  BackgroundIphones b{60s, 100};
  b.seen("a", t0);
  b.seen("b", t0);
  b.seen("c", t0 + 30s);
  b.expire(t0 + 60s);
  EXPECT_EQ(b.current(), 3U);  // exactly the window old: still there
  b.expire(t0 + 61s);
  EXPECT_EQ(b.current(), 1U);
  EXPECT_EQ(b.peak(), 3U);
  b.expire(t0 + 91s);
  EXPECT_EQ(b.current(), 0U);
  EXPECT_EQ(b.peak(), 3U);
}

TEST(BackgroundIphones, ARotatedAddressIsANewPhoneOnlyWhileBothAreInTheWindow) {
  BackgroundIphones b{60s, 100};
  b.seen("old-address", t0);
  b.seen("new-address", t0 + 10s);
  b.expire(t0 + 10s);
  EXPECT_EQ(b.current(), 2U);
  b.expire(t0 + 70s);  // the old address is 70 s silent, the new one 60 s
  EXPECT_EQ(b.current(), 1U);
}

TEST(BackgroundIphones, StaysWithinCapacityAndCountsAgainOnceRoomIsFree) {
  BackgroundIphones b{60s, 3};
  for (int i = 0; i < 10; ++i) b.seen("phone-" + std::to_string(i), t0);
  EXPECT_EQ(b.current(), 3U);
  EXPECT_EQ(b.frames(), 10U);
  b.seen("late", t0 + 61s);  // the full table is swept at once: the old ones left the window
  EXPECT_EQ(b.current(), 1U);
  EXPECT_EQ(b.peak(), 3U);
}

}  // namespace
