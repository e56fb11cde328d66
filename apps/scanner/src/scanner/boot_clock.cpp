#include "scanner/boot_clock.hpp"

#include <time.h>

#include <fstream>

namespace attendance::scanner {

RealBootClock::RealBootClock() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::getline(in, bootId_);
}

std::int64_t RealBootClock::bootMillis() const {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::int64_t SimulatedBootClock::bootMillis() const {
  return offsetMs_ +
         std::chrono::duration_cast<std::chrono::milliseconds>(time_->monotonicTime().time_since_epoch()).count();
}

}  // namespace attendance::scanner
