#include <attendance/http_server/blocking_pool.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
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
  // The job goes to the pool; when it is done its completion goes straight to the
  // awaiting coroutine's own executor. (co_spawn onto the pool, used before, posted
  // each finished job back into the pool's queue first, so its answer waited for
  // every job queued after it: under a burst all answers came at the end. Issue 9
  // §3, tests/http_server/blocking_pool_test.cpp.) The tracked executor keeps the
  // coroutine's io_context running while the job is out.
  std::exception_ptr failure;
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this, &fn, &failure](auto handler) {
        auto home = asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
        asio::post(impl_->pool, [&fn, &failure, handler = std::move(handler), home = std::move(home)]() mutable {
          try {
            fn();
          } catch (...) {
            failure = std::current_exception();
          }
          asio::dispatch(home, std::move(handler));
        });
      },
      asio::use_awaitable);
  if (failure) std::rethrow_exception(failure);
}

}  // namespace attendance::http_server
