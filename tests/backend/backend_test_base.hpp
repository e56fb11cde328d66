#pragma once
// The backend's router served in-process on 127.0.0.1:0 over a throwaway,
// migrated and seeded database (an event, two scanners, two participants), and
// request builders: shared by the backend's API test files.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <attendance/core/core.hpp>
#include <attendance/support/clock.hpp>

#include "backend/backend_fixture.hpp"

namespace attendance::testing::backend_test {

namespace core = attendance::core;
namespace hs = attendance::http_server;
namespace json = boost::json;
using attendance::backend::BackendContext;
using namespace std::chrono_literals;

inline constexpr const char* kEvent = "ev-1";
inline constexpr const char* kScanner = "Entrance-Scanner-01";

struct BackendOptions {
  std::size_t maxBody = 16U * 1024U * 1024U;
  std::size_t maxRecords = 100'000;
  double rate = 0;  // off unless a test wants it
  double burst = 1;
  // Password hashing: its own pool, as `serve` has; the cheapest Argon2id unless a test wants the real cost.
  std::size_t passwordThreads = 1;
  std::size_t maxPendingPasswords = 16;
  core::AuthConfig auth = core::AuthConfig::forTests();
  core::IngestOptions ingest;  // the event window's slack: serve's --event-window-slack
  bool secureCookies = false;  // serve's --secure-cookies (the participant pages)
};

// The backend's router served in-process, wired like `serve` does.
class InProcessBackend {
public:
  InProcessBackend(const std::string& conninfo, const BackendOptions& o)
      : pool_(core::DatabaseConfig{conninfo, 4, 2000ms, 2}),
        blocking_(4, 64),
        passwords_(o.passwordThreads, o.maxPendingPasswords),
        scannerLimiter_(clock, o.rate, o.burst),
        clientLimiter_(clock, o.rate, o.burst) {
    core::BatchLimits limits;
    limits.maxBodyBytes = o.maxBody;
    limits.maxRecords = o.maxRecords;
    ctx_ = std::make_unique<BackendContext>(BackendContext{pool_, blocking_, passwords_, metrics, scannerLimiter_,
                                                           clientLimiter_, clock, o.auth, limits, o.ingest, 64 * 1024});
    ctx_->secureCookies = o.secureCookies;
    attendance::backend::ServeOptions so;
    so.listen = "127.0.0.1:0";
    so.maxBody = o.maxBody;
    so.accessLog = false;
    server_ = std::make_unique<hs::Server>(attendance::backend::serverConfigFor(so),
                                           attendance::backend::makeRouter(*ctx_), metrics, &clock);
    port = server_->listen().port();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~InProcessBackend() {
    server_->stop();
    thread_.join();
    blocking_.join();
    passwords_.join();
  }

  // Every route it answers (tests/api checks them against the OpenAPI document).
  [[nodiscard]] const hs::Router& router() const { return server_->router(); }

  // Starts at the real now (tests compare with database timestamps); moved by hand, read by server threads.
  support::SimulatedTimeSource clock{std::chrono::system_clock::now()};
  hs::MetricsRegistry metrics;
  std::uint16_t port = 0;

private:
  core::ConnectionPool pool_;
  hs::BlockingPool blocking_;
  hs::BlockingPool passwords_;
  hs::RateLimiter scannerLimiter_;
  hs::RateLimiter clientLimiter_;
  std::unique_ptr<BackendContext> ctx_;
  std::unique_ptr<hs::Server> server_;
  std::thread thread_;
};

inline std::string request(std::string_view method, std::string_view path, std::string_view body = {},
                           std::string_view bearer = {}, std::string_view contentType = "application/json") {
  std::string r = fmt::format("{} {} HTTP/1.1\r\nHost: test\r\n", method, path);
  if (!bearer.empty()) r += fmt::format("Authorization: Bearer {}\r\n", bearer);
  if (!contentType.empty() && !body.empty()) r += fmt::format("Content-Type: {}\r\n", contentType);
  if (!body.empty() || method == "POST") r += fmt::format("Content-Length: {}\r\n", body.size());
  r += "\r\n";
  r += body;
  return r;
}

inline json::object parseObject(const std::string& body) {
  auto v = json::parse(body);
  return v.as_object();
}

inline std::string record(const std::string& uuid, std::int64_t time, const std::string& scanner = kScanner) {
  return fmt::format(R"({{"bleUuid":"{}","checkInTime":{},"scannerId":"{}"}})", uuid, time, scanner);
}

inline std::string batch(const std::vector<std::string>& records, const std::string& eventId = kEvent) {
  std::string out = fmt::format(R"({{"eventId":"{}","records":[)", eventId);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out += ',';
    out += records[i];
  }
  return out + "]}";
}

inline std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class BackendTest : public ::testing::Test {
protected:
  void SetUp() override { SetUpWith({}); }

  void SetUpWith(const BackendOptions& options) {
    db = std::make_unique<TestDatabase>();
    auto migrated = attendance::testing::runBackend({"migrate"}, db->conninfo());
    ASSERT_EQ(migrated.code, 0) << migrated.err;
    seed();
    backend = std::make_unique<InProcessBackend>(db->conninfo(), options);
  }

  void TearDown() override {
    backend.reset();
    db.reset();
  }

  void seed() {
    core::ConnectionPool pool{core::DatabaseConfig{db->conninfo(), 1, 2000ms, 2}};
    const auto now = std::chrono::system_clock::now();
    core::NewEvent ev;
    ev.id = kEvent;
    ev.name = "Demo event";
    ev.venue = "Hall A";
    ev.startsAt = now + 1h;
    ev.endsAt = now + 3h;
    ASSERT_TRUE(core::createEvent(pool, ev, now));
    auto scanner = core::createScanner(pool, kScanner, now);
    ASSERT_TRUE(scanner);
    apiKey = scanner->apiKey;
    auto other = core::createScanner(pool, "Exit-Scanner-02", now);
    ASSERT_TRUE(other);
    otherKey = other->apiKey;
    ASSERT_TRUE(core::assignScanner(pool, kScanner, kEvent, now));
    ASSERT_TRUE(core::assignScanner(pool, "Exit-Scanner-02", kEvent, now));
    auto auth = core::AuthConfig::forTests();
    auto alice = core::createUser(pool, core::NewUser{"alice@example.com", "Alice", std::nullopt}, auth, now);
    ASSERT_TRUE(alice);
    aliceUuid = alice->bleUuid.toString();
    auto bob = core::createUser(pool, core::NewUser{"bob@example.com", "Bob", std::nullopt}, auth, now);
    ASSERT_TRUE(bob);
    bobUuid = bob->bleUuid.toString();
    ASSERT_TRUE(core::registerForEvent(pool, kEvent, alice->id, now));
  }

  void revoke(const std::string& scannerId) {
    core::ConnectionPool pool{core::DatabaseConfig{db->conninfo(), 1, 2000ms, 2}};
    ASSERT_TRUE(core::revokeScanner(pool, scannerId, std::chrono::system_clock::now()));
  }

  // Runs f with a short-lived pool on the test database.
  template <class F>
  void withPool(F&& f) {
    core::ConnectionPool pool{core::DatabaseConfig{db->conninfo(), 1, 2000ms, 2}};
    f(pool);
  }

  long long checkIns() const { return number(*db, "SELECT count(*) FROM check_ins"); }
  long long receipts() const { return number(*db, "SELECT count(*) FROM sync_receipts"); }

  std::unique_ptr<TestDatabase> db;
  std::unique_ptr<InProcessBackend> backend;
  std::string apiKey;
  std::string otherKey;
  std::string aliceUuid;
  std::string bobUuid;
  const std::string unknownUuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
};

}  // namespace attendance::testing::backend_test
