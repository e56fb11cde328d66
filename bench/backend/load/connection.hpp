#pragma once
// One keep-alive HTTP/1.1 connection for the load drivers, on Asio coroutines so
// one thread can hold hundreds of clients. Each client may connect from a loopback
// address of its own (127.0.x.y), as scanners at different venues would, so the
// backend's per-address connection cap applies per client and not to the driver.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace attendance::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;

struct Reply {
  unsigned status = 0;  // 0: no answer; `error` says why
  boost::system::error_code error;
  std::string body;
  std::string retryAfter;           // the Retry-After header, if any
  std::string setCookie;            // every Set-Cookie value, '\n'-separated
  SteadyClock::duration elapsed{};  // from the first byte written (or the connect) to the whole answer
  SteadyClock::duration sent{};     // from the same start until the request was handed to the kernel
  bool reconnected = false;         // a kept-alive connection had been closed by the server: resent on a new one
};

class Connection {
public:
  // `source` unspecified: the kernel picks the source address (127.0.0.1).
  Connection(asio::any_io_executor executor, tcp::endpoint server, asio::ip::address source = {});

  // Sends `request` and reads the answer, connecting first when needed. Like
  // batch_client, a reused connection that the server closed while it was idle
  // (no answer byte read) is reopened once at once and the request resent: that
  // is not a failure of the server. The time includes connecting.
  asio::awaitable<Reply> exchange(const Request& request, std::chrono::milliseconds timeout);

  void close();
  [[nodiscard]] std::size_t opened() const { return opened_; }

private:
  asio::awaitable<Reply> attempt(const Request& request, std::chrono::milliseconds timeout, bool& stale);

  asio::any_io_executor executor_;
  tcp::endpoint server_;
  asio::ip::address source_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::size_t opened_ = 0;
};

// Request builders: every request carries Host and keeps the connection alive.
Request makeRequest(http::verb method, std::string target, std::string body = {},
                    std::string_view contentType = "application/json");

// The n-th client's loopback source address in block `block` (127.<block>.<n/250>.<1 + n%250>).
asio::ip::address loopbackSource(int block, int n);

}  // namespace attendance::bench
