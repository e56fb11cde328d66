#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <attendance/http_server/blocking_pool.hpp>

// Calls `work` every `interval` on the BlockingPool (ReportCache::refresh, so
// the first view after a sync finds the report built). The timer lives on a
// one-thread io_context of its own: that thread only waits and hands the work
// to the pool, it never runs database work. The Server does not expose its
// io_context, and a timer there would keep its run() from returning after a
// drain until the next tick.
namespace attendance::admin_web {

class ReportRefresher {
public:
  ReportRefresher(http_server::BlockingPool& blocking, std::chrono::milliseconds interval, std::function<void()> work);
  // Stops the timer and waits for a refresh in progress.
  ~ReportRefresher();
  ReportRefresher(const ReportRefresher&) = delete;
  ReportRefresher& operator=(const ReportRefresher&) = delete;

  // Completed runs (for tests).
  [[nodiscard]] std::uint64_t runs() const { return runs_.load(); }

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> runs_{0};
};

}  // namespace attendance::admin_web
