#pragma once
// A blocking HTTP test client over real sockets whose every operation has a
// deadline (tcp_stream timeouts on a private io_context thread), so a broken
// server fails the test instead of hanging it. Shared by tests/http_server and tests/backend.

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace attendance::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using ClientResponse = http::response<http::string_body>;

// A blocking test client whose every operation has a deadline (tcp_stream timeouts
// on a private io_context thread), so a broken server fails the test instead of hanging it.
class Client {
public:
  explicit Client(std::uint16_t port) : guard_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {
    stream_.expires_after(5s);
    try {
      stream_.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port}, asio::use_future).get();
    } catch (...) {
      shutdown();
      throw;
    }
  }
  ~Client() { shutdown(); }
  void shutdown() {
    if (!thread_.joinable()) return;
    asio::post(ioc_, [this] { stream_.close(); });
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }
  void send(const std::string& bytes) {
    stream_.expires_after(5s);
    asio::async_write(stream_, asio::buffer(bytes), asio::use_future).get();
  }
  ClientResponse read(std::chrono::milliseconds deadline = 5s) {
    http::response_parser<http::string_body> p;
    p.body_limit(64 * 1024 * 1024);
    stream_.expires_after(deadline);
    http::async_read(stream_, buffer_, p, asio::use_future).get();
    return p.release();
  }
  ClientResponse request(const std::string& bytes) {
    send(bytes);
    return read();
  }
  // Waits until the server closes the connection; returns the error that ended
  // the read (eof/reset = closed by the peer, timeout = still open).
  boost::system::error_code waitClosed(std::chrono::milliseconds deadline) {
    std::promise<boost::system::error_code> done;
    stream_.expires_after(deadline);
    scratch_.resize(64 * 1024);
    readUntilError(done);
    return done.get_future().get();
  }

private:
  void readUntilError(std::promise<boost::system::error_code>& done) {
    stream_.async_read_some(asio::buffer(scratch_), [this, &done](boost::system::error_code ec, std::size_t) {
      if (ec) {
        done.set_value(ec);
        return;
      }
      readUntilError(done);
    });
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  std::string scratch_;
  std::thread thread_;
};

inline bool closedByPeer(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == http::error::end_of_stream;
}

// Polls a condition until it holds or a 3 s deadline passes.
template <class F>
bool eventually(F f) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

}  // namespace attendance::testing
