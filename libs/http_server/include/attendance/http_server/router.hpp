#pragma once

#include <any>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <attendance/http_server/message.hpp>

namespace attendance::http_server {

// What a handler sees: the request (header and full body), the path parameters
// and the remote address. Handlers never touch sockets, so they can be called
// directly from tests.
struct RequestContext {
  const Request& request;
  PathParams params;
  std::string_view path;   // target without the query string
  std::string_view query;  // after '?', may be empty
  boost::asio::ip::address remote;
  // Whatever the route's guard established from the header (a scanner id, a
  // session), handed on to the handler so it is not looked up twice.
  std::any principal{};
};

using AsyncHandler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;
using SyncHandler = std::function<Response(RequestContext&)>;

// Runs on the request header alone: `ctx.request` has its fields but an empty
// body, which has not been read (nor `100 Continue` sent). Returns the refusal
// to send instead (401, 403, 429 …; the body is then never read and the
// connection closes if one was announced), or nullopt to go on; it may set
// `ctx.principal` for the handler.
using HeaderGuard = std::function<boost::asio::awaitable<std::optional<Response>>(RequestContext&)>;

struct RouteOptions {
  // Overrides the server-wide body limit for this route (checked against
  // Content-Length before the body is read). 0 = use the server's limit.
  std::size_t maxBody = 0;
  // Authentication and other checks on the header, before any body byte is read.
  HeaderGuard guard{};
  // When set, a request that carries a body must declare this media type
  // (parameters such as charset ignored), or it gets 415 before the body is read.
  std::string contentType{};
};

struct Route {
  http::verb method;
  std::string pattern;  // "/api/events/{id}/registrations"; used as the metrics label
  AsyncHandler handler;
  RouteOptions options;
  std::vector<std::string> segments;  // split pattern
};

struct RouteMatch {
  // Exactly one of: a route, or an error status (404 / 405 with `allow`).
  const Route* route = nullptr;
  PathParams params;
  http::status error = http::status::ok;
  std::string allow;  // "GET, POST" for 405
};

class Router {
public:
  Router& add(http::verb method, std::string pattern, AsyncHandler handler, RouteOptions options = {});
  Router& addSync(http::verb method, std::string pattern, SyncHandler handler, RouteOptions options = {});

  // Pure: finds the route for a method and path (no query string).
  [[nodiscard]] RouteMatch match(http::verb method, std::string_view path) const;
  [[nodiscard]] bool hasPattern(std::string_view pattern) const;
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

private:
  std::vector<Route> routes_;
};

// Splits a target into path and query.
[[nodiscard]] std::pair<std::string_view, std::string_view> splitTarget(std::string_view target);

}  // namespace attendance::http_server
