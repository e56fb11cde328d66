#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <vector>

namespace attendance::support {

// Logic never calls now(): it asks a TimeSource, so tests can drive time by hand
// (SimulatedTimeSource) and a Pi with a wrong wall clock can be reasoned about.
class TimeSource {
public:
  virtual ~TimeSource() = default;
  // Wall-clock time (may jump when NTP or an operator sets the clock).
  [[nodiscard]] virtual std::chrono::system_clock::time_point systemTime() const = 0;
  // Monotonic time since an arbitrary origin; never jumps.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point monotonicTime() const = 0;
  // Waits `d` on this clock: blocks for real on RealTimeSource, and on a
  // SimulatedTimeSource moves time forward at once, so a test of retries,
  // backoff or polling runs in microseconds and sees exactly the waits asked for.
  virtual void sleepFor(std::chrono::nanoseconds d) const = 0;
  // A timer for a background thread (a periodic refresh): true once `d` has passed on
  // this clock, false as soon as `stop` is requested. Unlike sleepFor it never moves a
  // simulated clock: it waits until the test advances it past the deadline, so the test
  // decides when a background tick happens and knows none happened in between.
  [[nodiscard]] virtual bool waitFor(std::chrono::nanoseconds d, std::stop_token stop) const = 0;
};

class RealTimeSource final : public TimeSource {
public:
  [[nodiscard]] std::chrono::system_clock::time_point systemTime() const override;
  [[nodiscard]] std::chrono::steady_clock::time_point monotonicTime() const override;
  void sleepFor(std::chrono::nanoseconds d) const override;
  [[nodiscard]] bool waitFor(std::chrono::nanoseconds d, std::stop_token stop) const override;
};

// A clock that only moves when told to. Safe to share with server threads a test starts
// (they read it while the test moves it); the test is the only one that moves it.
class SimulatedTimeSource final : public TimeSource {
public:
  explicit SimulatedTimeSource(std::chrono::system_clock::time_point start = std::chrono::system_clock::time_point{
                                   std::chrono::milliseconds{1721471400000}});

  [[nodiscard]] std::chrono::system_clock::time_point systemTime() const override;
  [[nodiscard]] std::chrono::steady_clock::time_point monotonicTime() const override;

  // Moves both clocks forward.
  void advance(std::chrono::nanoseconds by) const;
  // Moves only the wall clock (an NTP correction or a wrongly set clock).
  void setSystemTime(std::chrono::system_clock::time_point t);
  // A simulated sleep is an advance; every wait is recorded for tests to check,
  // and `onSleep` runs after each one (what happens while the program waits:
  // a server goes away, a file appears).
  void sleepFor(std::chrono::nanoseconds d) const override;
  [[nodiscard]] bool waitFor(std::chrono::nanoseconds d, std::stop_token stop) const override;
  [[nodiscard]] std::vector<std::chrono::nanoseconds> sleeps() const;
  void onSleep(std::function<void(std::chrono::nanoseconds)> f) { onSleep_ = std::move(f); }

private:
  // Mutable because waiting on a simulated clock is what moves it, and callers
  // hold the clock as `const TimeSource&` (they may read it and wait, not set it).
  mutable std::mutex mutex_;
  mutable std::chrono::system_clock::time_point system_;
  mutable std::chrono::steady_clock::time_point steady_{};
  mutable std::vector<std::chrono::nanoseconds> sleeps_;
  mutable std::condition_variable_any moved_;  // the timers' wake-up on advance()
  std::function<void(std::chrono::nanoseconds)> onSleep_;
};

// Unix epoch milliseconds, the unit of checkInTime on the wire.
[[nodiscard]] inline std::int64_t toEpochMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

[[nodiscard]] inline std::chrono::system_clock::time_point fromEpochMillis(std::int64_t ms) {
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

}  // namespace attendance::support
