#include "sync/fault_proxy.hpp"

#include <attendance/batch_client/client.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <thread>

namespace attendance::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct FaultProxy::Impl {
  std::uint16_t backendPort;
  std::function<Fault(std::size_t)> plan;
  std::chrono::milliseconds stallFor;
  std::chrono::milliseconds latency;
  std::atomic<std::size_t> count{0};
  std::atomic<std::size_t> faults{0};
  support::RealTimeSource clock;
  std::unique_ptr<TestServer> server;

  // Forwards once, no retries: retrying is the client's job, not the proxy's.
  std::optional<batch_client::Response> forward(const ReceivedRequest& r, Reply& reply) {
    batch_client::ClientOptions o;
    o.endpoint = *batch_client::parseEndpoint("http://127.0.0.1:" + std::to_string(backendPort), false);
    o.retry.maxAttempts = 1;
    o.timeouts.request = std::chrono::seconds{30};
    batch_client::BatchClient client(o, clock);
    batch_client::Request req;
    req.method = r.method;
    req.path = r.target;
    if (r.authorization.rfind("Bearer ", 0) == 0) req.bearerToken = r.authorization.substr(7);
    req.body = r.body;
    auto res = client.send(req);
    if (res) {
      reply.status = res->status;
      reply.body = res->body;
      return *res;
    }
    if (res.error().status != 0) {
      reply.status = res.error().status;
      reply.body = res.error().body;
      return batch_client::Response{res.error().status, res.error().body, 1};
    }
    reply.action = Reply::Action::closeWithoutResponse;
    return std::nullopt;
  }

  void sendHalf(const ReceivedRequest& r) {
    asio::io_context io;
    tcp::socket s{io};
    boost::system::error_code ec;
    s.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), backendPort}, ec);
    if (ec) return;
    std::string head = r.method + " " + r.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                       r.authorization + "\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(r.body.size()) + "\r\n\r\n" + r.body.substr(0, r.body.size() / 2);
    asio::write(s, asio::buffer(head), ec);
    s.close(ec);
  }

  Reply handle(const ReceivedRequest& r) {
    const std::size_t n = ++count;
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    const Fault fault = plan ? plan(n) : Fault::none;
    if (fault != Fault::none) ++faults;
    Reply reply;
    switch (fault) {
      case Fault::none: forward(r, reply); return reply;
      case Fault::dropMidBody:
        sendHalf(r);
        reply.action = Reply::Action::closeWithoutResponse;
        return reply;
      case Fault::dropAfterCommit:
        forward(r, reply);
        reply = Reply{};
        reply.action = Reply::Action::closeWithoutResponse;
        return reply;
      case Fault::unavailable:
        reply.status = 503;
        reply.body = R"({"error":"proxy: unavailable"})";
        reply.headers["Retry-After"] = "1";
        return reply;
      case Fault::stall:
        reply.action = Reply::Action::stall;
        reply.stallFor = stallFor;
        return reply;
    }
    return reply;
  }
};

FaultProxy::FaultProxy(std::uint16_t backendPort, std::function<Fault(std::size_t)> plan,
                       std::chrono::milliseconds stallFor, std::chrono::milliseconds latency)
    : impl_(std::make_unique<Impl>()) {
  impl_->backendPort = backendPort;
  impl_->plan = std::move(plan);
  impl_->stallFor = stallFor;
  impl_->latency = latency;
  impl_->server = std::make_unique<TestServer>([this](const ReceivedRequest& r) { return impl_->handle(r); });
}

FaultProxy::~FaultProxy() { impl_->server.reset(); }

std::string FaultProxy::url() const { return impl_->server->url(); }
std::size_t FaultProxy::requests() const { return impl_->count.load(); }
std::size_t FaultProxy::faultsInjected() const { return impl_->faults.load(); }

}  // namespace attendance::testing
