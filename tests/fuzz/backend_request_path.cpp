// Fuzz target: attendance-backend's whole request path, bytes in and responses
// out with no socket (Server::serveBytes over the real router, guards and
// handlers), on a throwaway PostgreSQL database (PG* variables: run inside
// pg_virtualenv, as scripts/fuzz and scripts/test do).
//
// The database holds an event, a scanner assigned to it and a participant with
// a session. An input may write @KEY@ (the scanner's key), @TOKEN@ (the
// participant's session token), @UUID@ (their bleUuid) and @NOW@ (the time in
// ms), so the fuzzer reaches what lies behind the guards.
//
// Properties: whole HTTP/1.1 responses and never a 500, whatever arrives.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include <attendance/core/assignments.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/core/users.hpp>

#include "core/test_database.hpp"
#include "backend.hpp"
#include "request_path.hpp"

namespace {

namespace core = attendance::core;
namespace hs = attendance::http_server;
using namespace std::chrono_literals;

[[noreturn]] void setupFailed(const char* what) {
  std::fprintf(stderr, "backend_request_path: setup failed: %s (is PostgreSQL reachable through PG*?)\n", what);
  std::exit(1);
}

struct Backend {
  core::testing::TestDatabase db;
  core::ConnectionPool pool{db.config(2)};
  hs::BlockingPool blocking{2, 64};
  hs::BlockingPool passwords{1, 16};
  hs::MetricsRegistry metrics;
  attendance::support::RealTimeSource clock;
  hs::RateLimiter scannerLimiter{clock, 0, 1};
  hs::RateLimiter clientLimiter{clock, 0, 1};
  std::unique_ptr<attendance::backend::BackendContext> ctx;
  std::unique_ptr<hs::Server> server;
  attendance::fuzz::Placeholders placeholders;

  Backend() {
    if (!core::migrate(pool)) setupFailed("migrate");
    const auto now = clock.systemTime();
    core::NewEvent ev;
    ev.id = "ev-1";
    ev.name = "Fuzzed event";
    ev.venue = "Loopback";
    ev.startsAt = now - 1h;
    ev.endsAt = now + 1h;
    if (!core::createEvent(pool, ev, now)) setupFailed("event");
    auto scanner = core::createScanner(pool, "Entrance-01", now);
    if (!scanner || !core::assignScanner(pool, "Entrance-01", "ev-1", now)) setupFailed("scanner");
    const auto auth = core::AuthConfig::forTests();
    auto participant = core::createParticipant(
        pool, core::NewUser{"ada@example.com", "Ada", std::string{"correct horse battery"}}, auth, now);
    if (!participant || !core::registerForEvent(pool, "ev-1", participant->user.id, now)) setupFailed("participant");

    core::BatchLimits limits;
    limits.maxBodyBytes = 64 * 1024;
    limits.maxRecords = 100;
    ctx = std::make_unique<attendance::backend::BackendContext>(attendance::backend::BackendContext{
        pool, blocking, passwords, metrics, scannerLimiter, clientLimiter, clock, auth, limits, {}, 16 * 1024});
    attendance::backend::ServeOptions options;
    options.maxBody = 64 * 1024;
    options.accessLog = false;
    server = std::make_unique<hs::Server>(attendance::backend::serverConfigFor(options),
                                          attendance::backend::makeRouter(*ctx), metrics, &clock);
    placeholders = {{"@KEY@", scanner->apiKey},
                    {"@TOKEN@", participant->session.token},
                    {"@UUID@", participant->user.bleUuid.toString()}};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Backend backend;
  auto placeholders = backend.placeholders;
  placeholders.emplace_back("@NOW@", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        backend.clock.systemTime().time_since_epoch())
                                                        .count()));
  (void)attendance::fuzz::serveInput(*backend.server, backend.metrics, data, size, placeholders);
  return 0;
}
