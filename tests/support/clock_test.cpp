#include <gtest/gtest.h>

#include <attendance/support/clock.hpp>

#include <future>
#include <stop_token>

using namespace std::chrono_literals;
using attendance::support::SimulatedTimeSource;

TEST(SimulatedTimeSource, MovesOnlyWhenTold) {
  SimulatedTimeSource clock;
  const auto wall = clock.systemTime();
  const auto mono = clock.monotonicTime();
  EXPECT_EQ(clock.systemTime(), wall);
  clock.advance(1500ms);
  EXPECT_EQ(attendance::support::toEpochMillis(clock.systemTime()), attendance::support::toEpochMillis(wall) + 1500);
  EXPECT_EQ(clock.monotonicTime() - mono, 1500ms);
}

TEST(SimulatedTimeSource, WallClockCanJumpWithoutMovingMonotonicTime) {
  SimulatedTimeSource clock;
  const auto mono = clock.monotonicTime();
  clock.setSystemTime(attendance::support::fromEpochMillis(0));
  EXPECT_EQ(attendance::support::toEpochMillis(clock.systemTime()), 0);
  EXPECT_EQ(clock.monotonicTime(), mono);
}

// A timer on simulated time fires when the test moves the clock past its deadline, not
// before, however long real time waits: a background refresh is driven by the test.
TEST(SimulatedTimeSource, ATimerFiresOnlyWhenTheClockIsMovedPastItsDeadline) {
  SimulatedTimeSource clock;
  std::stop_source stop;
  auto fired = std::async(std::launch::async, [&] { return clock.waitFor(10s, stop.get_token()); });
  EXPECT_EQ(fired.wait_for(200ms), std::future_status::timeout);
  clock.advance(9s);
  EXPECT_EQ(fired.wait_for(200ms), std::future_status::timeout);
  clock.advance(1s);
  ASSERT_EQ(fired.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(fired.get());
}

TEST(SimulatedTimeSource, AStoppedTimerReturnsFalseAtOnce) {
  SimulatedTimeSource clock;
  std::stop_source stop;
  auto fired = std::async(std::launch::async, [&] { return clock.waitFor(1h, stop.get_token()); });
  stop.request_stop();
  ASSERT_EQ(fired.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(fired.get());
}

TEST(RealTimeSource, ATimerWaitsForRealAndAStopCutsItShort) {
  const attendance::support::RealTimeSource clock;
  std::stop_source never;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(clock.waitFor(50ms, never.get_token()));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
  std::stop_source stop;
  auto fired = std::async(std::launch::async, [&] { return clock.waitFor(1h, stop.get_token()); });
  stop.request_stop();
  ASSERT_EQ(fired.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(fired.get());
}
