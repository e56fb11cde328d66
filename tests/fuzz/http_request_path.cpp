// Fuzz target: the shared HTTP layer's whole request path (libs/http_server),
// bytes in and responses out with no socket (Server::serveBytes): framing,
// limits, routing, the header guard, 100-continue, the body and the handler,
// over routes shaped like the servers' own. The first input byte picks the
// read size, so requests also arrive split at every possible point.
//
// Properties: the answer is a sequence of whole HTTP/1.1 responses; no 500;
// a guarded handler only runs after its guard let the request through; no
// `100 Continue` is sent to a request the guard refused.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <attendance/http_server/server.hpp>

#include "request_path.hpp"

namespace {

namespace hs = attendance::http_server;
namespace http = boost::beast::http;

struct Counts {
  std::size_t guardPassed = 0;
};

hs::Router makeRouter(Counts& counts) {
  hs::Router r;
  hs::RouteOptions keyed;
  keyed.maxBody = 4096;
  keyed.contentType = "application/json";
  keyed.guard = [&counts](hs::RequestContext& ctx) -> boost::asio::awaitable<std::optional<hs::Response>> {
    if (!ctx.request.body().empty()) std::abort();  // the guard runs before any body byte is read
    if (ctx.request[http::field::authorization] != "Bearer good-key") {
      co_return hs::errorResponse(http::status::unauthorized, "missing or invalid key");
    }
    ++counts.guardPassed;
    ctx.principal = std::string{"scanner-1"};
    co_return std::nullopt;
  };
  r.addSync(
      http::verb::post, "/batch",
      [](hs::RequestContext& ctx) {
        if (!ctx.principal.has_value()) std::abort();  // reached without the guard
        return hs::jsonResponse(http::status::ok, "{\"bytes\":" + std::to_string(ctx.request.body().size()) + "}");
      },
      keyed);
  hs::RouteOptions open;
  open.maxBody = 1024;
  open.guard = [&counts](hs::RequestContext&) -> boost::asio::awaitable<std::optional<hs::Response>> {
    ++counts.guardPassed;  // admits everything: a 100 Continue here is legitimate
    co_return std::nullopt;
  };
  r.addSync(
      http::verb::put, "/notes/{id}",
      [](hs::RequestContext& ctx) {
        return hs::textResponse(http::status::ok, std::string{ctx.params.at("id")}, "text/plain");
      },
      open);
  r.addSync(http::verb::get, "/events/{id}/report", [](hs::RequestContext& ctx) {
    return hs::textResponse(http::status::ok, std::string{ctx.params.at("id")} + "?" + std::string{ctx.query},
                            "text/plain");
  });
  return r;
}

std::size_t count(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One server for every input (as one process serves every client); the
  // counters restart per input.
  static Counts counts;
  static hs::MetricsRegistry metrics;
  static hs::Server server = [] {
    hs::ServerConfig cfg;
    cfg.headerLimit = 2048;
    cfg.framingLimit = 256;
    cfg.bodyLimit = 2048;
    cfg.accessLog = false;
    return hs::Server{cfg, makeRouter(counts), metrics};
  }();
  counts = {};
  const std::string out = attendance::fuzz::serveInput(server, metrics, data, size);
  if (count(out, "HTTP/1.1 100 Continue") > counts.guardPassed) std::abort();
  return 0;
}
