#include <attendance/support/clock.hpp>

#include <thread>

namespace attendance::support {

std::chrono::system_clock::time_point RealTimeSource::systemTime() const { return std::chrono::system_clock::now(); }

std::chrono::steady_clock::time_point RealTimeSource::monotonicTime() const { return std::chrono::steady_clock::now(); }

void RealTimeSource::sleepFor(std::chrono::nanoseconds d) const {
  if (d > std::chrono::nanoseconds::zero()) std::this_thread::sleep_for(d);
}

SimulatedTimeSource::SimulatedTimeSource(std::chrono::system_clock::time_point start) : system_(start) {}

void SimulatedTimeSource::advance(std::chrono::nanoseconds by) const {
  system_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
  steady_ += by;
}

void SimulatedTimeSource::sleepFor(std::chrono::nanoseconds d) const {
  // Recorded even when zero (full jitter can draw a zero backoff): it is still a wait asked for.
  sleeps_.push_back(d);
  if (d > std::chrono::nanoseconds::zero()) advance(d);
  if (onSleep_) onSleep_(d);
}

}  // namespace attendance::support
