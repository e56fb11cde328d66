// The server over real sockets on 127.0.0.1 (port 0): limits, 100-continue,
// timeouts, keep-alive, routing errors, drain, metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>

#include <attendance/http_server/blocking_pool.hpp>
#include "http_server/running_server.hpp"
#include "support/test_client.hpp"
#include <attendance/http_server/server.hpp>

namespace hs = attendance::http_server;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

using attendance::testing::Client;
using attendance::testing::ClientResponse;
using attendance::testing::closedByPeer;
using attendance::testing::eventually;
using attendance::testing::RunningServer;

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"; }

hs::ServerConfig quietConfig() {
  hs::ServerConfig cfg;
  cfg.accessLog = false;
  return cfg;
}

hs::Router echoRouter(std::atomic<int>* echoCalls = nullptr) {
  hs::Router r;
  r.addSync(http::verb::get, "/hello",
            [](hs::RequestContext&) { return hs::jsonResponse(http::status::ok, R"({"hello":"world"})"); });
  r.addSync(http::verb::post, "/echo", [echoCalls](hs::RequestContext& ctx) {
    if (echoCalls != nullptr) ++*echoCalls;
    return hs::jsonResponse(http::status::ok, "{\"bytes\":" + std::to_string(ctx.request.body().size()) + "}");
  });
  r.addSync(http::verb::delete_, "/echo", [](hs::RequestContext&) { return hs::jsonResponse(http::status::ok, "{}"); });
  r.addSync(http::verb::get, "/boom", [](hs::RequestContext&) -> hs::Response { throw std::runtime_error("boom"); });
  return r;
}

}  // namespace

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  RunningServer s{quietConfig(), echoRouter()};
  Client c{s.port};
  for (int i = 0; i < 3; ++i) {
    auto res = c.request(get("/hello"));
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res.body(), R"({"hello":"world"})");
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(s.metrics.value("http_requests_total", {{"method", "GET"}, {"route", "/hello"}, {"status", "200"}}), 3);
}

TEST(HttpServer, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  RunningServer s{quietConfig(), echoRouter()};
  Client c{s.port};
  auto res = c.request(get("/nope"));
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(res.body(), R"({"error":"not found"})");
  EXPECT_EQ(res[http::field::content_type], "application/json");
  res = c.request(get("/echo"));
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "POST, DELETE");
  EXPECT_EQ(res.body(), R"({"error":"method not allowed"})");
}

TEST(HttpServer, ContentLengthOverTheLimitIs413WithoutReadingTheBody) {
  std::atomic<int> calls{0};
  auto cfg = quietConfig();
  cfg.bodyLimit = 1000;
  RunningServer s{cfg, echoRouter(&calls)};
  Client c{s.port};
  // Only the header is sent: the answer must come from it alone.
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n");
  auto res = c.read(3s);
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_NE(res.body().find("exceeds the limit of 1000 bytes"), std::string::npos) << res.body();
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(calls.load(), 0);
  EXPECT_TRUE(closedByPeer(c.waitClosed(3s)));
}

TEST(HttpServer, PerRouteBodyLimitOverridesTheServerLimit) {
  auto cfg = quietConfig();
  cfg.bodyLimit = 10;
  hs::Router r;
  r.addSync(
      http::verb::post, "/big",
      [](hs::RequestContext& ctx) {
        return hs::jsonResponse(http::status::ok, std::to_string(ctx.request.body().size()));
      },
      hs::RouteOptions{.maxBody = 100});
  RunningServer s{cfg, std::move(r)};
  Client c{s.port};
  auto res = c.request("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\n" + std::string(50, 'x'));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "50");
  res = c.request("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n");
  EXPECT_EQ(res.result(), http::status::payload_too_large);
}

TEST(HttpServer, ChunkedBodyOverTheLimitIs413) {
  auto cfg = quietConfig();
  cfg.bodyLimit = 100;
  RunningServer s{cfg, echoRouter()};
  Client c{s.port};
  std::string chunk(200, 'a');
  auto res =
      c.request("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nc8\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(res.result(), http::status::payload_too_large);
}

TEST(HttpServer, ExpectContinueGets100ThenTheBodyIsRead) {
  auto cfg = quietConfig();
  cfg.bodyLimit = 8 * 1024 * 1024;
  RunningServer s{cfg, echoRouter()};
  Client c{s.port};
  const std::size_t size = 3 * 1024 * 1024;
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(size) +
         "\r\n\r\n");
  auto interim = c.read(3s);
  EXPECT_EQ(interim.result(), http::status::continue_);
  c.send(std::string(size, 'x'));
  auto res = c.read();
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "{\"bytes\":" + std::to_string(size) + "}");
}

TEST(HttpServer, ExpectContinueOverTheLimitGets413AndNo100) {
  auto cfg = quietConfig();
  cfg.bodyLimit = 1024;
  RunningServer s{cfg, echoRouter()};
  Client c{s.port};
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
  auto res = c.read(3s);
  EXPECT_EQ(res.result(), http::status::payload_too_large);
}

TEST(HttpServer, SlowHeaderIsCutOffByTheHeaderTimeout) {
  auto cfg = quietConfig();
  cfg.headerTimeout = 300ms;
  RunningServer s{cfg, echoRouter()};
  Client c{s.port};
  const auto start = std::chrono::steady_clock::now();
  c.send("GET /hello HTTP/1.1\r\nHo");  // and never the rest (slowloris)
  const auto ec = c.waitClosed(5s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closedByPeer(ec)) << ec.message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 4s);
  EXPECT_TRUE(eventually([&] { return s.metrics.value("http_timeouts_total", {{"phase", "header"}}) == 1; }));
}

TEST(HttpServer, SlowBodyIsCutOffByTheBodyTimeout) {
  auto cfg = quietConfig();
  cfg.bodyTimeout = 300ms;
  std::atomic<int> calls{0};
  RunningServer s{cfg, echoRouter(&calls)};
  Client c{s.port};
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789");
  EXPECT_TRUE(closedByPeer(c.waitClosed(5s)));
  EXPECT_EQ(calls.load(), 0);
  EXPECT_TRUE(eventually([&] { return s.metrics.value("http_timeouts_total", {{"phase", "body"}}) == 1; }));
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  auto cfg = quietConfig();
  cfg.idleTimeout = 300ms;
  RunningServer s{cfg, echoRouter()};
  Client c{s.port};
  EXPECT_EQ(c.request(get("/hello")).result(), http::status::ok);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedByPeer(c.waitClosed(5s)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

TEST(HttpServer, OversizedHeaderIs431) {
  auto cfg = quietConfig();
  cfg.headerLimit = 1024;
  RunningServer s{cfg, echoRouter()};
  Client c{s.port};
  auto res = c.request("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
}

TEST(HttpServer, GarbageIs400) {
  RunningServer s{quietConfig(), echoRouter()};
  Client c{s.port};
  auto res = c.request("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_NE(res.body().find("\"error\""), std::string::npos);
}

TEST(HttpServer, HandlerExceptionIs500WithJsonError) {
  RunningServer s{quietConfig(), echoRouter()};
  Client c{s.port};
  auto res = c.request(get("/boom"));
  EXPECT_EQ(res.result(), http::status::internal_server_error);
  EXPECT_EQ(res.body(), R"({"error":"internal server error"})");
  // The connection survives a handler failure.
  EXPECT_EQ(c.request(get("/hello")).result(), http::status::ok);
}

TEST(HttpServer, BlockingWorkRunsOnThePoolAndResumesOnTheIoThread) {
  hs::BlockingPool pool{2, 16};
  hs::Router r;
  r.add(http::verb::get, "/work", [&pool](hs::RequestContext&) -> asio::awaitable<hs::Response> {
    const auto ioThread = std::this_thread::get_id();
    const auto workerThread = co_await pool.run([] { return std::this_thread::get_id(); });
    const bool ok = workerThread != ioThread && std::this_thread::get_id() == ioThread;
    co_return hs::jsonResponse(http::status::ok, ok ? "true" : "false");
  });
  auto cfg = quietConfig();
  cfg.ioThreads = 1;
  RunningServer s{cfg, std::move(r)};
  Client c{s.port};
  auto res = c.request(get("/work"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "true");
}

TEST(HttpServer, SaturatedPoolAnswers503WithRetryAfter) {
  hs::BlockingPool pool{1, 1};
  std::promise<void> entered;
  std::promise<void> release;
  auto releaseFuture = release.get_future().share();
  hs::Router r;
  r.add(http::verb::get, "/slow", [&](hs::RequestContext&) -> asio::awaitable<hs::Response> {
    co_await pool.run([&] {
      entered.set_value();
      releaseFuture.wait();
    });
    co_return hs::jsonResponse(http::status::ok, "{}");
  });
  RunningServer s{quietConfig(), std::move(r)};
  Client a{s.port};
  a.send(get("/slow"));
  entered.get_future().wait();
  Client b{s.port};
  auto res = b.request(get("/slow"));
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res[http::field::retry_after], "1");
  release.set_value();
  EXPECT_EQ(a.read().result(), http::status::ok);
}

TEST(HttpServer, StopDrainsInFlightRequestsClosesIdleOnesAndReturns) {
  std::promise<void> entered;
  hs::Router r = echoRouter();
  r.add(http::verb::get, "/slow", [&entered](hs::RequestContext&) -> asio::awaitable<hs::Response> {
    entered.set_value();
    asio::steady_timer t{co_await asio::this_coro::executor, 400ms};
    co_await t.async_wait(asio::use_awaitable);
    co_return hs::jsonResponse(http::status::ok, R"({"slow":true})");
  });
  auto cfg = quietConfig();
  cfg.drainTimeout = 5s;
  RunningServer s{cfg, std::move(r)};
  Client idle{s.port};
  EXPECT_EQ(idle.request(get("/hello")).result(), http::status::ok);
  Client busy{s.port};
  busy.send(get("/slow"));
  entered.get_future().wait();

  s.server().stop();
  // The idle keep-alive connection is closed promptly...
  EXPECT_TRUE(closedByPeer(idle.waitClosed(2s)));
  // ...the in-flight request still gets its answer, marked Connection: close...
  auto res = busy.read();
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"slow":true})");
  EXPECT_FALSE(res.keep_alive());
  // ...and run() returns without waiting for the drain deadline.
  EXPECT_TRUE(s.waitStopped(3s));
  EXPECT_THROW(Client{s.port}, boost::system::system_error);
}

TEST(HttpServer, DrainDeadlineClosesRequestsThatDoNotFinish) {
  std::atomic<bool> entered{false};
  hs::Router r;
  r.add(http::verb::get, "/forever", [&entered](hs::RequestContext&) -> asio::awaitable<hs::Response> {
    entered = true;
    asio::steady_timer t{co_await asio::this_coro::executor, 60s};
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return hs::jsonResponse(http::status::ok, "{}");
  });
  auto cfg = quietConfig();
  cfg.drainTimeout = 300ms;
  RunningServer s{cfg, std::move(r)};
  Client c{s.port};
  c.send(get("/forever"));
  // Let the request reach the handler before stopping.
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  const auto start = std::chrono::steady_clock::now();
  s.server().stop();
  EXPECT_TRUE(closedByPeer(c.waitClosed(5s)));
  EXPECT_TRUE(s.waitStopped(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(HttpServer, ConnectionsOverTheLimitGet503WhenEveryOneIsInARequest) {
  auto cfg = quietConfig();
  cfg.maxConnections = 1;
  RunningServer s{cfg, echoRouter()};
  Client a{s.port};
  EXPECT_EQ(a.request(get("/hello")).result(), http::status::ok);
  // Half a header: `a` is inside a request, so it is not evicted (an idle one would be).
  a.send("GET /hello HTTP/1.1\r\n");
  ASSERT_TRUE(eventually([&] {
    return s.metrics.value("http_requests_total", {{"method", "GET"}, {"route", "/hello"}, {"status", "200"}}) == 1;
  }));
  std::this_thread::sleep_for(200ms);  // for the server to read those bytes
  Client b{s.port};
  auto res = b.read();
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res[http::field::retry_after], "1");
  EXPECT_EQ(s.metrics.value("http_connections_rejected_total", {{"reason", "full"}}), 1);
}

TEST(HttpServer, HealthReadinessAndMetricsEndpoints) {
  auto cfg = quietConfig();
  std::atomic<bool> ready{false};
  cfg.readiness = [&ready] { return ready.load(); };
  RunningServer s{cfg, echoRouter()};
  Client c{s.port};
  EXPECT_EQ(c.request(get("/healthz")).result(), http::status::ok);
  EXPECT_EQ(c.request(get("/readyz")).result(), http::status::service_unavailable);
  ready = true;
  EXPECT_EQ(c.request(get("/readyz")).result(), http::status::ok);
  EXPECT_EQ(c.request(get("/hello")).result(), http::status::ok);
  EXPECT_EQ(c.request(get("/nope")).result(), http::status::not_found);
  auto res = c.request(get("/metrics"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], hs::MetricsRegistry::kContentType);
  const std::string& text = res.body();
  EXPECT_NE(text.find("# TYPE http_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_requests_total{method=\"GET\",route=\"/hello\",status=\"200\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("http_request_duration_seconds_count{route=\"/hello\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_connections_active 1\n"), std::string::npos) << text;
}
