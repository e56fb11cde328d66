#pragma once
// One connection's requests, over any stream: wait for a request, read its
// header, decide from the header alone (route, framing, declared length, the
// route's guard, media type), only then read the body (each byte counted), run
// the handler, write and record the response. docs/http-server.md walks
// through the same steps.
//
// Templates on the connection type so the same code serves a TCP connection
// (request_cycle.cpp) and bytes held in memory (in_memory.cpp: fuzzers and
// tests reach the whole request path without a socket). A connection type has
// `stream` (an Asio stream with expires_after), `remote` and `idle`.
#include <limits>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include <attendance/http_server/utf8_params.hpp>
#include <attendance/support/log.hpp>
#include "framing.hpp"
#include "server_impl.hpp"

namespace attendance::http_server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace log = support::log;

namespace detail {

inline bool quietEnd(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == http::error::partial_message;
}

inline Response refusal(http::status status, std::string_view message) { return errorResponse(status, message); }

}  // namespace detail

using detail::Exchange;
using detail::quietEnd;
using detail::refusal;
using detail::tok;

template <class Conn>
asio::awaitable<bool> Server::Impl::serveRequests(Conn& c) {
  // The buffer's ceiling bounds every element that must be held whole: the
  // header block, one chunk-size line with its extensions, the trailers.
  beast::flat_buffer buffer{detail::readBufferLimit(cfg.headerLimit, cfg.framingLimit)};
  bool first = true;
  for (;;) {
    if (buffer.size() == 0) {
      c.idleSince = std::chrono::steady_clock::now().time_since_epoch().count();
      c.idle = true;
      if (stopping.load()) co_return true;
      c.stream.expires_after(first ? cfg.headerTimeout : cfg.idleTimeout);
      auto [rec, n] = co_await c.stream.async_read_some(buffer.prepare(4096), tok);
      c.idle = false;
      if (rec) {
        if (rec == beast::error::timeout && first) metrics.increment("http_timeouts_total", {{"phase", "header"}});
        co_return false;
      }
      buffer.commit(n);
    }
    first = false;
    if (!co_await handleOne(c, buffer)) co_return true;
  }
}

template <class Conn>
asio::awaitable<bool> Server::Impl::handleOne(Conn& c, beast::flat_buffer& buffer) {
  Exchange x;
  x.started = clock.monotonicTime();
  if (!co_await readAndDispatch(c, buffer, x)) co_return false;
  co_return co_await writeAndRecord(c, x);
}

template <class Conn>
asio::awaitable<bool> Server::Impl::readAndDispatch(Conn& c, beast::flat_buffer& buffer, Exchange& x) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(cfg.headerLimit, UINT32_MAX)));
  // Beast would reject a large Content-Length inside the header read with a
  // generic error; the route's own limit is applied below, from the header.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());

  c.stream.expires_after(cfg.headerTimeout);
  auto [hec, hn] = co_await http::async_read_header(c.stream, buffer, parser, tok);
  (void)hn;
  if (hec) {
    if (hec == beast::error::timeout) {
      metrics.increment("http_timeouts_total", {{"phase", "header"}});
      log::info("http.timeout", {{"phase", "header"}, {"remote", c.remote.to_string()}});
      co_return false;
    }
    if (quietEnd(hec)) co_return false;
    x.response = hec == http::error::header_limit || hec == http::error::buffer_overflow
                     ? refusal(http::status::request_header_fields_too_large, "request header too large")
                     : refusal(http::status::bad_request, "malformed HTTP request: " + hec.message());
    co_return true;
  }

  const Request& head = parser.get();
  // Metric labels must stay bounded: unknown methods are all "OTHER".
  x.method = head.method() == http::verb::unknown ? std::string{"OTHER"} : std::string{http::to_string(head.method())};
  const auto [path, query] = splitTarget(head.target());
  x.target = std::string{path};
  x.keepAlive = head.keep_alive();
  const bool hasBody = !parser.is_done();

  if (auto bad = detail::checkTransferEncoding(head)) {
    // The body's end cannot be found: nothing after this header can be trusted.
    x.response = refusal(bad->status, bad->message);
    x.keepAlive = false;
    co_return true;
  }
  RouteMatch m = router.match(head.method(), path);
  if (m.route == nullptr) {
    x.response = refusal(m.error, m.error == http::status::not_found ? "not found" : "method not allowed");
    if (!m.allow.empty()) x.response.set(http::field::allow, m.allow);
    if (hasBody) x.keepAlive = false;  // never read a body nobody will use
    co_return true;
  }
  const Route& route = *m.route;
  x.route = route.pattern;
  // Text the client chose is UTF-8 or refused here, like a 404: no credential is
  // looked up and no body read for it. The one place this is checked.
  auto notUtf8 = invalidUtf8InPath(m.params);
  if (!notUtf8) notUtf8 = invalidUtf8InQuery(query);
  if (notUtf8) {
    x.response = refusal(http::status::bad_request, *notUtf8);
    if (hasBody) x.keepAlive = x.keepAlive && co_await discardBody(c, buffer, parser);
    co_return true;
  }
  const std::size_t limit = route.options.maxBody != 0 ? route.options.maxBody : cfg.bodyLimit;
  if (const auto length = parser.content_length(); length && *length > limit) {
    // Answered from the header alone: the body is never read (and with
    // Expect: 100-continue the client never sends it).
    x.response = refusal(http::status::payload_too_large,
                         fmt::format("request body of {} bytes exceeds the limit of {} bytes", *length, limit));
    x.keepAlive = false;
    co_return true;
  }

  // The guard sees the header (body still unread); what it finds goes on to the handler.
  // The one place the client's address is decided (X-Forwarded-For from a trusted proxy only).
  RequestContext guardContext{head, std::move(m.params), path, query, clientAddress(c.remote, head)};
  if (guardContext.remote != c.remote) x.client = guardContext.remote;
  std::optional<Response> refused;
  if (route.options.guard) {
    refused = co_await invokeSafely(x.route, [&]() { return route.options.guard(guardContext); });
  }
  if (!refused && hasBody && !route.options.contentType.empty() && !hasMediaType(head, route.options.contentType)) {
    refused = refusal(http::status::unsupported_media_type,
                      fmt::format("Content-Type must be {}", route.options.contentType));
  }
  if (refused) {
    x.response = std::move(*refused);
    if (hasBody) x.keepAlive = x.keepAlive && co_await discardBody(c, buffer, parser);
    co_return true;
  }

  if (hasBody) {
    switch (co_await readBody(c, buffer, parser, limit, x)) {
      case BodyRead::read: break;
      case BodyRead::refused: co_return true;
      case BodyRead::closed: co_return false;
    }
  }

  Request request = parser.release();
  const auto [p, q] = splitTarget(request.target());
  RequestContext ctx{
      request, std::move(guardContext.params), p, q, guardContext.remote, std::move(guardContext.principal)};
  auto response = co_await invokeSafely(
      x.route, [&]() -> asio::awaitable<std::optional<Response>> { co_return co_await route.handler(ctx); });
  x.response = std::move(*response);
  co_return true;
}

template <class Conn>
asio::awaitable<Server::Impl::BodyRead> Server::Impl::readBody(Conn& c, beast::flat_buffer& buffer,
                                                               http::request_parser<http::string_body>& parser,
                                                               std::size_t limit, Exchange& x) {
  parser.body_limit(limit);
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
    c.stream.expires_after(cfg.writeTimeout);
    auto [cec, cn] = co_await http::async_write(c.stream, cont, tok);
    (void)cn;
    if (cec) co_return BodyRead::closed;
  }
  // Every byte on the wire counts, framing included: chunk-size lines, their
  // extensions and trailers draw on the same budget as the body.
  const std::uint64_t budget = detail::bodyWireBudget(limit);
  std::uint64_t used = 0;
  c.stream.expires_after(cfg.bodyTimeout);
  while (!parser.is_done()) {
    auto [ec, n] = co_await http::async_read_some(c.stream, buffer, parser, tok);
    used += n;
    if (!ec && used > budget) {
      x.response =
          refusal(http::status::payload_too_large,
                  fmt::format("request uses more than {} bytes on the wire (body limit {} bytes)", budget, limit));
      x.keepAlive = false;
      co_return BodyRead::refused;
    }
    if (!ec) continue;
    if (ec == http::error::body_limit) {
      x.response =
          refusal(http::status::payload_too_large, fmt::format("request body exceeds the limit of {} bytes", limit));
    } else if (ec == http::error::buffer_overflow) {
      x.response = refusal(http::status::bad_request,
                           fmt::format("a chunk-size line or the trailers exceed {} bytes", cfg.framingLimit));
    } else if (ec == beast::error::timeout) {
      metrics.increment("http_timeouts_total", {{"phase", "body"}});
      log::info("http.timeout", {{"phase", "body"}, {"remote", c.remote.to_string()}, {"route", x.route}});
      co_return BodyRead::closed;
    } else if (quietEnd(ec)) {
      co_return BodyRead::closed;
    } else {
      x.response = refusal(http::status::bad_request, "malformed HTTP body: " + ec.message());
    }
    x.keepAlive = false;
    co_return BodyRead::refused;
  }
  co_return BodyRead::read;
}

// After a refusal decided on the header: a small body the client is sending
// anyway (declared length, no `Expect: 100-continue`) is read and dropped so the
// connection stays usable; anything else closes it (a client waiting for
// `100 Continue` would never send its body, and a large one is not worth reading).
template <class Conn>
asio::awaitable<bool> Server::Impl::discardBody(Conn& c, beast::flat_buffer& buffer,
                                                http::request_parser<http::string_body>& parser) {
  constexpr std::uint64_t kDiscardLimit = 64 * 1024;
  const auto length = parser.content_length();
  if (!length || *length > kDiscardLimit || beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    co_return false;
  }
  parser.body_limit(kDiscardLimit);
  c.stream.expires_after(cfg.bodyTimeout);
  auto [ec, n] = co_await http::async_read(c.stream, buffer, parser, tok);
  (void)n;
  co_return !ec;
}

template <class Conn>
asio::awaitable<bool> Server::Impl::writeAndRecord(Conn& c, Exchange& x) {
  Response& res = x.response;
  const bool keep = x.keepAlive && !stopping.load();
  res.version(11);
  res.keep_alive(keep);
  res.set(http::field::server, cfg.serverName);
  res.prepare_payload();
  const double seconds = std::chrono::duration<double>(clock.monotonicTime() - x.started).count();
  const auto status = static_cast<unsigned>(res.result_int());
  metrics.increment("http_requests_total",
                    {{"method", x.method}, {"route", x.route}, {"status", std::to_string(status)}});
  metrics.observe("http_request_duration_seconds", {{"route", x.route}}, seconds);
  if (cfg.accessLog) {
    log::info("http.access", {{"method", x.method},
                              {"path", x.target},
                              {"route", x.route},
                              {"status", status},
                              {"duration_ms", seconds * 1000.0},
                              {"bytes_out", res.body().size()},
                              {"remote", (x.client ? *x.client : c.remote).to_string()}});
  }
  c.stream.expires_after(cfg.writeTimeout);
  boost::system::error_code wec;
  std::size_t written = 0;
  if (x.method == "HEAD") {
    http::response_serializer<http::string_body> sr{res};
    std::tie(wec, written) = co_await http::async_write_header(c.stream, sr, tok);
  } else {
    std::tie(wec, written) = co_await http::async_write(c.stream, res, tok);
  }
  (void)written;
  co_return keep && !wec;
}

}  // namespace attendance::http_server
