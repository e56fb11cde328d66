#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include <attendance/http_server/blocking_pool.hpp>
#include <attendance/support/clock.hpp>

// Calls `work` every `interval` of the TimeSource on the BlockingPool
// (ReportCache::refresh, so the first view after a sync finds the report built).
// The timer is a thread of its own waiting on TimeSource::waitFor: on a simulated
// clock a test decides when each run happens. That thread only waits and hands the
// work to the pool (requests and refreshes share its bound); it never runs database
// work itself. The Server does not expose its io_context, and a timer there would
// keep its run() from returning after a drain until the next tick.
namespace attendance::admin_web {

class ReportRefresher {
public:
  ReportRefresher(http_server::BlockingPool& blocking, const support::TimeSource& time,
                  std::chrono::milliseconds interval, std::function<void()> work);
  // Stops the timer and waits for a refresh in progress.
  ~ReportRefresher();
  ReportRefresher(const ReportRefresher&) = delete;
  ReportRefresher& operator=(const ReportRefresher&) = delete;

  // Completed runs (for tests).
  [[nodiscard]] std::uint64_t runs() const { return runs_.load(); }

private:
  void runOnce();

  http_server::BlockingPool& blocking_;
  const support::TimeSource& time_;
  std::chrono::milliseconds interval_;
  std::function<void()> work_;
  std::atomic<std::uint64_t> runs_{0};
  std::jthread timer_;  // last: stopped and joined before the members it uses go
};

}  // namespace attendance::admin_web
