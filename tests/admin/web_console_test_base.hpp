#pragma once
// The admin console served over real sockets on a throwaway database with one
// organizer account, and the helpers its HTTP test files share
// (web_access_test.cpp, web_resources_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include <attendance/core/assignments.hpp>
#include <attendance/core/batch.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/core/report.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/core/users.hpp>

#include <attendance/core/admin_accounts.hpp>
#include "web/html.hpp"
#include "admin/web_fixture.hpp"

namespace attendance::admin_web::testing {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// Like HasSubstr, without printing whole pages on failure.
inline bool has(const std::string& body, const std::string& part) { return body.find(part) != std::string::npos; }

constexpr const char* kEmail = "organizer@example.org";
constexpr const char* kPassword = "correct horse battery";

// Every route of the console, with a concrete path.
struct RouteCase {
  http::verb verb;
  std::string target;
};
inline std::vector<RouteCase> protectedRoutes() {
  return {
      {http::verb::get, "/"},
      {http::verb::get, "/events"},
      {http::verb::post, "/events"},
      {http::verb::get, "/events/ev-1"},
      {http::verb::post, "/events/ev-1"},
      {http::verb::post, "/events/ev-1/delete"},
      {http::verb::post, "/events/ev-1/registrations"},
      {http::verb::post, "/events/ev-1/door"},
      {http::verb::post, "/events/ev-1/registrations/00000000-0000-4000-8000-000000000000/delete"},
      {http::verb::get, "/events/ev-1/report.csv"},
      {http::verb::get, "/participants"},
      {http::verb::post, "/participants"},
      {http::verb::post, "/participants/00000000-0000-4000-8000-000000000000/disable"},
      {http::verb::post, "/participants/00000000-0000-4000-8000-000000000000/enable"},
      {http::verb::post, "/participants/00000000-0000-4000-8000-000000000000/regenerate-ble-uuid"},
      {http::verb::get, "/scanners"},
      {http::verb::post, "/scanners"},
      {http::verb::post, "/scanners/s1/revoke"},
      {http::verb::post, "/scanners/s1/assignments"},
      {http::verb::post, "/scanners/s1/assignments/ev-1/delete"},
      {http::verb::post, "/logout"},
      {http::verb::get, "/api/events"},
      {http::verb::get, "/api/events/ev-1/report"},
      {http::verb::get, "/api/participants"},
      {http::verb::get, "/api/scanners"},
  };
}

class AdminWebTest : public ::testing::Test {
protected:
  AdminWebTest() : server(db, WebOptions::forTests()) {
    core::AdminAuthConfig s;
    s.opsLimit = 1;
    s.memLimit = 8192;
    auto id = core::createAdmin(server.pool(), kEmail, kPassword, s, server.clock.systemTime());
    EXPECT_TRUE(id.has_value());
  }

  Browser signedIn() {
    Browser b{server.port()};
    const auto res = b.login(kEmail, kPassword);
    EXPECT_EQ(res.result(), http::status::see_other);
    return b;
  }

  core::Event makeEvent(const std::string& name) {
    core::NewEvent ev;
    ev.name = name;
    ev.venue = "Hall A";
    ev.startsAt = server.clock.systemTime() - 2h;
    ev.endsAt = server.clock.systemTime() - 1h;
    auto r = core::createEvent(server.pool(), ev, server.clock.systemTime());
    EXPECT_TRUE(r.has_value());
    return *r;
  }

  core::User makeUser(const std::string& email, const std::string& name) {
    core::NewUser u;
    u.email = email;
    u.displayName = name;
    auto r = core::createUser(server.pool(), u, core::AuthConfig::forTests(), server.clock.systemTime());
    EXPECT_TRUE(r.has_value());
    return *r;
  }

  TestDatabase db;
  TestServer server;
};

}  // namespace attendance::admin_web::testing
