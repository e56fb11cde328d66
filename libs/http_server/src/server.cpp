#include <attendance/http_server/server.hpp>

#include <charconv>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/write.hpp>

#include <attendance/support/log.hpp>
#include "server_impl.hpp"

namespace attendance::http_server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
namespace log = support::log;

Outcome<ListenAddress> parseListenAddress(std::string_view text) {
  const auto invalid = [](std::string message) {
    return Failure{boost::system::errc::make_error_code(boost::system::errc::invalid_argument), std::move(message)};
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid("listen address must be host:port");
  std::string_view host = text.substr(0, colon);
  const std::string_view portText = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  const auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (portText.empty() || ec != std::errc{} || ptr != portText.data() + portText.size() || port > 65535) {
    return invalid("invalid port in listen address '" + std::string{text} + "'");
  }
  return ListenAddress{std::string{host}, static_cast<std::uint16_t>(port)};
}

Server::Impl::Impl(ServerConfig c, Router r, MetricsRegistry& m, const support::TimeSource* clk)
    : cfg(std::move(c)),
      router(std::move(r)),
      metrics(m),
      clock(clk != nullptr ? *clk : realClock),
      ioc(static_cast<int>(std::max(1U, cfg.ioThreads))),
      acceptor(ioc),
      control(asio::make_strand(ioc)),
      drainTimer(control) {}

void Server::Impl::registerBuiltinRoutes() {
  metrics.describeCounter("http_requests_total", "HTTP requests by route pattern, method and status");
  metrics.describeHistogram("http_request_duration_seconds", "Time from request header to response written",
                            {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  metrics.describeGauge("http_connections_active", "Open client connections");
  metrics.describeCounter("http_connections_rejected_total",
                          "Connections refused: every slot busy (reason=full) or the address's cap (per_address)");
  metrics.describeCounter("http_connections_evicted_total",
                          "Connections waiting for a request, closed to make room for a new one");
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

asio::ip::address Server::Impl::clientAddress(const asio::ip::address& peer, const Request& head) const {
  if (cfg.trustedProxies.empty()) return peer;
  // Bounded: the header block is at most cfg.headerLimit bytes, and the walk at TrustedProxies::kMaxHops hops.
  std::vector<std::string_view> fields;
  for (auto [it, end] = head.equal_range("X-Forwarded-For"); it != end; ++it) fields.push_back(it->value());
  return cfg.trustedProxies.clientAddress(peer, fields);
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  Impl* self = this;
  asio::steady_timer backoff{ioc};
  while (!stopping.load()) {
    tcp::socket sock{asio::make_strand(ioc)};
    auto [ec] = co_await acceptor.async_accept(sock, detail::tok);
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("http.accept_failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds{50});
      co_await backoff.async_wait(detail::tok);
      continue;
    }
    boost::system::error_code remoteEc;
    auto remote = sock.remote_endpoint(remoteEc).address();
    if (remoteEc) continue;  // already gone
    auto conn = std::make_shared<Connection>(std::move(sock), std::move(remote));
    std::uint64_t id = 0;
    const Admission admission = admit(conn, id);
    if (admission != Admission::admitted) {
      const bool perAddressCap = admission == Admission::address_full;
      metrics.increment("http_connections_rejected_total", {{"reason", perAddressCap ? "per_address" : "full"}});
      auto ex = conn->stream.get_executor();
      asio::co_spawn(ex,
                     reject(conn->stream.release_socket(),
                            perAddressCap ? http::status::too_many_requests : http::status::service_unavailable,
                            perAddressCap ? "too many connections from your address" : "too many connections"),
                     asio::detached);
      continue;
    }
    metrics.addGauge("http_connections_active", {}, 1);
    asio::co_spawn(conn->stream.get_executor(), session(conn), [self, id](const std::exception_ptr& e) {
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

// One address may hold maxConnectionsPerAddress connections. When every slot
// is taken, the connection that has waited longest for a request (a socket that
// never sent a byte, or an idle keep-alive) is evicted for the newcomer; only
// when every connection is busy inside a request is the newcomer refused.
Server::Impl::Admission Server::Impl::admit(const std::shared_ptr<Connection>& conn, std::uint64_t& id) {
  std::shared_ptr<Connection> victim;
  {
    std::lock_guard lock{connMutex};
    auto& fromAddress = perAddress[conn->remote];
    // A trusted proxy carries many clients' connections: they are not capped as one client's.
    if (cfg.maxConnectionsPerAddress != 0 && fromAddress >= cfg.maxConnectionsPerAddress &&
        !cfg.trustedProxies.contains(conn->remote)) {
      if (fromAddress == 0) perAddress.erase(conn->remote);
      return Admission::address_full;
    }
    if (conns.size() - evictions >= cfg.maxConnections) {
      auto longest = std::numeric_limits<std::chrono::steady_clock::rep>::max();
      for (auto& [oldId, c] : conns) {
        if (!c->idle.load() || c->evicting.load()) continue;
        if (const auto since = c->idleSince.load(); since < longest) {
          longest = since;
          victim = c;
        }
      }
      if (!victim) {
        if (fromAddress == 0) perAddress.erase(conn->remote);
        return Admission::full;
      }
      victim->evicting = true;
      ++evictions;
    }
    ++fromAddress;
    id = ++nextId;
    conns.emplace(id, conn);
  }
  if (victim) evict(victim);
  return Admission::admitted;
}

void Server::Impl::evict(const std::shared_ptr<Connection>& victim) {
  asio::post(victim->stream.get_executor(), [self = this, victim] {
    // Re-checked on its own strand: a request may have arrived meanwhile, and
    // bytes already in the socket buffer are a request in flight, not idleness.
    boost::system::error_code availableEc;
    if (victim->idle.load() && victim->stream.socket().available(availableEc) == 0) {
      self->metrics.increment("http_connections_evicted_total");
      victim->stream.cancel();
      return;  // the slot is handed back when its session ends (connectionClosed)
    }
    std::lock_guard lock{self->connMutex};
    victim->evicting = false;
    --self->evictions;  // it stays; the newcomer was admitted one over the limit
  });
}

asio::awaitable<void> Server::Impl::reject(tcp::socket sock, http::status status, std::string message) {
  beast::tcp_stream stream{std::move(sock)};
  auto res = errorResponse(status, message);
  res.set(http::field::retry_after, "1");
  res.keep_alive(false);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds{2});
  co_await http::async_write(stream, res, detail::tok);
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

void Server::Impl::connectionClosed(std::uint64_t id) {
  metrics.addGauge("http_connections_active", {}, -1);
  asio::post(control, [self = this, id] {
    bool empty = false;
    {
      std::lock_guard lock{self->connMutex};
      if (auto it = self->conns.find(id); it != self->conns.end()) {
        const auto& c = *it->second;
        if (c.evicting.load()) --self->evictions;
        if (auto a = self->perAddress.find(c.remote); a != self->perAddress.end() && --a->second == 0) {
          self->perAddress.erase(a);
        }
        self->conns.erase(it);
      }
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
      if (c->idle.load() && c->stream.socket().available(availableEc) == 0) c->stream.cancel();
    });
  });
  if (activeCount() == 0) return;
  drainTimer.expires_after(cfg.drainTimeout);
  drainTimer.async_wait([self = this](boost::system::error_code waitEc) {
    if (waitEc) return;  // everything closed in time
    log::warn("http.drain_deadline", {{"closing", static_cast<std::int64_t>(self->activeCount())}});
    self->forEachConnection(
        [](const std::shared_ptr<Connection>& c) { asio::post(c->stream.get_executor(), [c] { c->stream.close(); }); });
    // Handlers still awaiting something (a timer, the database) cannot be
    // cancelled from here: give the closes a moment to go out, then stop the
    // event loop so run() returns. Callers join their BlockingPool before
    // destroying the Server, so abandoned work never outlives its frame.
    self->drainTimer.expires_after(std::chrono::milliseconds{50});
    self->drainTimer.async_wait([self](boost::system::error_code) { self->ioc.stop(); });
  });
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

void Server::runUntilSignal(const std::function<void()>& onSignalsHandled) {
  impl_->signals.emplace(impl_->control, SIGTERM, SIGINT);
  impl_->signals->async_wait([self = impl_.get()](boost::system::error_code ec, int signo) {
    if (ec) return;
    log::info("http.signal", {{"signal", signo}});
    self->beginDrain();
  });
  // The signal_set caught them when it was constructed; one arriving now waits for run().
  if (onSignalsHandled) onSignalsHandled();
  run();
}

void Server::stop() {
  asio::post(impl_->control, [self = impl_.get()] { self->beginDrain(); });
}

bool Server::draining() const { return impl_->stopping.load(); }

std::size_t Server::activeConnections() const { return impl_->activeCount(); }

}  // namespace attendance::http_server
