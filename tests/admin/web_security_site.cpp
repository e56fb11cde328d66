// The admin console as a site of the shared web security suite
// (tests/support/web_security.hpp): the same tests run against the participant
// pages (tests/backend/participant_web_security_site.cpp).
#include "admin/web_console_test_base.hpp"
#include "support/web_security.hpp"
#include "web/console.hpp"

namespace attendance::admin_web::testing {
namespace {

namespace ws = attendance::testing::web_security;

class AdminSite : public ws::Site {
public:
  explicit AdminSite(const ws::SiteOptions& o) : server_(db_, options(o)) {
    core::AdminAuthConfig s;
    s.opsLimit = 1;
    s.memLimit = 8192;
    EXPECT_TRUE(core::createAdmin(server_.pool(), kEmail, kPassword, s, server_.clock.systemTime()).has_value());
    traits_ = {.signIn = "/login",
               .signOut = "/logout",
               .home = "/events",
               .sessionCookie = "attendance_session",
               .sameSite = "Strict",
               .email = kEmail,
               .password = kPassword,
               .failuresPerAccount = 5,
               .failuresPerAddress = 20,
               .formBodyLimit = kFormBodyLimit};
    event_ = makeEvent("Keep me", "Hall A");
    auto user = core::createUser(server_.pool(), core::NewUser{"ana@example.org", "Ana", std::nullopt},
                                 core::AuthConfig::forTests(), now());
    EXPECT_TRUE(user.has_value());
    userId_ = user->id;
    EXPECT_TRUE(core::registerForEvent(server_.pool(), event_.id, userId_, now()));
    EXPECT_TRUE(core::createScanner(server_.pool(), "s1", now()));
  }

  [[nodiscard]] const ws::SiteTraits& traits() const override { return traits_; }
  [[nodiscard]] std::uint16_t port() const override { return server_.port(); }
  void advanceClock(std::chrono::seconds by) override { server_.clock.advance(by); }

  // Every POST of the console, on rows that exist, with fields that would change them.
  std::vector<ws::FormPost> forms() override {
    std::vector<ws::FormPost> out;
    const std::vector<std::pair<std::string, std::string>> ids{{"ev-1", event_.id},
                                                               {"00000000-0000-4000-8000-000000000000", userId_}};
    for (const auto& r : protectedRoutes()) {
      if (r.verb != http::verb::post) continue;
      std::string target = r.target;
      for (const auto& [from, to] : ids) {
        if (auto at = target.find(from); at != std::string::npos) target.replace(at, from.size(), to);
      }
      out.push_back({target,
                     {{"name", "x"},
                      {"venue", "y"},
                      {"force", "1"},
                      {"email", "ana@example.org"},
                      {"scannerId", "s2"},
                      {"eventId", event_.id},
                      {"action", "check_in"},
                      {"reason", "test"}}});
    }
    return out;
  }

  std::string state() override {
    return db_.scalar(
        "SELECT concat_ws('|', (SELECT string_agg(id || name || coalesce(venue, ''), ',' ORDER BY id) FROM events),"
        " (SELECT string_agg(id::text || email || display_name || disabled::text || ble_uuid::text, ',' ORDER BY id)"
        "  FROM users),"
        " (SELECT count(*) FROM registrations), (SELECT count(*) FROM check_in_overrides),"
        " (SELECT string_agg(scanner_id || coalesce(revoked_at::text, ''), ',' ORDER BY scanner_id) FROM scanners),"
        " (SELECT count(*) FROM scanner_assignments), (SELECT count(*) FROM admin_sessions))");
  }

  std::vector<std::string> plantHostileText(const std::string& name, const std::string& email) override {
    const auto event = makeEvent(name, name);
    auto user =
        core::createUser(server_.pool(), core::NewUser{email, name, std::nullopt}, core::AuthConfig::forTests(), now());
    EXPECT_TRUE(user.has_value()) << user.error().message();
    if (user) {
      EXPECT_TRUE(core::registerForEvent(server_.pool(), event.id, user->id, now()));
    }
    return {"/events", "/events/" + event.id, "/participants"};
  }

private:
  static WebOptions options(const ws::SiteOptions& o) {
    WebOptions w = WebOptions::forTests();
    w.secureCookies = o.secureCookies;
    return w;
  }
  [[nodiscard]] std::chrono::system_clock::time_point now() const { return server_.clock.systemTime(); }
  core::Event makeEvent(const std::string& name, const std::string& venue) {
    core::NewEvent ev;
    ev.name = name;
    ev.venue = venue;
    ev.startsAt = now() + std::chrono::hours{1};
    ev.endsAt = now() + std::chrono::hours{2};
    auto r = core::createEvent(server_.pool(), ev, now());
    EXPECT_TRUE(r.has_value());
    return *r;
  }

  TestDatabase db_;
  TestServer server_;
  ws::SiteTraits traits_;
  core::Event event_;
  std::string userId_;
};

std::unique_ptr<ws::Site> makeAdminSite(const ws::SiteOptions& o) { return std::make_unique<AdminSite>(o); }

}  // namespace
}  // namespace attendance::admin_web::testing

ATTENDANCE_WEB_SECURITY_SUITE(AdminConsole, ::attendance::admin_web::testing::makeAdminSite)
