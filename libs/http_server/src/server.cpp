#include "attendance/http_server/server.hpp"

#include <charconv>
#include <limits>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "attendance/http_server/blocking_pool.hpp"
#include "attendance/support/clock.hpp"
#include "attendance/support/log.hpp"

namespace attendance::http_server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
namespace log = support::log;

std::pair<std::string, std::uint16_t> parseListenAddress(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("listen address must be host:port");
  std::string_view host = text.substr(0, colon);
  const std::string_view portText = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  const auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (portText.empty() || ec != std::errc{} || ptr != portText.data() + portText.size() || port > 65535) {
    throw std::invalid_argument("invalid port in listen address '" + std::string{text} + "'");
  }
  return {std::string{host}, static_cast<std::uint16_t>(port)};
}

namespace {

struct Connection {
  explicit Connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  // Touched only on the connection's strand.
  bool idle = true;
};

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

}  // namespace

// Handlers capture a raw Impl*: the Impl owns the io_context, so it outlives
// every handler that runs, and handlers still queued when the Server is
// destroyed are destroyed with the io_context without running (a shared_ptr
// capture would form a cycle and leak after a drain deadline).
struct Server::Impl {
  Impl(ServerConfig c, Router r, MetricsRegistry& m, const support::TimeSource* clk)
      : cfg(std::move(c)),
        router(std::move(r)),
        metrics(m),
        clock(clk != nullptr ? *clk : realClock),
        ioc(static_cast<int>(std::max(1U, cfg.ioThreads))),
        acceptor(ioc),
        control(asio::make_strand(ioc)),
        drainTimer(control) {}

  ServerConfig cfg;
  Router router;
  MetricsRegistry& metrics;
  support::RealTimeSource realClock;
  const support::TimeSource& clock;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::strand<asio::io_context::executor_type> control;
  asio::steady_timer drainTimer;
  std::optional<asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  bool listening = false;

  mutable std::mutex connMutex;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> conns;
  std::uint64_t nextId = 0;

  void registerBuiltinRoutes();
  tcp::endpoint listen();
  asio::awaitable<void> acceptLoop();
  asio::awaitable<void> session(std::shared_ptr<Connection> c, std::uint64_t id);
  asio::awaitable<bool> handleOne(Connection& c, beast::flat_buffer& buffer, const asio::ip::address& remote);
  asio::awaitable<void> rejectBusy(tcp::socket sock);
  asio::awaitable<void> lingeringClose(Connection& c);
  void beginDrain();
  std::size_t activeCount() const {
    std::lock_guard lock{connMutex};
    return conns.size();
  }
  void connectionClosed(std::uint64_t id);
  void forEachConnection(const std::function<void(const std::shared_ptr<Connection>&)>& fn);
};

void Server::Impl::registerBuiltinRoutes() {
  metrics.describeCounter("http_requests_total", "HTTP requests by route pattern, method and status");
  metrics.describeHistogram("http_request_duration_seconds", "Time from request header to response written",
                            {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  metrics.describeGauge("http_connections_active", "Open client connections");
  metrics.describeCounter("http_connections_rejected_total", "Connections refused because of max connections");
  metrics.describeCounter("http_timeouts_total", "Connections closed by a read timeout, by phase");
  metrics.setGauge("http_connections_active", {}, 0);

  if (!router.hasPattern("/healthz")) {
    router.addSync(http::verb::get, "/healthz", [this](RequestContext&) {
      // Fails during drain so a load balancer stops sending new work.
      if (stopping.load()) return errorResponse(http::status::service_unavailable, "draining");
      return jsonResponse(http::status::ok, R"({"status":"ok"})");
    });
  }
  if (!router.hasPattern("/readyz")) {
    router.addSync(http::verb::get, "/readyz", [this](RequestContext&) {
      if (stopping.load()) return errorResponse(http::status::service_unavailable, "draining");
      if (cfg.readiness && !cfg.readiness()) return errorResponse(http::status::service_unavailable, "not ready");
      return jsonResponse(http::status::ok, R"({"status":"ready"})");
    });
  }
  if (!router.hasPattern("/metrics")) {
    router.addSync(http::verb::get, "/metrics", [this](RequestContext&) {
      return textResponse(http::status::ok, metrics.renderPrometheus(), MetricsRegistry::kContentType);
    });
  }
}

tcp::endpoint Server::Impl::listen() {
  if (listening) return acceptor.local_endpoint();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(cfg.host, ec);
  tcp::endpoint ep;
  if (ec) {
    tcp::resolver resolver{ioc};
    auto results = resolver.resolve(cfg.host, std::to_string(cfg.port));
    ep = *results.begin();
  } else {
    ep = tcp::endpoint{address, cfg.port};
  }
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  listening = true;
  const auto bound = acceptor.local_endpoint();
  log::info("http.listening", {{"address", bound.address().to_string()}, {"port", bound.port()}});
  return bound;
}

void Server::Impl::forEachConnection(const std::function<void(const std::shared_ptr<Connection>&)>& fn) {
  std::vector<std::shared_ptr<Connection>> snapshot;
  {
    std::lock_guard lock{connMutex};
    snapshot.reserve(conns.size());
    for (auto& [id, c] : conns) snapshot.push_back(c);
  }
  for (auto& c : snapshot) fn(c);
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  Impl* self = this;
  asio::steady_timer backoff{ioc};
  while (!stopping.load()) {
    tcp::socket sock{asio::make_strand(ioc)};
    auto [ec] = co_await acceptor.async_accept(sock, tok);
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("http.accept_failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds{50});
      co_await backoff.async_wait(tok);
      continue;
    }
    if (activeCount() >= cfg.maxConnections) {
      metrics.increment("http_connections_rejected_total");
      auto ex = sock.get_executor();
      asio::co_spawn(ex, rejectBusy(std::move(sock)), asio::detached);
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(sock));
    std::uint64_t id = 0;
    {
      std::lock_guard lock{connMutex};
      id = ++nextId;
      conns.emplace(id, conn);
    }
    metrics.addGauge("http_connections_active", {}, 1);
    asio::co_spawn(conn->stream.get_executor(), session(conn, id), [self, id](const std::exception_ptr& e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("http.session_failed", {{"error", ex.what()}});
        }
      }
      self->connectionClosed(id);
    });
  }
}

asio::awaitable<void> Server::Impl::rejectBusy(tcp::socket sock) {
  beast::tcp_stream stream{std::move(sock)};
  auto res = errorResponse(http::status::service_unavailable, "too many connections");
  res.set(http::field::retry_after, "1");
  res.keep_alive(false);
  stream.expires_after(std::chrono::seconds{2});
  co_await http::async_write(stream, res, tok);
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

void Server::Impl::connectionClosed(std::uint64_t id) {
  metrics.addGauge("http_connections_active", {}, -1);
  asio::post(control, [self = this, id] {
    bool empty = false;
    {
      std::lock_guard lock{self->connMutex};
      self->conns.erase(id);
      empty = self->conns.empty();
    }
    if (empty && self->stopping.load()) self->drainTimer.cancel();
  });
}

void Server::Impl::beginDrain() {
  if (stopping.exchange(true)) return;
  log::info("http.draining", {{"connections", static_cast<std::int64_t>(activeCount())},
                              {"deadline_ms", static_cast<std::int64_t>(cfg.drainTimeout.count())}});
  boost::system::error_code ec;
  acceptor.close(ec);
  if (signals) signals->cancel(ec);
  // Idle keep-alive connections are closed now; busy ones finish their request
  // and then close because stopping is set.
  forEachConnection([](const std::shared_ptr<Connection>& c) {
    asio::post(c->stream.get_executor(), [c] {
      // A request whose bytes already sit in the socket buffer is in flight,
      // not idle: closing now would answer it with a RST.
      boost::system::error_code availableEc;
      if (c->idle && c->stream.socket().available(availableEc) == 0) c->stream.cancel();
    });
  });
  if (activeCount() == 0) return;
  drainTimer.expires_after(cfg.drainTimeout);
  drainTimer.async_wait([self = this](boost::system::error_code waitEc) {
    if (waitEc) return;  // everything closed in time
    log::warn("http.drain_deadline", {{"closing", static_cast<std::int64_t>(self->activeCount())}});
    self->forEachConnection([](const std::shared_ptr<Connection>& c) {
      asio::post(c->stream.get_executor(), [c] { c->stream.close(); });
    });
    // Handlers still awaiting something (a timer, the database) cannot be
    // cancelled from here: give the closes a moment to go out, then stop the
    // event loop so run() returns. Callers join their BlockingPool before
    // destroying the Server, so abandoned work never outlives its frame.
    self->drainTimer.expires_after(std::chrono::milliseconds{50});
    self->drainTimer.async_wait([self](boost::system::error_code) { self->ioc.stop(); });
  });
}

asio::awaitable<void> Server::Impl::lingeringClose(Connection& c) {
  // Half-close, then read (and discard) what the client still sends for a short
  // while, so the kernel does not answer unread data with a RST that would
  // destroy the response we just wrote (e.g. a 413 sent before the body).
  boost::system::error_code ec;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::array<char, 16 * 1024> scratch{};
  std::size_t total = 0;
  c.stream.expires_after(std::chrono::seconds{1});
  while (total < 4 * 1024 * 1024) {
    auto [rec, n] = co_await c.stream.async_read_some(asio::buffer(scratch), tok);
    if (rec) break;
    total += n;
  }
  c.stream.close();
}

asio::awaitable<void> Server::Impl::session(std::shared_ptr<Connection> c, std::uint64_t /*id*/) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  const auto remote = c->stream.socket().remote_endpoint(ec).address();
  bool first = true;
  bool graceful = true;
  for (;;) {
    if (buffer.size() == 0) {
      c->idle = true;
      if (stopping.load()) break;
      c->stream.expires_after(first ? cfg.headerTimeout : cfg.idleTimeout);
      auto [rec, n] = co_await c->stream.async_read_some(buffer.prepare(4096), tok);
      c->idle = false;
      if (rec) {
        if (rec == beast::error::timeout && first) metrics.increment("http_timeouts_total", {{"phase", "header"}});
        graceful = false;
        break;
      }
      buffer.commit(n);
    }
    first = false;
    const bool keep = co_await handleOne(*c, buffer, remote);
    if (!keep) break;
  }
  if (graceful && c->stream.socket().is_open()) co_await lingeringClose(*c);
  c->stream.close();
}

asio::awaitable<bool> Server::Impl::handleOne(Connection& c, beast::flat_buffer& buffer,
                                              const asio::ip::address& remote) {
  const auto started = clock.monotonicTime();
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(cfg.headerLimit, UINT32_MAX)));
  // Beast would reject a large Content-Length inside the header read with a
  // generic error; the route's own limit is applied below, from the header.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());

  c.stream.expires_after(cfg.headerTimeout);
  auto [hec, hn] = co_await http::async_read_header(c.stream, buffer, parser, tok);
  (void)hn;

  Response res;
  bool keep = false;
  bool haveResponse = false;
  std::string routeLabel = "unmatched";
  std::string method = "-";
  std::string target = "-";

  if (hec) {
    if (hec == beast::error::timeout) {
      metrics.increment("http_timeouts_total", {{"phase", "header"}});
      log::info("http.timeout", {{"phase", "header"}, {"remote", remote.to_string()}});
      co_return false;
    }
    if (hec == http::error::end_of_stream || hec == asio::error::eof || hec == asio::error::operation_aborted ||
        hec == asio::error::connection_reset) {
      co_return false;
    }
    if (hec == http::error::header_limit) {
      res = errorResponse(http::status::request_header_fields_too_large, "request header too large");
    } else {
      res = errorResponse(http::status::bad_request, "malformed HTTP request: " + hec.message());
    }
    haveResponse = true;
  } else {
    const auto& head = parser.get();
    // Metric labels must stay bounded: unknown methods are all "OTHER".
    method = head.method() == http::verb::unknown ? std::string{"OTHER"} : std::string{http::to_string(head.method())};
    const auto [path, query] = splitTarget(head.target());
    target = std::string{path};
    keep = head.keep_alive();
    RouteMatch m = router.match(head.method(), path);
    const bool hasBody = !parser.is_done();
    if (m.route == nullptr) {
      res = errorResponse(m.error, m.error == http::status::not_found ? "not found" : "method not allowed");
      if (!m.allow.empty()) res.set(http::field::allow, m.allow);
      if (hasBody) keep = false;  // never read a body nobody will use
      haveResponse = true;
    } else {
      routeLabel = m.route->pattern;
      const std::size_t limit = m.route->options.maxBody != 0 ? m.route->options.maxBody : cfg.bodyLimit;
      const auto contentLength = parser.content_length();
      if (contentLength && *contentLength > limit) {
        // Answered from the header alone: the body is never read (and with
        // Expect: 100-continue the client never sends it).
        res = errorResponse(http::status::payload_too_large,
                            fmt::format("request body of {} bytes exceeds the limit of {} bytes", *contentLength, limit));
        keep = false;
        haveResponse = true;
      } else if (hasBody) {
        parser.body_limit(limit);
        if (beast::iequals(head[http::field::expect], "100-continue")) {
          http::response<http::empty_body> cont{http::status::continue_, head.version()};
          c.stream.expires_after(cfg.writeTimeout);
          auto [cec, cn] = co_await http::async_write(c.stream, cont, tok);
          (void)cn;
          if (cec) co_return false;
        }
        c.stream.expires_after(cfg.bodyTimeout);
        auto [bec, bn] = co_await http::async_read(c.stream, buffer, parser, tok);
        if (bec == http::error::body_limit) {
          res = errorResponse(http::status::payload_too_large,
                              fmt::format("request body exceeds the limit of {} bytes", limit));
          keep = false;
          haveResponse = true;
        } else if (bec == beast::error::timeout) {
          metrics.increment("http_timeouts_total", {{"phase", "body"}});
          log::info("http.timeout", {{"phase", "body"}, {"remote", remote.to_string()}, {"route", routeLabel}});
          co_return false;
        } else if (bec) {
          if (bec == http::error::partial_message || bec == asio::error::eof || bec == asio::error::connection_reset) {
            co_return false;
          }
          res = errorResponse(http::status::bad_request, "malformed HTTP body: " + bec.message());
          keep = false;
          haveResponse = true;
        }
      }
      if (!haveResponse) {
        Request req = parser.release();
        const auto [p, q] = splitTarget(req.target());
        RequestContext ctx{req, std::move(m.params), p, q, remote};
        std::exception_ptr failure;
        try {
          res = co_await m.route->handler(ctx);
        } catch (...) {
          failure = std::current_exception();
        }
        if (failure) {
          try {
            std::rethrow_exception(failure);
          } catch (const PoolSaturated&) {
            res = errorResponse(http::status::service_unavailable, "server busy, retry later");
            res.set(http::field::retry_after, "1");
          } catch (const std::exception& e) {
            log::error("http.handler_failed", {{"route", routeLabel}, {"error", e.what()}});
            res = errorResponse(http::status::internal_server_error, "internal server error");
          }
        }
        haveResponse = true;
      }
    }
  }

  if (stopping.load()) keep = false;
  res.version(11);
  res.keep_alive(keep);
  res.set(http::field::server, cfg.serverName);
  res.prepare_payload();
  const double seconds = std::chrono::duration<double>(clock.monotonicTime() - started).count();
  const auto status = static_cast<unsigned>(res.result_int());
  metrics.increment("http_requests_total", {{"method", method}, {"route", routeLabel}, {"status", std::to_string(status)}});
  metrics.observe("http_request_duration_seconds", {{"route", routeLabel}}, seconds);
  if (cfg.accessLog) {
    log::info("http.access", {{"method", method},
                              {"path", target},
                              {"route", routeLabel},
                              {"status", status},
                              {"duration_ms", seconds * 1000.0},
                              {"bytes_out", res.body().size()},
                              {"remote", remote.to_string()}});
  }
  c.stream.expires_after(cfg.writeTimeout);
  boost::system::error_code wec;
  std::size_t written = 0;
  if (method == "HEAD") {
    http::response_serializer<http::string_body> sr{res};
    std::tie(wec, written) = co_await http::async_write_header(c.stream, sr, tok);
  } else {
    std::tie(wec, written) = co_await http::async_write(c.stream, res, tok);
  }
  (void)written;

  co_return keep && !wec;
}

Server::Server(ServerConfig config, Router router, MetricsRegistry& metrics, const support::TimeSource* clock)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(router), metrics, clock)) {
  impl_->registerBuiltinRoutes();
}

Server::~Server() {
  if (!impl_->ioc.stopped()) impl_->ioc.stop();
}

tcp::endpoint Server::listen() { return impl_->listen(); }

void Server::run() {
  impl_->listen();
  asio::co_spawn(impl_->ioc, impl_->acceptLoop(), asio::detached);
  std::vector<std::thread> threads;
  const unsigned n = std::max(1U, impl_->cfg.ioThreads);
  threads.reserve(n - 1);
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
  log::info("http.stopped");
}

void Server::runUntilSignal() {
  impl_->signals.emplace(impl_->control, SIGTERM, SIGINT);
  impl_->signals->async_wait([self = impl_.get()](boost::system::error_code ec, int signo) {
    if (ec) return;
    log::info("http.signal", {{"signal", signo}});
    self->beginDrain();
  });
  run();
}

void Server::stop() {
  asio::post(impl_->control, [self = impl_.get()] { self->beginDrain(); });
}

bool Server::draining() const { return impl_->stopping.load(); }

std::size_t Server::activeConnections() const { return impl_->activeCount(); }

}  // namespace attendance::http_server
