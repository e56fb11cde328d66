#include "report_refresher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <attendance/support/log.hpp>

namespace attendance::admin_web {

namespace asio = boost::asio;

ReportRefresher::ReportRefresher(http_server::BlockingPool& blocking, const support::TimeSource& time,
                                 std::chrono::milliseconds interval, std::function<void()> work)
    : blocking_(blocking),
      time_(time),
      interval_(std::max(interval, std::chrono::milliseconds{10})),
      work_(std::move(work)),
      timer_([this](const std::stop_token& stop) {
        while (time_.waitFor(interval_, stop)) runOnce();
      }) {}

// The jthread asks the timer to stop and joins it: a run in progress finishes first.
ReportRefresher::~ReportRefresher() = default;

// One run on the pool, awaited on a throwaway io_context: run() returns when it is done.
void ReportRefresher::runOnce() {
  asio::io_context ioc;
  asio::co_spawn(
      ioc,
      [this]() -> asio::awaitable<void> {
        try {
          co_await blocking_.run([this] { work_(); });
          runs_.fetch_add(1);
        } catch (const http_server::PoolSaturated&) {
          // Requests come first; the next tick tries again.
          support::log::warn("admin_web.report_refresh_skipped", {{"reason", "blocking pool saturated"}});
        } catch (const std::exception& e) {
          support::log::error("admin_web.report_refresh_failed", {{"error", e.what()}});
        }
      },
      asio::detached);
  ioc.run();
}

}  // namespace attendance::admin_web
