// A DNS server that never answers must not hang the client past its connect
// timeout. getaddrinfo is replaced for this test binary only (the definition in
// the executable wins over libc's at link time): one name hangs, every other
// name goes to the real resolver.
#include <attendance/batch_client/client.hpp>

#include "batch_client/test_server.hpp"

#include <dlfcn.h>
#include <netdb.h>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <cstring>
#include <thread>

namespace bc = attendance::batch_client;
namespace at = attendance::testing;
using namespace std::chrono_literals;

namespace {
constexpr const char* kHangingName = "dns-hangs.test";
}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints, struct addrinfo** res) {
  if (node != nullptr && std::strcmp(node, kHangingName) == 0) {
    std::this_thread::sleep_for(60s);  // longer than the test; the process exits first
    return EAI_AGAIN;
  }
  using Real = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "getaddrinfo"));
  return real(node, service, hints, res);
}

namespace {

std::unique_ptr<bc::BatchClient> client(const std::string& url, attendance::support::SimulatedTimeSource& clock) {
  auto ep = bc::parseEndpoint(url, true);
  EXPECT_TRUE(ep) << (ep ? "" : ep.error().message);
  bc::ClientOptions o;
  o.endpoint = *ep;
  o.timeouts.connect = 300ms;
  o.retry.maxAttempts = 2;
  // Backoff sleeps move the simulated clock instead of blocking.
  return std::make_unique<bc::BatchClient>(o, clock, bc::Hooks{[] { return 0.0; }});
}

bc::Request get() {
  bc::Request r;
  r.method = "GET";
  r.path = "/healthz";
  return r;
}

}  // namespace

TEST(BatchClientDns, AHangingLookupEndsAtTheConnectTimeoutAsANetworkFailure) {
  attendance::support::SimulatedTimeSource clock;
  auto c = client(std::string("http://") + kHangingName + ":8080", clock);
  const auto started = std::chrono::steady_clock::now();
  auto res = c->send(get());
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::network);
  EXPECT_NE(res.error().message.find("resolve dns-hangs.test"), std::string::npos) << res.error().message;
  EXPECT_NE(res.error().message.find("timed out"), std::string::npos) << res.error().message;
  EXPECT_EQ(res.error().attempts, 2u);
  // Two attempts of 0.3 s each, not the 60 s the lookup would take.
  EXPECT_LT(took, 20s);
}

TEST(BatchClientDns, NamesStillResolveThroughTheBoundedLookup) {
  at::TestServer server([](const at::ReceivedRequest&) {
    at::Reply r;
    r.body = R"({"ok":true})";
    return r;
  });
  attendance::support::SimulatedTimeSource clock;
  auto c = client(server.url("localhost"), clock);
  auto res = c->send(get());
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200u);
}
