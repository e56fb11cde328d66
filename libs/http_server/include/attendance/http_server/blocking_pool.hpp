#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>

namespace attendance::http_server {

// Thrown by BlockingPool::run when the queue is full; handlers map it to 503.
class PoolSaturated : public std::runtime_error {
public:
  PoolSaturated() : std::runtime_error("blocking pool saturated") {}
};

// A bounded thread pool for blocking work (database calls). A coroutine on an
// I/O thread does `co_await pool.run([&]{ ... })`: the function runs on a pool
// thread and the coroutine resumes on its own executor, so I/O threads never block.
class BlockingPool {
public:
  BlockingPool(std::size_t threads, std::size_t maxPending);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&>> run(F f) {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      co_await runErased([&f] { f(); });
    } else {
      std::optional<R> result;
      co_await runErased([&f, &result] { result.emplace(f()); });
      co_return std::move(*result);
    }
  }

  // Type-erased core of run(); exceptions thrown by fn are rethrown to the caller.
  boost::asio::awaitable<void> runErased(std::function<void()> fn);

  [[nodiscard]] std::size_t pending() const { return pending_.load(); }
  [[nodiscard]] std::size_t threads() const { return threads_; }
  // Waits for queued work to finish (called by the destructor).
  void join();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t threads_;
  std::size_t maxPending_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace attendance::http_server
