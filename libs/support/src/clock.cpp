#include "attendance/support/clock.hpp"

namespace attendance::support {

std::chrono::system_clock::time_point RealTimeSource::systemTime() const {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point RealTimeSource::monotonicTime() const {
  return std::chrono::steady_clock::now();
}

SimulatedTimeSource::SimulatedTimeSource(std::chrono::system_clock::time_point start) : system_(start) {}

void SimulatedTimeSource::advance(std::chrono::nanoseconds by) {
  system_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
  steady_ += by;
}

}  // namespace attendance::support
