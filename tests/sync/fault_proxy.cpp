#include "sync/fault_proxy.hpp"

#include <attendance/batch_client/client.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <future>
#include <mutex>
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
  mutable std::mutex mutex;
  std::vector<unsigned> statuses;
  std::vector<std::string> errors;
  std::unique_ptr<TestServer> server;

  void record(unsigned status, const std::string& body) {
    std::lock_guard lock{mutex};
    statuses.push_back(status);
    if (status != 200) errors.push_back(body);
  }

  // Forwards once, no retries: retrying is the client's job, not the proxy's.
  std::optional<batch_client::Response> forward(const ReceivedRequest& r, const std::string& body, Reply& reply) {
    batch_client::ClientOptions o;
    o.endpoint = *batch_client::parseEndpoint("http://127.0.0.1:" + std::to_string(backendPort), false);
    o.retry.maxAttempts = 1;
    o.timeouts.request = std::chrono::seconds{30};
    batch_client::BatchClient client(o, clock);
    batch_client::Request req;
    req.method = r.method;
    req.path = r.target;
    if (r.authorization.rfind("Bearer ", 0) == 0) req.bearerToken = r.authorization.substr(7);
    if (auto it = r.headers.find("Content-Digest"); it != r.headers.end()) req.headers.emplace_back(*it);
    req.body = body;
    auto res = client.send(req);
    if (res) {
      record(res->status, res->body);
      reply.status = res->status;
      reply.body = res->body;
      return *res;
    }
    record(res.error().status, res.error().body);
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
    std::string head = r.method + " " + r.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + r.authorization +
                       "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) +
                       "\r\n\r\n" + r.body.substr(0, r.body.size() / 2);
    asio::write(s, asio::buffer(head), ec);
    s.close(ec);
  }

  static std::string flipDigit(std::string body) {
    const std::string key = "\"checkInTime\":";
    auto at = body.find(key);
    if (at == std::string::npos) return body;
    at += key.size();
    while (at < body.size() && body[at] == ' ') ++at;
    auto end = at;
    while (end < body.size() && body[end] >= '0' && body[end] <= '9') ++end;
    if (end > at) body[end - 1] = static_cast<char>('0' + (body[end - 1] - '0' + 1) % 10);
    return body;
  }

  static std::string flipBit(std::string body) {
    if (!body.empty()) body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x80);
    return body;
  }

  Reply handle(const ReceivedRequest& r) {
    const std::size_t n = ++count;
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    const Fault fault = plan ? plan(n) : Fault::none;
    if (fault != Fault::none) ++faults;
    Reply reply;
    switch (fault) {
      case Fault::none: forward(r, r.body, reply); return reply;
      case Fault::dropMidBody:
        sendHalf(r);
        reply.action = Reply::Action::closeWithoutResponse;
        return reply;
      case Fault::dropAfterCommit:
        forward(r, r.body, reply);
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
      case Fault::flipDigit: forward(r, flipDigit(r.body), reply); return reply;
      case Fault::flipBit: forward(r, flipBit(r.body), reply); return reply;
      case Fault::duplicate: {
        Reply first;
        forward(r, r.body, first);
        forward(r, r.body, reply);
        return reply;
      }
      case Fault::duplicateAtOnce: {
        // Both copies leave together; whichever answer arrives first goes back.
        std::promise<Reply> firstAnswer;
        std::atomic<bool> answered{false};
        auto copy = [&] {
          Reply mine;
          forward(r, r.body, mine);
          if (!answered.exchange(true)) firstAnswer.set_value(mine);
        };
        std::thread a{copy};
        std::thread b{copy};
        a.join();
        b.join();
        return firstAnswer.get_future().get();
      }
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

std::vector<unsigned> FaultProxy::backendStatuses() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->statuses;
}

std::vector<std::string> FaultProxy::backendErrors() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->errors;
}

}  // namespace attendance::testing
