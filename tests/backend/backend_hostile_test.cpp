// attendance-backend against hostile clients, on a real PostgreSQL over real
// sockets: credentials and media type are checked on the header before any body
// byte is read (and `100 Continue` is never sent to a refused request), sign-ins
// are limited per account and per address, and password hashing cannot starve ingest.
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "backend/backend_test_base.hpp"
#include "support/raw_socket.hpp"
#include "support/test_client.hpp"

namespace {

using namespace attendance::testing::backend_test;
using attendance::testing::Client;
using attendance::testing::execSql;
using attendance::testing::number;
using attendance::testing::RawSocket;
using attendance::testing::statusOf;

// Sends only the header of a request announcing a body (16 MB, within
// /batchCheckIn's limit; 60 kB elsewhere); returns what the server answered
// before any body byte was sent ("" when it waited for the body).
std::string answerToHeaderAlone(std::uint16_t port, const std::string& method, const std::string& path,
                                const std::string& extraHeaders) {
  RawSocket s{port};
  const std::string length = path == "/batchCheckIn" ? "16000000" : "60000";
  EXPECT_TRUE(s.send(method + " " + path + " HTTP/1.1\r\nHost: t\r\n" + extraHeaders +
                     "Expect: 100-continue\r\nContent-Length: " + length + "\r\n\r\n"));
  if (!s.answered(5s)) return {};
  return s.readAll(2s);
}

}  // namespace

// Attack: a 16 MB upload with no key (or a wrong one). Before, /batchCheckIn
// answered `100 Continue`, read the whole body, and only then looked at the key.
TEST_F(BackendTest, BatchWithoutAValidKeyIs401FromTheHeaderAndNever100Continue) {
  for (const std::string auth : {"", "Authorization: Bearer att_sk_wrong\r\n", "Authorization: Basic eDp5\r\n"}) {
    const std::string raw =
        answerToHeaderAlone(backend->port, "POST", "/batchCheckIn", auth + "Content-Type: application/json\r\n");
    EXPECT_EQ(statusOf(raw), 401) << "with '" << auth << "': " << raw;
    EXPECT_EQ(raw.find("100 Continue"), std::string::npos) << raw;
    EXPECT_NE(raw.find("WWW-Authenticate: Bearer"), std::string::npos) << raw;
  }
  EXPECT_EQ(checkIns(), 0);
  EXPECT_EQ(receipts(), 0);
}

TEST_F(BackendTest, BatchWithAValidKeyButWrongMediaTypeIs415FromTheHeader) {
  const std::string raw = answerToHeaderAlone(backend->port, "POST", "/batchCheckIn",
                                              "Authorization: Bearer " + apiKey + "\r\nContent-Type: text/csv\r\n");
  EXPECT_EQ(statusOf(raw), 415) << raw;
  EXPECT_EQ(raw.find("100 Continue"), std::string::npos) << raw;
}

TEST_F(BackendTest, EveryAuthenticatedRouteRefusesAStrangerBeforeTheBody) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/batchCheckIn"},
      {"GET", "/api/events/ev-1/roster"},
      {"GET", "/api/me"},
      {"POST", "/api/events/ev-1/registrations"},
      {"DELETE", "/api/events/ev-1/registrations"},
  };
  for (const auto& [method, path] : routes) {
    const std::string raw = answerToHeaderAlone(backend->port, method, path, "Content-Type: application/json\r\n");
    EXPECT_EQ(statusOf(raw), 401) << method << " " << path << ": " << raw;
    EXPECT_EQ(raw.find("100 Continue"), std::string::npos) << method << " " << path;
  }
}

TEST_F(BackendTest, AcceptedBatchStillGets100ContinueAndIsStored) {
  const auto t = nowMs() - 60'000;
  const std::string body = batch({record(aliceUuid, t)});
  Client c{backend->port};
  c.send("POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + apiKey +
         "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(c.read(5s).result_int(), 100);
  c.send(body);
  auto res = c.read();
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(checkIns(), 1);
}

// Attack: unlimited password guesses against one participant. Before, every
// guess got 401 forever.
TEST_F(BackendTest, ParticipantSignInsAreLimitedPerAccountWith429AndRetryAfter) {
  Client c{backend->port};
  auto created =
      c.request(request("POST", "/api/participants",
                        R"({"email":"carol@example.com","displayName":"Carol","password":"correct horse"})"));
  ASSERT_EQ(created.result_int(), 201) << created.body();
  for (int i = 0; i < 5; ++i) {
    auto res = c.request(request("POST", "/api/sessions", R"({"email":"carol@example.com","password":"guess"})"));
    EXPECT_EQ(res.result_int(), 401) << "guess " << i << ": " << res.body();
  }
  // Limited now: even the right password is not checked.
  auto limited =
      c.request(request("POST", "/api/sessions", R"({"email":"Carol@Example.com","password":"correct horse"})"));
  EXPECT_EQ(limited.result_int(), 429) << limited.body();
  EXPECT_GE(std::stoi(std::string{limited[boost::beast::http::field::retry_after]}), 1);
  // Another account from the same address is not limited by Carol's failures.
  auto other = c.request(request("POST", "/api/sessions", R"({"email":"dave@example.com","password":"guess"})"));
  EXPECT_EQ(other.result_int(), 401) << other.body();
  EXPECT_EQ(number(*db, "SELECT count(*) FROM participant_login_attempts WHERE NOT succeeded"), 6);
  // When the window has passed, the right password works again.
  execSql(*db, "UPDATE participant_login_attempts SET attempted_at = attempted_at - interval '1 hour'");
  auto later =
      c.request(request("POST", "/api/sessions", R"({"email":"carol@example.com","password":"correct horse"})"));
  EXPECT_EQ(later.result_int(), 200) << later.body();
}

TEST_F(BackendTest, ParticipantSignInsAreLimitedPerAddress) {
  Client c{backend->port};
  for (int i = 0; i < 20; ++i) {
    auto res = c.request(
        request("POST", "/api/sessions", fmt::format(R"({{"email":"user{}@example.com","password":"guess"}})", i)));
    EXPECT_EQ(res.result_int(), 401) << i;
  }
  auto res = c.request(request("POST", "/api/sessions", R"({"email":"fresh@example.com","password":"guess"})"));
  EXPECT_EQ(res.result_int(), 429) << res.body();
}

namespace {

class RealPasswordCostBackendTest : public BackendTest {
protected:
  void SetUp() override {
    BackendOptions o;
    o.auth = core::AuthConfig{};  // libsodium INTERACTIVE: 64 MiB, ~0.1 s per hash
    o.auth.loginLimits.maxFailuresPerAddress = 1000;
    o.passwordThreads = 1;
    o.maxPendingPasswords = 2;
    SetUpWith(o);
  }
};

}  // namespace

// Attack: a burst of sign-ins. Before, Argon2id ran on the database pool, and
// 16 concurrent sign-ins raised /batchCheckIn latency from ~3 ms to ~3 s.
TEST_F(RealPasswordCostBackendTest, SignInBurstGets429AndIngestIsNotQueuedBehindIt) {
  constexpr int kSignIns = 12;
  std::vector<std::future<std::pair<int, std::chrono::steady_clock::time_point>>> signIns;
  for (int i = 0; i < kSignIns; ++i) {
    signIns.push_back(std::async(std::launch::async, [this, i] {
      Client c{backend->port};
      auto res = c.request(
          request("POST", "/api/sessions", fmt::format(R"({{"email":"u{}@example.com","password":"guess"}})", i)));
      return std::make_pair(static_cast<int>(res.result_int()), std::chrono::steady_clock::now());
    }));
  }
  std::this_thread::sleep_for(20ms);  // the burst is under way
  const auto t = nowMs() - 60'000;
  Client c{backend->port};
  auto ingest = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t)}), apiKey));
  const auto ingestDone = std::chrono::steady_clock::now();
  EXPECT_EQ(ingest.result_int(), 200) << ingest.body();

  int refused = 0;
  int answered401 = 0;
  auto lastSignIn = std::chrono::steady_clock::time_point{};
  for (auto& f : signIns) {
    const auto [status, at] = f.get();
    if (status == 429) ++refused;
    if (status == 401) {
      ++answered401;
      lastSignIn = std::max(lastSignIn, at);
    }
  }
  // One hashing, two queued: the rest were told to come back, at once.
  EXPECT_GE(refused, kSignIns - 4);
  EXPECT_GE(answered401, 1);
  EXPECT_EQ(refused + answered401, kSignIns);
  EXPECT_LT(ingestDone, lastSignIn) << "the batch waited for the sign-ins' password hashing";
  EXPECT_GE(backend->metrics.value("attendance_rate_limited_total", {{"kind", "password_pool"}}), refused);
}
