#include <gtest/gtest.h>

#include <attendance/support/clock.hpp>

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
