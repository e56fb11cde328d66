#include "attendance/http_server/blocking_pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace attendance::http_server {

namespace asio = boost::asio;

struct BlockingPool::Impl {
  explicit Impl(std::size_t n) : pool(n) {}
  asio::thread_pool pool;
};

BlockingPool::BlockingPool(std::size_t threads, std::size_t maxPending)
    : impl_(std::make_unique<Impl>(std::max<std::size_t>(threads, 1))),
      threads_(std::max<std::size_t>(threads, 1)),
      maxPending_(std::max<std::size_t>(maxPending, 1)) {}

BlockingPool::~BlockingPool() { join(); }

void BlockingPool::join() { impl_->pool.join(); }

asio::awaitable<void> BlockingPool::runErased(std::function<void()> fn) {
  if (pending_.fetch_add(1) >= maxPending_) {
    pending_.fetch_sub(1);
    throw PoolSaturated{};
  }
  struct Release {
    std::atomic<std::size_t>& n;
    ~Release() { n.fetch_sub(1); }
  } release{pending_};
  // co_spawn onto the pool; the completion (value or exception) is delivered
  // back on the awaiting coroutine's own executor.
  co_await asio::co_spawn(
      impl_->pool.get_executor(),
      [fn = std::move(fn)]() -> asio::awaitable<void> {
        fn();
        co_return;
      },
      asio::use_awaitable);
}

}  // namespace attendance::http_server
