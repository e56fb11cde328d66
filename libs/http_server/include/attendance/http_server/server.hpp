#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/router.hpp>
#include <attendance/http_server/trusted_proxies.hpp>
#include <attendance/support/result.hpp>

namespace attendance::support {
class TimeSource;
}

namespace attendance::http_server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks; listen() returns the bound port
  unsigned ioThreads = 1;
  std::size_t headerLimit = 16 * 1024;
  std::size_t bodyLimit = 1024 * 1024;
  std::chrono::milliseconds headerTimeout{10'000};  // first byte of a request -> end of header
  std::chrono::milliseconds bodyTimeout{60'000};    // end of header -> end of body
  std::chrono::milliseconds idleTimeout{30'000};    // keep-alive wait for the next request
  std::chrono::milliseconds writeTimeout{30'000};
  std::chrono::milliseconds drainTimeout{10'000};  // stop(): in-flight requests get this long
  std::size_t maxConnections = 1024;
  // Connections one client address may hold at once; 0 = no cap. Behind a
  // reverse proxy every client shares the proxy's address: a trusted proxy's
  // connections are not capped, otherwise raise or disable it there and let the
  // proxy cap clients (docs/http-server.md).
  std::size_t maxConnectionsPerAddress = 128;
  // Peers whose X-Forwarded-For names the client (`RequestContext::remote`);
  // empty: the header is ignored and the socket peer is the client.
  TrustedProxies trustedProxies;
  // The longest chunk-size line (with extensions) or trailer section accepted;
  // with headerLimit it sets the read buffer's ceiling.
  std::size_t framingLimit = 8 * 1024;
  std::string serverName = "attendance";
  bool accessLog = true;
  // Readiness for /readyz; absent = ready when not draining.
  std::function<bool()> readiness;
};

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses "host:port", "[v6]:port" or ":port"; the failure's message says what is wrong.
[[nodiscard]] Outcome<ListenAddress> parseListenAddress(std::string_view text);

// An HTTP/1.1 server on Asio C++20 coroutines. Adds GET /healthz, /readyz and
// /metrics to the router unless the router already has them.
//
//   Server s{cfg, std::move(router), metrics};
//   auto ep = s.listen();     // bound, accepting once run() starts
//   s.runUntilSignal();       // SIGTERM/SIGINT -> graceful drain, then returns
class Server {
public:
  Server(ServerConfig config, Router router, MetricsRegistry& metrics, const support::TimeSource* clock = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws boost::system::system_error on failure.
  boost::asio::ip::tcp::endpoint listen();
  // Runs the I/O threads until stopped and drained.
  void run();
  // run(), with SIGTERM and SIGINT starting a graceful drain. `onSignalsHandled`
  // runs once those signals are caught and before the I/O threads start: a signal
  // from then on drains instead of killing, so that is when to tell a supervisor
  // (systemd READY=1) that the server is up.
  void runUntilSignal(const std::function<void()>& onSignalsHandled = nullptr);
  // Thread-safe, idempotent: stop accepting, close idle keep-alive connections,
  // let in-flight requests finish (Connection: close) until drainTimeout, then
  // close whatever is left. run() returns when everything is closed.
  void stop();

  // The whole request path without a socket, for fuzzers and tests: `wire` is
  // read by the code every TCP connection runs (framing, limits, routing,
  // guard, body, handler, response), at most `readSize` bytes per read, as if
  // it came from `remote` and the client then half-closed; returns every byte
  // the server wrote. Runs the server's I/O on the calling thread, so never
  // while run() is running. Timeouts do not apply (the bytes are all there).
  [[nodiscard]] std::string serveBytes(
      std::string_view wire, std::size_t readSize = 4096,
      const boost::asio::ip::address& remote = boost::asio::ip::address_v4::loopback());

  [[nodiscard]] bool draining() const;
  [[nodiscard]] std::size_t activeConnections() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::http_server
