#include <attendance/support/clock.hpp>

#include <thread>

namespace attendance::support {

std::chrono::system_clock::time_point RealTimeSource::systemTime() const { return std::chrono::system_clock::now(); }

std::chrono::steady_clock::time_point RealTimeSource::monotonicTime() const { return std::chrono::steady_clock::now(); }

void RealTimeSource::sleepFor(std::chrono::nanoseconds d) const {
  if (d > std::chrono::nanoseconds::zero()) std::this_thread::sleep_for(d);
}

bool RealTimeSource::waitFor(std::chrono::nanoseconds d, std::stop_token stop) const {
  // A condition variable nobody notifies: the stop token's callback is what wakes it early.
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock{m};
  (void)cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

SimulatedTimeSource::SimulatedTimeSource(std::chrono::system_clock::time_point start) : system_(start) {}

std::chrono::system_clock::time_point SimulatedTimeSource::systemTime() const {
  const std::lock_guard lock{mutex_};
  return system_;
}

std::chrono::steady_clock::time_point SimulatedTimeSource::monotonicTime() const {
  const std::lock_guard lock{mutex_};
  return steady_;
}

void SimulatedTimeSource::advance(std::chrono::nanoseconds by) const {
  {
    const std::lock_guard lock{mutex_};
    system_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
    steady_ += by;
  }
  moved_.notify_all();
}

void SimulatedTimeSource::setSystemTime(std::chrono::system_clock::time_point t) {
  const std::lock_guard lock{mutex_};
  system_ = t;
}

void SimulatedTimeSource::sleepFor(std::chrono::nanoseconds d) const {
  {
    // Recorded even when zero (full jitter can draw a zero backoff): it is still a wait asked for.
    const std::lock_guard lock{mutex_};
    sleeps_.push_back(d);
  }
  if (d > std::chrono::nanoseconds::zero()) advance(d);
  // Outside the lock: the hook may read the clock.
  if (onSleep_) onSleep_(d);
}

bool SimulatedTimeSource::waitFor(std::chrono::nanoseconds d, std::stop_token stop) const {
  std::unique_lock lock{mutex_};
  const auto deadline = steady_ + d;
  return moved_.wait(lock, stop, [&] { return steady_ >= deadline; });
}

std::vector<std::chrono::nanoseconds> SimulatedTimeSource::sleeps() const {
  const std::lock_guard lock{mutex_};
  return sleeps_;
}

}  // namespace attendance::support
