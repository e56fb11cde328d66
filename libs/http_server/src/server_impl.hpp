#pragma once
// Server's private parts, shared by server.cpp (listening, the connection
// registry, admission and drain) and request_cycle.cpp (one connection's
// requests: read, dispatch, write and record).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <attendance/http_server/server.hpp>
#include <attendance/support/clock.hpp>

namespace attendance::http_server {

namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

inline constexpr auto tok = asio::as_tuple(asio::use_awaitable);

struct Connection {
  Connection(tcp::socket s, asio::ip::address a) : stream(std::move(s)), remote(std::move(a)) {}
  beast::tcp_stream stream;
  const asio::ip::address remote;
  // Waiting for the first byte of a request (new or keep-alive). Written on the
  // connection's strand, read by the acceptor to choose whom to evict.
  std::atomic<bool> idle{true};
  // When it last began waiting (steady clock ticks): eviction takes the
  // connection idle the longest, so a client that keeps its connection alive
  // between requests outlives sockets that never send a byte.
  std::atomic<std::chrono::steady_clock::rep> idleSince{std::chrono::steady_clock::now().time_since_epoch().count()};
  // Chosen for eviction; the acceptor admitted a newcomer in its place.
  std::atomic<bool> evicting{false};
};

// What one request/response exchange produced, for the response and the record.
struct Exchange {
  std::chrono::steady_clock::time_point started;
  std::string method = "-";
  std::string target = "-";
  std::string route = "unmatched";
  Response response;
  bool keepAlive = false;
  std::optional<asio::ip::address> client;  // when X-Forwarded-For from a trusted proxy named another
};

}  // namespace detail

// Handlers capture a raw Impl*: the Impl owns the io_context, so it outlives
// every handler that runs, and handlers still queued when the Server is
// destroyed are destroyed with the io_context without running (a shared_ptr
// capture would form a cycle and leak after a drain deadline).
struct Server::Impl {
  using Connection = detail::Connection;
  using tcp = detail::tcp;

  Impl(ServerConfig c, Router r, MetricsRegistry& m, const support::TimeSource* clk);

  ServerConfig cfg;
  Router router;
  MetricsRegistry& metrics;
  support::RealTimeSource realClock;
  const support::TimeSource& clock;
  boost::asio::io_context ioc;
  tcp::acceptor acceptor;
  boost::asio::strand<boost::asio::io_context::executor_type> control;
  boost::asio::steady_timer drainTimer;
  std::optional<boost::asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  bool listening = false;

  // The connection registry, by id.
  mutable std::mutex connMutex;
  std::map<std::uint64_t, std::shared_ptr<Connection>> conns;
  std::unordered_map<boost::asio::ip::address, std::size_t> perAddress;
  std::size_t evictions = 0;  // chosen, not yet closed: they do not count against maxConnections
  std::uint64_t nextId = 0;

  // server.cpp
  void registerBuiltinRoutes();
  tcp::endpoint listen();
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> reject(tcp::socket sock, http::status status, std::string message);
  enum class Admission { admitted, full, address_full };
  Admission admit(const std::shared_ptr<Connection>& conn, std::uint64_t& id);
  void evict(const std::shared_ptr<Connection>& victim);
  void beginDrain();
  std::size_t activeCount() const {
    std::lock_guard lock{connMutex};
    return conns.size();
  }
  void connectionClosed(std::uint64_t id);
  void forEachConnection(const std::function<void(const std::shared_ptr<Connection>&)>& fn);
  // The client of a request from `peer`: cfg.trustedProxies applied to its X-Forwarded-For fields.
  boost::asio::ip::address clientAddress(const boost::asio::ip::address& peer, const Request& head) const;

  // request_cycle.cpp: a TCP connection's life.
  boost::asio::awaitable<void> session(std::shared_ptr<Connection> c);
  // request_cycle.hpp: its requests, over any connection type (TCP, or bytes in
  // memory for fuzzers and tests). serveRequests returns false when the
  // connection ended without a graceful close (read error, timeout).
  template <class Conn>
  boost::asio::awaitable<bool> serveRequests(Conn& c);
  template <class Conn>
  boost::asio::awaitable<bool> handleOne(Conn& c, boost::beast::flat_buffer& buffer);
  // Reads one request and decides its response; false: close without answering.
  template <class Conn>
  boost::asio::awaitable<bool> readAndDispatch(Conn& c, boost::beast::flat_buffer& buffer, detail::Exchange& x);
  // Reads the body of an accepted request. `read`: it is in the parser;
  // `refused`: x.response says why (413, 400); `closed`: end without answering.
  enum class BodyRead { read, refused, closed };
  template <class Conn>
  boost::asio::awaitable<BodyRead> readBody(Conn& c, boost::beast::flat_buffer& buffer,
                                            http::request_parser<http::string_body>& parser, std::size_t limit,
                                            detail::Exchange& x);
  // Reads and drops a small body after a refusal; false: close the connection instead.
  template <class Conn>
  boost::asio::awaitable<bool> discardBody(Conn& c, boost::beast::flat_buffer& buffer,
                                           http::request_parser<http::string_body>& parser);
  // Runs the route's handler (or guard), mapping exceptions to 503/500.
  boost::asio::awaitable<std::optional<Response>> invokeSafely(
      const std::string& route, const std::function<boost::asio::awaitable<std::optional<Response>>()>& fn);
  template <class Conn>
  boost::asio::awaitable<bool> writeAndRecord(Conn& c, detail::Exchange& x);
  boost::asio::awaitable<void> lingeringClose(Connection& c);
};

}  // namespace attendance::http_server
