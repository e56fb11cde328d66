// Fuzz target: the admin console's whole request path, bytes in and responses
// out with no socket (Server::serveBytes over the real WebApp routes), on a
// throwaway PostgreSQL database (PG* variables: run inside pg_virtualenv, as
// scripts/fuzz and scripts/test do).
//
// The database holds an admin, an event and a participant. Setup signs the
// admin in through the same path (GET /login, POST /login), so an input may
// write @SESSION@ (the session cookie's value) and @CSRF@ (the session's CSRF
// token) to reach the pages and forms behind the sign-in; after an input that
// signs out, setup signs in again.
//
// Properties: whole HTTP/1.1 responses and never a 500, whatever arrives.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "web/app.hpp"
#include <attendance/core/events.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/users.hpp>

#include <attendance/core/admin_accounts.hpp>
#include "core/test_database.hpp"
#include "request_path.hpp"
#include "support/admin_form.hpp"

namespace {

namespace aw = attendance::admin_web;
namespace core = attendance::core;
namespace hs = attendance::http_server;
using namespace std::chrono_literals;
using attendance::testing::csrfField;
using attendance::testing::setCookieValue;

constexpr const char* kEmail = "admin@example.com";
constexpr const char* kPassword = "admin password 1";

[[noreturn]] void setupFailed(const std::string& what) {
  std::fprintf(stderr, "admin_request_path: setup failed: %s (is PostgreSQL reachable through PG*?)\n", what.c_str());
  std::exit(1);
}

struct Console {
  core::testing::TestDatabase db;
  core::ConnectionPool pool{db.config(2)};
  hs::BlockingPool blocking{2, 64};
  hs::MetricsRegistry metrics;
  attendance::support::RealTimeSource clock;
  std::unique_ptr<aw::WebApp> app;
  std::unique_ptr<hs::Server> server;
  attendance::fuzz::Placeholders placeholders;

  Console() {
    if (!core::migrate(pool)) setupFailed("migrate");
    const auto now = clock.systemTime();
    core::AdminAuthConfig settings;
    settings.opsLimit = 1;
    settings.memLimit = 8192;
    if (!core::createAdmin(pool, kEmail, kPassword, settings, now)) setupFailed("admin");
    core::NewEvent ev;
    ev.id = "ev-1";
    ev.name = "Fuzzed event";
    ev.venue = "Loopback";
    ev.startsAt = now - 1h;
    ev.endsAt = now + 1h;
    if (!core::createEvent(pool, ev, now)) setupFailed("event");
    auto ada = core::createUser(pool, core::NewUser{"ada@example.com", "Ada", std::nullopt},
                                core::AuthConfig::forTests(), now);
    if (!ada || !core::registerForEvent(pool, "ev-1", ada->id, now)) setupFailed("participant");

    app = std::make_unique<aw::WebApp>(pool, blocking, clock, aw::WebOptions::forTests(), &metrics);
    hs::Router router;
    app->addRoutes(router);
    hs::ServerConfig cfg;
    cfg.accessLog = false;
    server = std::make_unique<hs::Server>(cfg, std::move(router), metrics, &clock);
    signIn();
  }

  // The admin signs in through the request path itself.
  void signIn() {
    const std::string page = server->serveBytes("GET /login HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string loginCookie = setCookieValue(page, "attendance_login");
    const std::string form = "csrf=" + csrfField(page) + "&email=admin%40example.com&password=admin+password+1";
    const std::string signedIn = server->serveBytes(
        "POST /login HTTP/1.1\r\nHost: x\r\nCookie: attendance_login=" + loginCookie +
        "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + std::to_string(form.size()) +
        "\r\n\r\n" + form);
    const std::string session = setCookieValue(signedIn, "attendance_session");
    if (session.empty()) setupFailed("sign-in: " + signedIn.substr(0, 200));
    const std::string events =
        server->serveBytes("GET /events HTTP/1.1\r\nHost: x\r\nCookie: attendance_session=" + session + "\r\n\r\n");
    const std::string csrf = csrfField(events);
    if (csrf.empty()) setupFailed("no CSRF token on /events");
    placeholders = {{"@SESSION@", session}, {"@CSRF@", csrf}};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Console console;
  (void)attendance::fuzz::serveInput(*console.server, console.metrics, data, size, console.placeholders);
  // An input that signed out (POST /logout) ended the session the next inputs would use.
  if (std::string_view{reinterpret_cast<const char*>(data), size}.find("logout") != std::string_view::npos) {
    console.signIn();
  }
  return 0;
}
