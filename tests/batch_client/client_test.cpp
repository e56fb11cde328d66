#include <attendance/batch_client/client.hpp>
#include <attendance/batch_client/content_digest.hpp>

#include "batch_client/test_server.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <string_view>
#include <thread>

namespace bc = attendance::batch_client;
namespace at = attendance::testing;
using namespace std::chrono_literals;
using Action = at::Reply::Action;

namespace {

// The client waits on the simulated clock, which records each wait and moves
// instead of blocking, so the retry schedule is asserted exactly and the tests stay fast.
struct Harness {
  attendance::support::SimulatedTimeSource clock;
  double random = 0.0;

  [[nodiscard]] std::vector<std::chrono::nanoseconds> sleeps() const { return clock.sleeps(); }
  bc::Hooks hooks() {
    return bc::Hooks{[this] { return random; }};
  }

  std::unique_ptr<bc::BatchClient> client(const std::string& url, std::string caFile = {}, bc::Timeouts timeouts = {}) {
    auto ep = bc::parseEndpoint(url, false);
    EXPECT_TRUE(ep) << (ep ? "" : ep.error().message);
    bc::ClientOptions o;
    o.endpoint = *ep;
    o.caFile = std::move(caFile);
    o.timeouts = timeouts;
    o.retry.maxAttempts = 4;
    o.retry.baseDelay = 100ms;
    o.retry.maxDelay = 1000ms;
    return std::make_unique<bc::BatchClient>(o, clock, hooks());
  }
};

bc::Request post(std::string body = R"({"eventId":"e","records":[]})") {
  bc::Request r;
  r.path = "/batchCheckIn";
  r.bearerToken = "secret-key";
  r.body = std::move(body);
  return r;
}

at::Reply ok(std::string body = R"({"inserted":0})") {
  at::Reply r;
  r.body = std::move(body);
  return r;
}

at::Reply status(unsigned s, std::map<std::string, std::string> headers = {}) {
  at::Reply r;
  r.status = s;
  r.body = R"({"error":"nope"})";
  r.headers = std::move(headers);
  return r;
}

}  // namespace

TEST(BatchClient, PostsTheBodyWithBearerKeyAndReturnsTheResponse) {
  at::TestServer server([](const at::ReceivedRequest&) { return ok(R"({"inserted":2})"); });
  Harness h;
  auto client = h.client(server.url());
  auto res = client->send(post("{\"x\":1}"));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200u);
  EXPECT_EQ(res->body, R"({"inserted":2})");
  EXPECT_EQ(res->attempts, 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/batchCheckIn");
  EXPECT_EQ(reqs[0].authorization, "Bearer secret-key");
  EXPECT_EQ(reqs[0].contentType, "application/json");
  EXPECT_EQ(reqs[0].body, "{\"x\":1}");
  EXPECT_TRUE(h.sleeps().empty());
}

TEST(BatchClient, RetriesA503AfterItsRetryAfterSeconds) {
  std::atomic<int> calls{0};
  at::TestServer server([&](const at::ReceivedRequest&) {
    return ++calls == 1 ? status(503, {{"Retry-After", "3"}}) : ok();
  });
  Harness h;
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->attempts, 2u);
  ASSERT_EQ(h.sleeps().size(), 1u);
  EXPECT_EQ(h.sleeps()[0], 3000ms);  // jitter drew 0; Retry-After is the floor
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(BatchClient, HonoursRetryAfterAsHttpDate) {
  Harness h;
  const auto now = h.clock.systemTime();
  const auto when = std::chrono::floor<std::chrono::seconds>(now) + 5s;
  const auto days = std::chrono::floor<std::chrono::days>(when);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{when - days};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char date[64];
  std::snprintf(date, sizeof date, "Mon, %02u %s %04d %02ld:%02ld:%02ld GMT", static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  std::atomic<int> calls{0};
  at::TestServer server([&](const at::ReceivedRequest&) {
    return ++calls == 1 ? status(429, {{"Retry-After", date}}) : ok();
  });
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_TRUE(res) << res.error().message;
  ASSERT_EQ(h.sleeps().size(), 1u);
  EXPECT_GE(h.sleeps()[0], 4000ms);
  EXPECT_LE(h.sleeps()[0], 5000ms);
}

TEST(BatchClient, NeverRetriesA400AndClassifiesItAsRejected) {
  at::TestServer server([](const at::ReceivedRequest&) { return status(400); });
  Harness h;
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::rejected);
  EXPECT_EQ(res.error().status, 400u);
  EXPECT_EQ(res.error().body, R"({"error":"nope"})");
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(h.sleeps().empty());
}

TEST(BatchClient, NeverRetries401Or403AndClassifiesThemAsAuth) {
  for (unsigned s : {401u, 403u}) {
    at::TestServer server([s](const at::ReceivedRequest&) { return status(s); });
    Harness h;
    auto client = h.client(server.url());
    auto res = client->send(post());
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().kind, bc::FailureKind::auth) << s;
    EXPECT_EQ(server.requests().size(), 1u) << s;
  }
}

TEST(BatchClient, GivesUpAfterMaxAttemptsWithExponentialJitteredBackoff) {
  at::TestServer server([](const at::ReceivedRequest&) { return status(500); });
  Harness h;
  h.random = 0.5;
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::server);
  EXPECT_EQ(res.error().status, 500u);
  EXPECT_EQ(res.error().attempts, 4u);
  EXPECT_NE(res.error().message.find("gave up after 4 attempts"), std::string::npos) << res.error().message;
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(h.sleeps(), (std::vector<std::chrono::nanoseconds>{50ms, 100ms, 200ms}));
}

TEST(BatchClient, RetryAfterLongerThanTheClientWaitsFailsAtOnce) {
  at::TestServer server([](const at::ReceivedRequest&) { return status(503, {{"Retry-After", "3600"}}); });
  Harness h;
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::server);
  EXPECT_NE(res.error().message.find("retry after 3600 s"), std::string::npos) << res.error().message;
  EXPECT_TRUE(h.sleeps().empty());
}

TEST(BatchClient, OperationTimeoutBoundsAllAttemptsAndSleeps) {
  at::TestServer server([](const at::ReceivedRequest&) { return status(503, {{"Retry-After", "4"}}); });
  Harness h;
  bc::Timeouts t;
  t.operation = 10s;
  auto client = h.client(server.url(), {}, t);
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("operation timeout"), std::string::npos) << res.error().message;
  EXPECT_EQ(h.sleeps().size(), 2u);  // 4 s + 4 s fit in 10 s, a third wait would not
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(BatchClient, AStallLongerThanTheRequestTimeoutIsRetried) {
  std::atomic<int> calls{0};
  at::TestServer server([&](const at::ReceivedRequest&) {
    if (++calls == 1) {
      at::Reply r;
      r.action = Action::stall;
      r.stallFor = 10s;
      return r;
    }
    return ok();
  });
  Harness h;
  bc::Timeouts t;
  t.request = 300ms;
  auto client = h.client(server.url(), {}, t);
  const auto start = std::chrono::steady_clock::now();
  auto res = client->send(post());
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->attempts, 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(server.connections(), 2u);  // the timed-out connection is not reused
}

TEST(BatchClient, AStallEveryTimeEndsAsANetworkFailureSayingTimedOut) {
  at::TestServer server([](const at::ReceivedRequest&) {
    at::Reply r;
    r.action = Action::stall;
    r.stallFor = 10s;
    return r;
  });
  Harness h;
  bc::Timeouts t;
  t.request = 150ms;
  auto client = h.client(server.url(), {}, t);
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::network);
  EXPECT_NE(res.error().message.find("timed out"), std::string::npos) << res.error().message;
  EXPECT_EQ(res.error().attempts, 4u);
}

TEST(BatchClient, ConnectionDroppedBeforeTheResponseIsRetried) {
  std::atomic<int> calls{0};
  at::TestServer server([&](const at::ReceivedRequest&) {
    at::Reply r = ok();
    if (++calls == 1) r.action = Action::closeWithoutResponse;
    return r;
  });
  Harness h;
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(BatchClient, TruncatedResponseBodyIsRetried) {
  std::atomic<int> calls{0};
  at::TestServer server([&](const at::ReceivedRequest&) {
    at::Reply r = ok(R"({"inserted":0,"duplicates":12345678})");
    if (++calls == 1) r.action = Action::truncateBody;
    return r;
  });
  Harness h;
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->body, R"({"inserted":0,"duplicates":12345678})");
  EXPECT_EQ(res->attempts, 2u);
}

TEST(BatchClient, KeepsOneConnectionAcrossRequests) {
  at::TestServer server([](const at::ReceivedRequest&) { return ok(); });
  Harness h;
  auto client = h.client(server.url());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->send(post()));
  EXPECT_EQ(client->connectionsOpened(), 1u);
  EXPECT_EQ(server.connections(), 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 5u);
  for (const auto& r : reqs) EXPECT_EQ(r.connection, 1u);
}

TEST(BatchClient, ReconnectsWhenTheServerClosedTheConnection) {
  at::TestServer server([](const at::ReceivedRequest&) {
    at::Reply r = ok();
    r.keepAlive = false;
    return r;
  });
  Harness h;
  auto client = h.client(server.url());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->send(post()));
  EXPECT_EQ(server.connections(), 3u);
  EXPECT_TRUE(h.sleeps().empty());  // a closed keep-alive connection is not a failure
}

TEST(BatchClient, AKeepAliveConnectionTheServerDroppedWhileIdleIsReopenedAtOnce) {
  at::TestServer server([](const at::ReceivedRequest&) {
    at::Reply r = ok();
    r.closeSilentlyAfter = true;
    return r;
  });
  Harness h;
  auto client = h.client(server.url());
  for (int i = 0; i < 3; ++i) {
    auto res = client->send(post());
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->attempts, 1u);
  }
  EXPECT_EQ(server.connections(), 3u);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_TRUE(h.sleeps().empty());
}

TEST(BatchClient, ConnectionRefusedIsANetworkFailureAfterRetries) {
  std::uint16_t port = 0;
  {
    at::TestServer gone([](const at::ReceivedRequest&) { return ok(); });
    port = gone.port();
  }
  Harness h;
  auto client = h.client("http://127.0.0.1:" + std::to_string(port));
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::network);
  EXPECT_EQ(res.error().attempts, 4u);
  EXPECT_NE(res.error().message.find("connect"), std::string::npos) << res.error().message;
}

TEST(BatchClient, SendsExtraHeaderFieldsSuchAsContentDigest) {
  at::TestServer server([](const at::ReceivedRequest&) { return ok(); });
  Harness h;
  auto client = h.client(server.url());
  auto request = post(R"({"hello": "world"})");
  request.headers.emplace_back("Content-Digest", bc::contentDigestSha256(request.body));
  ASSERT_TRUE(client->send(request));
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  // RFC 9530's own example body and value.
  EXPECT_EQ(reqs[0].headers.at("Content-Digest"), "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  EXPECT_EQ(bc::contentDigestSha256(""), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
}

// The failure names the last attempt; the history tells what happened before it:
// here the server answered 503, then dropped the request, then was gone.
TEST(BatchClient, AFailureKeepsTheHistoryOfEveryAttempt) {
  std::atomic<int> calls{0};
  auto server = std::make_unique<at::TestServer>([&](const at::ReceivedRequest&) {
    at::Reply r = status(503);
    r.body = R"({"error":"database unavailable"})";
    r.keepAlive = false;  // each attempt on a fresh connection: the drop is not a stale keep-alive
    if (++calls == 2) r.action = Action::closeWithoutResponse;
    return r;
  });
  attendance::support::SimulatedTimeSource clock;
  clock.onSleep([&](std::chrono::nanoseconds) {
    if (clock.sleeps().size() == 2) server.reset();  // gone before the third attempt
  });
  bc::Hooks hooks{[] { return 0.0; }};
  bc::ClientOptions o;
  o.endpoint = *bc::parseEndpoint(server->url(), false);
  o.retry.maxAttempts = 3;
  bc::BatchClient client(o, clock, hooks);
  auto res = client.send(post());
  ASSERT_FALSE(res);
  const auto& history = res.error().history;
  ASSERT_EQ(history.size(), 3u) << res.error().message;
  EXPECT_EQ(history[0].stage, "answer");
  EXPECT_EQ(history[0].status, 503u);
  EXPECT_EQ(history[0].body, R"({"error":"database unavailable"})");
  EXPECT_EQ(history[1].stage, "receive");
  EXPECT_EQ(history[1].status, 0u);
  EXPECT_EQ(history[2].stage, "connect");
  EXPECT_NE(history[2].error.find("refused"), std::string::npos) << history[2].error;
}

TEST(BatchClient, GetRequestsWork) {
  at::TestServer server([](const at::ReceivedRequest& r) { return ok("{\"target\":\"" + r.target + "\"}"); });
  Harness h;
  auto client = h.client(server.url() + "/base/");
  bc::Request r;
  r.method = "GET";
  r.path = "/api/events/e1/roster";
  auto res = client->send(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->body, R"({"target":"/base/api/events/e1/roster"})");
  EXPECT_EQ(server.requests().at(0).method, "GET");
}

class BatchClientTls : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new at::TempDir();
    good_ = new at::TestPki(at::makeTestPki(dir_->path() / "good", "DNS:localhost,IP:127.0.0.1"));
    otherName_ = new at::TestPki(at::makeTestPki(dir_->path() / "other", "DNS:other.example"));
    otherCa_ = new at::TestPki(at::makeTestPki(dir_->path() / "unrelated", "DNS:localhost,IP:127.0.0.1"));
  }
  static void TearDownTestSuite() {
    delete good_;
    delete otherName_;
    delete otherCa_;
    delete dir_;
  }
  static inline at::TempDir* dir_ = nullptr;
  static inline at::TestPki* good_ = nullptr;
  static inline at::TestPki* otherName_ = nullptr;
  static inline at::TestPki* otherCa_ = nullptr;
};

TEST_F(BatchClientTls, TrustedCertificateForTheHostNameIsAccepted) {
  at::TestServer server([](const at::ReceivedRequest&) { return ok(); }, good_->server);
  for (const char* host : {"localhost", "127.0.0.1"}) {
    Harness h;
    auto client = h.client(server.url(host), good_->caCertificate.string());
    for (int i = 0; i < 3; ++i) {
      auto res = client->send(post());
      ASSERT_TRUE(res) << host << ": " << res.error().message;
    }
    EXPECT_EQ(client->connectionsOpened(), 1u) << host;  // keep-alive over TLS too
  }
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[0].serverName, "localhost");  // SNI for a name
  EXPECT_EQ(reqs[5].serverName, "");           // none for an IP literal (RFC 6066)
}

TEST_F(BatchClientTls, CertificateForAnotherHostNameIsRefused) {
  at::TestServer server([](const at::ReceivedRequest&) { return ok(); }, otherName_->server);
  Harness h;
  auto client = h.client(server.url("localhost"), otherName_->caCertificate.string());
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::tls);
  EXPECT_EQ(res.error().attempts, 1u);     // not retried
  EXPECT_TRUE(server.requests().empty());  // the key was never sent
  EXPECT_NE(res.error().message.find("not trusted for \"localhost\""), std::string::npos) << res.error().message;
}

TEST_F(BatchClientTls, CertificateFromAnUnknownCaIsRefused) {
  at::TestServer server([](const at::ReceivedRequest&) { return ok(); }, otherCa_->server);
  Harness h;
  auto client = h.client(server.url("localhost"), good_->caCertificate.string());
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::tls);
  EXPECT_TRUE(server.requests().empty());

  // Nor does the system trust store know the test CA.
  auto systemStore = h.client(server.url("localhost"));
  auto res2 = systemStore->send(post());
  ASSERT_FALSE(res2);
  EXPECT_EQ(res2.error().kind, bc::FailureKind::tls);
  EXPECT_NE(res2.error().message.find("--ca-file"), std::string::npos) << res2.error().message;
}

TEST_F(BatchClientTls, UnreadableCaFileIsAClearError) {
  Harness h;
  auto client = h.client("https://localhost:1", (dir_->path() / "missing.pem").string());
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::tls);
  EXPECT_NE(res.error().message.find("missing.pem"), std::string::npos) << res.error().message;
}

namespace {

// A server that answers whatever arrives in plain HTTP, as a backend without TLS does
// when a client starts a TLS handshake: one "400 Bad Request", then it closes.
class PlainHttpListener {
public:
  PlainHttpListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buffer[4096];
      (void)::recv(c, buffer, sizeof buffer, 0);  // the ClientHello
      const std::string_view answer =
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request";
      (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~PlainHttpListener() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  PlainHttpListener(const PlainHttpListener&) = delete;
  PlainHttpListener& operator=(const PlainHttpListener&) = delete;
  [[nodiscard]] unsigned short port() const { return port_; }

private:
  int fd_ = -1;
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace

// https:// to a backend that speaks plain HTTP: the message says so, not "certificate not trusted".
TEST(BatchClient, HttpsToAPlainHttpServerSaysItSpeaksPlainHttp) {
  PlainHttpListener plain;
  Harness h;
  auto client = h.client("https://127.0.0.1:" + std::to_string(plain.port()));
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::tls);
  EXPECT_EQ(res.error().attempts, 1u);  // not retried: a configuration error
  EXPECT_NE(res.error().message.find("the backend speaks plain HTTP; use http:// or put TLS in front"),
            std::string::npos)
      << res.error().message;
  EXPECT_EQ(res.error().message.find("certificate"), std::string::npos) << res.error().message;
}

// http:// to a port that expects TLS (HAProxy's `bind … ssl`): it closes without a byte; the message
// suggests https:// (still a network failure: a crashing server looks the same).
TEST(BatchClient, AConnectionClosedUnansweredOverPlainHttpSuggestsHttps) {
  at::TestServer server([&](const at::ReceivedRequest&) {
    at::Reply r = ok();
    r.action = Action::closeWithoutResponse;
    return r;
  });
  Harness h;
  auto client = h.client(server.url());
  auto res = client->send(post());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, bc::FailureKind::network);
  EXPECT_NE(res.error().message.find("if it expects TLS, use https://"), std::string::npos) << res.error().message;
}
