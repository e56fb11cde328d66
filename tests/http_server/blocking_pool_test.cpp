// BlockingPool without sockets: a job's result reaches its coroutine as soon as
// the job is done, not after the jobs queued behind it.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <attendance/http_server/blocking_pool.hpp>

namespace hs = attendance::http_server;
namespace asio = boost::asio;
using namespace std::chrono_literals;

// Found by the 200-scanner load test (bench/backend/load.sh, issue 9 §3): every
// batch was answered only when the last of the 200 queued batches had committed
// (p50 = p99 = the whole run), because the pool handed each result back through
// its own queue, behind every job queued after it. Here: A's job finishes while
// B's job, queued after it, holds the only thread; A must resume anyway.
TEST(BlockingPool, AFinishedJobResumesItsCoroutineWithoutWaitingForTheJobsQueuedBehindIt) {
  hs::BlockingPool pool{1, 16};
  asio::io_context io{1};
  std::promise<void> bothQueued;
  auto bothQueuedFuture = bothQueued.get_future().share();
  std::promise<void> releaseB;
  auto releaseBFuture = releaseB.get_future().share();
  std::promise<void> aResumed;

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await pool.run([&] { bothQueuedFuture.wait(); });
        aResumed.set_value();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { co_await pool.run([&] { releaseBFuture.wait(); }); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  // Runs once both coroutines have handed their job to the pool.
  asio::post(io, [&] { bothQueued.set_value(); });
  std::thread ioThread{[&io] { io.run(); }};

  const bool resumed = aResumed.get_future().wait_for(3s) == std::future_status::ready;
  releaseB.set_value();
  ioThread.join();
  pool.join();
  EXPECT_TRUE(resumed) << "A's coroutine waited for B's job, which was queued after A's";
}
