#include <gtest/gtest.h>

#include <attendance/http_server/rate_limiter.hpp>

namespace hs = attendance::http_server;
using namespace std::chrono_literals;

TEST(RateLimiter, AllowsBurstThenAsksToWaitThenRefills) {
  attendance::support::SimulatedTimeSource clock;
  hs::RateLimiter rl{clock, /*rate*/ 2.0, /*burst*/ 3.0};
  EXPECT_FALSE(rl.acquire("k1"));
  EXPECT_FALSE(rl.acquire("k1"));
  EXPECT_FALSE(rl.acquire("k1"));
  auto wait = rl.acquire("k1");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1s);
  // Other keys have their own bucket.
  EXPECT_FALSE(rl.acquire("k2"));
  clock.advance(500ms);  // one token at 2/s
  EXPECT_FALSE(rl.acquire("k1"));
  EXPECT_TRUE(rl.acquire("k1"));
}

TEST(RateLimiter, RetryAfterRoundsUpToWholeSeconds) {
  attendance::support::SimulatedTimeSource clock;
  hs::RateLimiter rl{clock, 0.1, 1.0};
  EXPECT_FALSE(rl.acquire("k"));
  auto wait = rl.acquire("k");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 10s);
}

TEST(RateLimiter, DisabledWhenRateIsZero) {
  attendance::support::SimulatedTimeSource clock;
  hs::RateLimiter rl{clock, 0, 1};
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(rl.acquire("k"));
}

TEST(RateLimiter, TrackedKeysAreBounded) {
  attendance::support::SimulatedTimeSource clock;
  hs::RateLimiter rl{clock, 1.0, 1.0, /*maxKeys*/ 2};
  EXPECT_FALSE(rl.acquire("a"));
  EXPECT_FALSE(rl.acquire("b"));
  EXPECT_FALSE(rl.acquire("c"));  // evicts one; still answers
  EXPECT_TRUE(rl.acquire("c"));
}
