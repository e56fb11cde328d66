#include "connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace attendance::bench {

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxAnswer = 256U * 1024U * 1024U;  // a full report of a large event is a few MiB
}  // namespace

Connection::Connection(asio::any_io_executor executor, tcp::endpoint server, asio::ip::address source)
    : executor_(std::move(executor)), server_(server), source_(source) {}

void Connection::close() {
  if (stream_) {
    boost::system::error_code ignored;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_->close();
    stream_.reset();
  }
  buffer_.clear();
}

asio::awaitable<Reply> Connection::attempt(const Request& request, std::chrono::milliseconds timeout, bool& stale) {
  const auto started = SteadyClock::now();
  Reply reply;
  stale = false;
  const bool reused = stream_.has_value();
  if (!reused) {
    stream_.emplace(executor_);
    boost::system::error_code ec;
    stream_->socket().open(server_.protocol(), ec);
    if (!ec && !source_.is_unspecified()) stream_->socket().bind(tcp::endpoint{source_, 0}, ec);
    if (ec) {
      reply.error = ec;
      close();
      co_return reply;
    }
    stream_->expires_after(timeout);
    auto [connectError] = co_await stream_->async_connect(server_, kAwait);
    if (connectError) {
      reply.error = connectError;
      close();
      co_return reply;
    }
    ++opened_;
  }
  stream_->expires_after(timeout);
  auto [writeError, written] = co_await http::async_write(*stream_, request, kAwait);
  (void)written;
  reply.sent = SteadyClock::now() - started;
  if (writeError) {
    stale = reused && writeError != beast::error::timeout;
    reply.error = writeError;
    close();
    co_return reply;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswer);
  auto [readError, read] = co_await http::async_read(*stream_, buffer_, parser, kAwait);
  (void)read;
  if (readError) {
    stale = reused && !parser.got_some() && readError != beast::error::timeout;
    reply.error = readError;
    close();
    co_return reply;
  }
  auto res = parser.release();
  reply.status = res.result_int();
  if (auto it = res.find(http::field::retry_after); it != res.end()) reply.retryAfter = std::string{it->value()};
  for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
    if (!reply.setCookie.empty()) reply.setCookie += '\n';
    reply.setCookie += std::string{it->value()};
  }
  reply.body = std::move(res.body());
  if (!res.keep_alive()) close();
  co_return reply;
}

asio::awaitable<Reply> Connection::exchange(const Request& request, std::chrono::milliseconds timeout) {
  const auto started = SteadyClock::now();
  bool stale = false;
  Reply reply = co_await attempt(request, timeout, stale);
  if (reply.error && stale) {
    reply = co_await attempt(request, timeout, stale);
    reply.reconnected = true;
  }
  reply.elapsed = SteadyClock::now() - started;
  co_return reply;
}

Request makeRequest(http::verb method, std::string target, std::string body, std::string_view contentType) {
  Request req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::user_agent, "attendance-load/1");
  if (!body.empty()) req.set(http::field::content_type, contentType);
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

asio::ip::address loopbackSource(int block, int n) {
  return asio::ip::make_address_v4(asio::ip::address_v4::bytes_type{127, static_cast<unsigned char>(block),
                                                                    static_cast<unsigned char>(n / 250),
                                                                    static_cast<unsigned char>(1 + n % 250)});
}

}  // namespace attendance::bench
