// Server::serveBytes: the request cycle of request_cycle.hpp over Beast's
// in-memory test stream instead of a socket, so a fuzzer drives exactly the
// code a TCP connection runs.
#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include "request_cycle.hpp"

namespace attendance::http_server {

namespace {

// Beast's test stream plus the one call of beast::tcp_stream the request cycle
// makes that it lacks: the bytes are all in memory, so there is nothing to time out.
class MemoryStream : public beast::test::stream {
public:
  using beast::test::stream::stream;
  void expires_after(std::chrono::steady_clock::duration /*unused*/) {}
};

struct MemoryConnection {
  MemoryStream stream;
  asio::ip::address remote;
  bool idle = true;
  std::chrono::steady_clock::rep idleSince = 0;
};

}  // namespace

std::string Server::serveBytes(std::string_view wire, std::size_t readSize, const asio::ip::address& remote) {
  auto& ioc = impl_->ioc;
  MemoryStream client{ioc};
  MemoryConnection conn{MemoryStream{ioc}, remote};
  conn.stream.connect(client);
  conn.stream.read_size(std::max<std::size_t>(readSize, 1));
  conn.stream.append({wire.data(), wire.size()});
  conn.stream.close_remote();  // the client sends nothing more: reads past `wire` see end of stream
  std::exception_ptr failure;
  asio::co_spawn(ioc, impl_->serveRequests(conn),
                 [&failure](const std::exception_ptr& e, bool /*graceful*/) { failure = e; });
  ioc.restart();
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  return std::string{client.str()};
}

}  // namespace attendance::http_server
