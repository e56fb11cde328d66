// The server against hostile clients over real sockets: every byte a client sends
// counts against a limit (chunk extensions, trailers, framing), requests are
// refused from the header before any body byte is read, request smuggling is
// refused, and one address cannot take every connection slot.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <attendance/http_server/server.hpp>
#include "support/raw_socket.hpp"
#include "http_server/running_server.hpp"
#include "support/test_client.hpp"

namespace hs = attendance::http_server;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using attendance::testing::bytesUntilRefused;
using attendance::testing::Client;
using attendance::testing::RawSocket;
using attendance::testing::RunningServer;
using attendance::testing::statusOf;

namespace {

hs::ServerConfig quietConfig() {
  hs::ServerConfig cfg;
  cfg.accessLog = false;
  return cfg;
}

constexpr std::size_t kRouteLimit = 64 * 1024;

// POST /echo (64 KiB limit) counts its calls; GET /hello answers.
hs::Router countingRouter(std::atomic<int>& calls) {
  hs::Router r;
  r.addSync(
      http::verb::post, "/echo",
      [&calls](hs::RequestContext& ctx) {
        ++calls;
        return hs::jsonResponse(http::status::ok, "{\"bytes\":" + std::to_string(ctx.request.body().size()) + "}");
      },
      hs::RouteOptions{.maxBody = kRouteLimit});
  r.addSync(http::verb::get, "/hello", [&calls](hs::RequestContext&) {
    ++calls;
    return hs::jsonResponse(http::status::ok, R"({"hello":"world"})");
  });
  return r;
}

const std::string kChunkedHead = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";

}  // namespace

// Attack: a chunk-size line whose extension never ends. Before, the server kept
// every byte (+252 MiB for 256 MiB sent) and never answered.
TEST(HostileClient, EndlessChunkExtensionIsRefusedWithinTheLimit) {
  std::atomic<int> calls{0};
  RunningServer s{quietConfig(), countingRouter(calls)};
  RawSocket c{s.port};
  const auto sent = bytesUntilRefused(c, kChunkedHead + "1;ext=", std::string(16 * 1024, 'e'), 32 * 1024 * 1024);
  ASSERT_TRUE(sent.has_value()) << "the server was still reading after 32 MiB of one chunk extension";
  EXPECT_LT(*sent, 1024U * 1024U) << "refused only after " << *sent << " bytes";
  EXPECT_EQ(statusOf(c.readAll()), 400);
  EXPECT_EQ(calls.load(), 0);
}

// Attack: a trailer section that never ends after the last chunk.
TEST(HostileClient, EndlessTrailerIsRefusedWithinTheLimit) {
  std::atomic<int> calls{0};
  RunningServer s{quietConfig(), countingRouter(calls)};
  RawSocket c{s.port};
  const auto sent = bytesUntilRefused(c, kChunkedHead + "3\r\nabc\r\n0\r\nX-Trailer: ", std::string(16 * 1024, 't'),
                                      32 * 1024 * 1024);
  ASSERT_TRUE(sent.has_value()) << "the server was still reading after 32 MiB of one trailer";
  EXPECT_LT(*sent, 1024U * 1024U);
  EXPECT_EQ(calls.load(), 0);
}

// Attack: many tiny chunks, each with an extension just under any per-line
// limit: the body stays small while the bytes on the wire grow without end.
TEST(HostileClient, FramingBytesCountAgainstTheBodyLimit) {
  std::atomic<int> calls{0};
  RunningServer s{quietConfig(), countingRouter(calls)};
  RawSocket c{s.port};
  const std::string chunk = "1;" + std::string(2000, 'e') + "\r\nx\r\n";
  const auto sent = bytesUntilRefused(c, kChunkedHead, chunk, 32 * 1024 * 1024);
  ASSERT_TRUE(sent.has_value()) << "the server was still reading after 32 MiB of framing for a tiny body";
  // Header + body limit + the framing allowance (a quarter of the limit, at least 64 KiB) + what was in flight.
  EXPECT_LT(*sent, 1024U * 1024U) << "refused only after " << *sent << " bytes";
  EXPECT_EQ(statusOf(c.readAll()), 413);
  EXPECT_EQ(calls.load(), 0);
}

// An honest chunked upload with ordinary chunk sizes still works.
TEST(HostileClient, OrdinaryChunkedBodyWithinTheLimitIsServed) {
  std::atomic<int> calls{0};
  RunningServer s{quietConfig(), countingRouter(calls)};
  Client c{s.port};
  std::string body;
  for (int i = 0; i < 60; ++i) body += "400\r\n" + std::string(1024, 'a') + "\r\n";
  auto res = c.request(kChunkedHead + body + "0\r\nX-Checksum: 1\r\n\r\n");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "{\"bytes\":61440}");
}

// Attack (request smuggling behind a proxy): a Transfer-Encoding whose final
// coding is not chunked was read as "no body", and the body as a second request.
TEST(HostileClient, TransferEncodingNotEndingInChunkedIs400AndCloses) {
  for (const std::string te : {"gzip", "chunked, gzip", "identity", "chunked;q=1"}) {
    std::atomic<int> calls{0};
    RunningServer s{quietConfig(), countingRouter(calls)};
    RawSocket c{s.port};
    ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + te +
                       "\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    const std::string raw = c.readAll(2s);
    EXPECT_EQ(statusOf(raw), 400) << te << ": " << raw;
    EXPECT_EQ(raw.find("HTTP/1.1 200"), std::string::npos) << te << ": the smuggled request was served";
    EXPECT_EQ(calls.load(), 0) << te;
  }
}

TEST(HostileClient, UnsupportedCodingBeforeChunkedIs501) {
  std::atomic<int> calls{0};
  RunningServer s{quietConfig(), countingRouter(calls)};
  RawSocket c{s.port};
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_EQ(statusOf(c.readAll(2s)), 501);
  EXPECT_EQ(calls.load(), 0);
}

TEST(HostileClient, TransferEncodingOnHttp10Is400) {
  std::atomic<int> calls{0};
  RunningServer s{quietConfig(), countingRouter(calls)};
  RawSocket c{s.port};
  ASSERT_TRUE(c.send("POST /echo HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_EQ(statusOf(c.readAll(2s)), 400);
  EXPECT_EQ(calls.load(), 0);
}

// ---- refusing from the header ------------------------------------------------

namespace {

// POST /private: a guard that wants "Authorization: Bearer good" and hands the
// principal to the handler; JSON only.
hs::Router guardedRouter(std::atomic<int>& guardCalls, std::atomic<int>& handlerCalls) {
  hs::Router r;
  hs::RouteOptions opts{.maxBody = 16 * 1024 * 1024};
  opts.contentType = "application/json";
  opts.guard = [&guardCalls](hs::RequestContext& ctx) -> boost::asio::awaitable<std::optional<hs::Response>> {
    ++guardCalls;
    EXPECT_TRUE(ctx.request.body().empty()) << "the guard must run before the body is read";
    if (hs::bearerToken(ctx.request) != "good") {
      co_return hs::errorResponse(http::status::unauthorized, "missing or wrong key");
    }
    ctx.principal = std::string{"scanner-7"};
    co_return std::nullopt;
  };
  r.addSync(
      http::verb::post, "/private",
      [&handlerCalls](hs::RequestContext& ctx) {
        ++handlerCalls;
        const auto* who = std::any_cast<std::string>(&ctx.principal);
        return hs::jsonResponse(http::status::ok, "{\"who\":\"" + (who != nullptr ? *who : std::string{"?"}) +
                                                      "\",\"bytes\":" + std::to_string(ctx.request.body().size()) +
                                                      "}");
      },
      opts);
  return r;
}

}  // namespace

// Attack: a 16 MiB body with no key. Before, it was read whole before the key
// was looked at, and `Expect: 100-continue` was answered `100 Continue`.
TEST(HostileClient, MissingKeyIs401FromTheHeaderAloneAndNever100Continue) {
  std::atomic<int> guardCalls{0};
  std::atomic<int> handlerCalls{0};
  RunningServer s{quietConfig(), guardedRouter(guardCalls, handlerCalls)};
  for (const bool expectContinue : {true, false}) {
    RawSocket c{s.port};
    ASSERT_TRUE(c.send(std::string{"POST /private HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"} +
                       (expectContinue ? "Expect: 100-continue\r\n" : "") + "Content-Length: 16000000\r\n\r\n"));
    ASSERT_TRUE(c.answered(3s)) << "no answer before the body was sent";
    const std::string raw = c.readAll(2s);
    EXPECT_EQ(statusOf(raw), 401) << raw;
    EXPECT_EQ(raw.find("100 Continue"), std::string::npos) << raw;
  }
  EXPECT_EQ(handlerCalls.load(), 0);
}

TEST(HostileClient, WrongContentTypeIs415BeforeTheBody) {
  std::atomic<int> guardCalls{0};
  std::atomic<int> handlerCalls{0};
  RunningServer s{quietConfig(), guardedRouter(guardCalls, handlerCalls)};
  RawSocket c{s.port};
  ASSERT_TRUE(
      c.send("POST /private HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\n"
             "Content-Type: text/plain\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n"));
  ASSERT_TRUE(c.answered(3s));
  const std::string raw = c.readAll(2s);
  EXPECT_EQ(statusOf(raw), 415) << raw;
  EXPECT_EQ(raw.find("100 Continue"), std::string::npos) << raw;
  EXPECT_EQ(handlerCalls.load(), 0);
}

TEST(HostileClient, AcceptedRequestGets100ThenTheHandlerSeesThePrincipal) {
  std::atomic<int> guardCalls{0};
  std::atomic<int> handlerCalls{0};
  RunningServer s{quietConfig(), guardedRouter(guardCalls, handlerCalls)};
  Client c{s.port};
  c.send(
      "POST /private HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(c.read(3s).result(), http::status::continue_);
  c.send("{}");
  auto res = c.read();
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"who":"scanner-7","bytes":2})");
  EXPECT_EQ(guardCalls.load(), 1);
}

// An honest client that sends a small body without waiting (no Expect) keeps
// its connection after a refusal: the body is read and dropped, not run.
TEST(HostileClient, RefusedSmallBodyIsDroppedAndTheConnectionStaysUsable) {
  std::atomic<int> guardCalls{0};
  std::atomic<int> handlerCalls{0};
  RunningServer s{quietConfig(), guardedRouter(guardCalls, handlerCalls)};
  Client c{s.port};
  auto res = c.request(
      "POST /private HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_TRUE(res.keep_alive());
  res = c.request(
      "POST /private HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(handlerCalls.load(), 1);
}

// A parameter that is not UTF-8 is refused from the header, like a 404: before
// the guard (no credential lookup for it) and before any body byte is read.
TEST(HostileClient, ParameterThatIsNotUtf8Is400BeforeTheGuardAndTheBody) {
  std::atomic<int> guardCalls{0};
  std::atomic<int> handlerCalls{0};
  RunningServer s{quietConfig(), guardedRouter(guardCalls, handlerCalls)};
  RawSocket c{s.port};
  ASSERT_TRUE(
      c.send("POST /private?q=%FF HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\n"
             "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n"));
  ASSERT_TRUE(c.answered(3s));
  const std::string raw = c.readAll(2s);
  EXPECT_EQ(statusOf(raw), 400) << raw;
  EXPECT_NE(raw.find("parameter q is not valid UTF-8"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("100 Continue"), std::string::npos) << raw;
  EXPECT_EQ(guardCalls.load(), 0);
  EXPECT_EQ(handlerCalls.load(), 0);
}

// ---- connection slots ---------------------------------------------------------

// Attack: one address opens far more idle sockets than its share. Before, ~1,100
// idle sockets from one address got nearly every other client a 503.
TEST(HostileClient, OneAddressCannotTakeEveryConnectionSlot) {
  std::atomic<int> calls{0};
  auto cfg = quietConfig();
  cfg.maxConnections = 64;
  cfg.maxConnectionsPerAddress = 16;
  RunningServer s{cfg, countingRouter(calls)};
  std::vector<RawSocket> flood;
  for (int i = 0; i < 100; ++i) flood.emplace_back(s.port, "127.0.0.2");
  // The 84 sockets past the cap are answered 429 and closed; 16 stay open.
  ASSERT_TRUE(attendance::testing::eventually([&] {
    return s.metrics.value("http_connections_rejected_total", {{"reason", "per_address"}}) == 84;
  }));
  EXPECT_EQ(s.server().activeConnections(), 16U);
  int refused = 0;
  for (auto& f : flood) {
    if (f.answered(100ms) && attendance::testing::statusOf(f.readAll(100ms)) == 429) ++refused;
  }
  EXPECT_EQ(refused, 84);
  Client other{s.port};
  EXPECT_EQ(other.request("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").result(), http::status::ok);
}

// Attack from many addresses at once: every slot is held by a socket that never
// sends a byte. A new client evicts the oldest of them instead of getting 503.
TEST(HostileClient, IdleSocketsAreEvictedWhenEverySlotIsTaken) {
  std::atomic<int> calls{0};
  auto cfg = quietConfig();
  cfg.maxConnections = 32;
  cfg.maxConnectionsPerAddress = 0;  // no per-address cap: the flood must be handled by eviction
  RunningServer s{cfg, countingRouter(calls)};
  std::vector<RawSocket> flood;
  for (int i = 0; i < 32; ++i) flood.emplace_back(s.port, "127.0.0.2");
  ASSERT_TRUE(attendance::testing::eventually([&] { return s.server().activeConnections() == 32; }));
  const auto started = std::chrono::steady_clock::now();
  Client other{s.port};
  EXPECT_EQ(other.request("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").result(), http::status::ok);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_GE(s.metrics.value("http_connections_evicted_total"), 1);
  EXPECT_TRUE(flood.front().closedByPeer(2s)) << "the oldest idle socket is the one evicted";
}

// The connection evicted is the one idle the longest, not the oldest: a scanner
// that keeps its connection alive between batches (idle a few milliseconds)
// must not lose it to a flood of newer sockets that never send a byte.
TEST(HostileClient, EvictionSparesAKeptAliveClientThatWasIdleOnlyBriefly) {
  std::atomic<int> calls{0};
  auto cfg = quietConfig();
  cfg.maxConnections = 8;
  cfg.maxConnectionsPerAddress = 0;
  RunningServer s{cfg, countingRouter(calls)};
  Client regular{s.port};  // connected first: the oldest connection
  EXPECT_EQ(regular.request("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").result(), http::status::ok);
  std::vector<RawSocket> flood;
  for (int i = 0; i < 7; ++i) flood.emplace_back(s.port, "127.0.0.2");
  ASSERT_TRUE(attendance::testing::eventually([&] { return s.server().activeConnections() == 8; }));
  std::this_thread::sleep_for(100ms);
  // The regular client's next request: its connection was idle for a moment only.
  EXPECT_EQ(regular.request("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").result(), http::status::ok);
  Client newcomer{s.port};
  EXPECT_EQ(newcomer.request("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").result(), http::status::ok);
  EXPECT_EQ(s.metrics.value("http_connections_evicted_total"), 1);
  EXPECT_TRUE(flood.front().closedByPeer(2s)) << "the socket idle the longest is the one evicted";
  EXPECT_EQ(regular.request("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").result(), http::status::ok)
      << "the kept-alive connection survived";
  EXPECT_EQ(calls.load(), 4);
}
