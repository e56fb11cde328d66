#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <attendance/support/clock.hpp>

namespace attendance::scanner {

// What lets attendance-sync correct a check-in later when the Pi booted with a
// wrong wall clock (docs/log-format.md): the kernel boot id and the time since boot.
class BootClock {
public:
  virtual ~BootClock() = default;
  [[nodiscard]] virtual std::string_view bootId() const = 0;
  // CLOCK_BOOTTIME in milliseconds (keeps counting during suspend; never jumps).
  [[nodiscard]] virtual std::int64_t bootMillis() const = 0;
};

// /proc/sys/kernel/random/boot_id and clock_gettime(CLOCK_BOOTTIME).
class RealBootClock final : public BootClock {
public:
  RealBootClock();
  [[nodiscard]] std::string_view bootId() const override { return bootId_; }
  [[nodiscard]] std::int64_t bootMillis() const override;

private:
  std::string bootId_;
};

// For tests: time since boot is the TimeSource's monotonic time plus an offset.
class SimulatedBootClock final : public BootClock {
public:
  SimulatedBootClock(const support::TimeSource& time, std::string bootId, std::int64_t offsetMs = 0)
      : time_(&time), bootId_(std::move(bootId)), offsetMs_(offsetMs) {}
  [[nodiscard]] std::string_view bootId() const override { return bootId_; }
  [[nodiscard]] std::int64_t bootMillis() const override;

private:
  const support::TimeSource* time_;
  std::string bootId_;
  std::int64_t offsetMs_;
};

}  // namespace attendance::scanner
