#include "report_refresher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <attendance/support/log.hpp>

namespace attendance::admin_web {

namespace asio = boost::asio;

struct ReportRefresher::Impl {
  Impl(http_server::BlockingPool& b, std::chrono::milliseconds i, std::function<void()> w,
       std::atomic<std::uint64_t>& r)
      : blocking(b), interval(i), work(std::move(w)), runs(r), timer(ioc) {}

  http_server::BlockingPool& blocking;
  std::chrono::milliseconds interval;
  std::function<void()> work;
  std::atomic<std::uint64_t>& runs;
  asio::io_context ioc;
  asio::steady_timer timer;
  bool stopping = false;  // touched only on ioc's thread
  std::thread thread;

  asio::awaitable<void> loop() {
    while (!stopping) {
      timer.expires_after(interval);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (stopping) break;
      (void)ec;
      try {
        co_await blocking.run([this] { work(); });
        runs.fetch_add(1);
      } catch (const http_server::PoolSaturated&) {
        // Requests come first; the next tick tries again.
        support::log::warn("admin_web.report_refresh_skipped", {{"reason", "blocking pool saturated"}});
      } catch (const std::exception& e) {
        support::log::error("admin_web.report_refresh_failed", {{"error", e.what()}});
      }
    }
  }
};

ReportRefresher::ReportRefresher(http_server::BlockingPool& blocking, std::chrono::milliseconds interval,
                                 std::function<void()> work)
    : impl_(
          std::make_unique<Impl>(blocking, std::max(interval, std::chrono::milliseconds{10}), std::move(work), runs_)) {
  asio::co_spawn(impl_->ioc, impl_->loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

ReportRefresher::~ReportRefresher() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->stopping = true;
    impl->timer.cancel();
  });
  // run() returns once the loop ends; a refresh on the pool finishes first
  // (its completion is outstanding work of this io_context).
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace attendance::admin_web
