// Server::serveBytes: the request path a TCP connection runs, over bytes in
// memory (what the request-path fuzz targets drive). The answers must be those
// a socket client gets, however the bytes are split into reads.
#include <gtest/gtest.h>

#include <string>

#include <attendance/http_server/server.hpp>

namespace hs = attendance::http_server;
namespace http = boost::beast::http;

namespace {

struct Served {
  int handlerRuns = 0;
  int guardRuns = 0;
};

hs::Router router(Served& served) {
  hs::Router r;
  r.addSync(http::verb::get, "/hello/{name}", [&served](hs::RequestContext& ctx) {
    ++served.handlerRuns;
    return hs::textResponse(http::status::ok, "hi " + ctx.params.at("name"), "text/plain");
  });
  hs::RouteOptions keyed;
  keyed.guard = [&served](hs::RequestContext& ctx) -> boost::asio::awaitable<std::optional<hs::Response>> {
    ++served.guardRuns;
    if (ctx.request[http::field::authorization] != "Bearer k") {
      co_return hs::errorResponse(http::status::unauthorized, "no key");
    }
    co_return std::nullopt;
  };
  r.addSync(
      http::verb::post, "/upload",
      [&served](hs::RequestContext& ctx) {
        ++served.handlerRuns;
        return hs::textResponse(http::status::ok, std::to_string(ctx.request.body().size()), "text/plain");
      },
      keyed);
  return r;
}

hs::ServerConfig quiet() {
  hs::ServerConfig cfg;
  cfg.accessLog = false;
  return cfg;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(ServeBytes, PipelinedRequestsAreAnsweredInOrderWhateverTheReadSize) {
  const std::string wire =
      "GET /hello/ada HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\n0\r\n\r\n"
      "GET /hello/bob HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string first;
  for (std::size_t readSize : {4096, 7, 1}) {
    Served served;
    hs::MetricsRegistry metrics;
    hs::Server server{quiet(), router(served), metrics};
    const std::string out = server.serveBytes(wire, readSize);
    EXPECT_EQ(count(out, "HTTP/1.1 200 OK"), 3u) << out;
    const auto ada = out.find("hi ada");
    const auto three = out.find("\r\n\r\n3");
    const auto bob = out.find("hi bob");
    EXPECT_TRUE(ada < three && three < bob) << out;
    EXPECT_EQ(served.handlerRuns, 3);
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << "read size " << readSize;
  }
}

TEST(ServeBytes, ARefusedGuardGetsNoContinueAndTheBodyIsNeverRead) {
  Served served;
  hs::MetricsRegistry metrics;
  hs::Server server{quiet(), router(served), metrics};
  const std::string out =
      server.serveBytes("POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n" +
                        std::string(1000, 'x'));
  EXPECT_EQ(out.find("100 Continue"), std::string::npos) << out;
  EXPECT_EQ(out.rfind("HTTP/1.1 401", 0), 0u) << out;
  EXPECT_EQ(served.guardRuns, 1);
  EXPECT_EQ(served.handlerRuns, 0);
}

TEST(ServeBytes, ASmuggledRequestBehindABadTransferEncodingIsNeverServed) {
  Served served;
  hs::MetricsRegistry metrics;
  hs::Server server{quiet(), router(served), metrics};
  const std::string out = server.serveBytes(
      "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
      "GET /hello/smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(count(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_EQ(served.handlerRuns, 0);
  EXPECT_EQ(out.find("smuggled"), std::string::npos);
}
