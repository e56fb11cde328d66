// A TCP connection's life (its requests are served by request_cycle.hpp), the
// guarded handler call and the lingering close.
#include <array>
#include <exception>

#include <attendance/http_server/blocking_pool.hpp>
#include "request_cycle.hpp"

namespace attendance::http_server {

asio::awaitable<void> Server::Impl::session(std::shared_ptr<Connection> c) {
  const bool graceful = co_await serveRequests(*c);
  if (graceful && c->stream.socket().is_open()) co_await lingeringClose(*c);
  c->stream.close();
}

asio::awaitable<std::optional<Response>> Server::Impl::invokeSafely(
    const std::string& route, const std::function<asio::awaitable<std::optional<Response>>()>& fn) {
  std::exception_ptr failure;
  try {
    co_return co_await fn();
  } catch (...) {
    failure = std::current_exception();
  }
  try {
    std::rethrow_exception(failure);
  } catch (const PoolSaturated&) {
    Response res = refusal(http::status::service_unavailable, "server busy, retry later");
    res.set(http::field::retry_after, "1");
    co_return res;
  } catch (const std::exception& e) {
    log::error("http.handler_failed", {{"route", route}, {"error", e.what()}});
  } catch (...) {
    log::error("http.handler_failed", {{"route", route}, {"error", "unknown exception"}});
  }
  co_return refusal(http::status::internal_server_error, "internal server error");
}

asio::awaitable<void> Server::Impl::lingeringClose(Connection& c) {
  // Half-close, then read (and discard) what the client still sends for a short
  // while, so the kernel does not answer unread data with a RST that would
  // destroy the response we just wrote (e.g. a 413 sent before the body).
  boost::system::error_code ec;
  c.stream.socket().shutdown(detail::tcp::socket::shutdown_send, ec);
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

}  // namespace attendance::http_server
