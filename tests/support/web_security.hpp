#pragma once
// The web security suite (web_security.cpp): one list of tests run against every
// server that has signed-in HTML pages, the admin console (tests/admin) and the
// participant pages of the backend (tests/backend), issue 12. A test binary
// describes its server as a `Site` and instantiates the suite with
// ATTENDANCE_WEB_SECURITY_SUITE; the tests speak only HTTP to it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "support/test_client.hpp"

namespace attendance::testing::web_security {

// A browser: a cookie jar, one connection per request.
class WebBrowser {
public:
  explicit WebBrowser(std::uint16_t port) : port_(port) {}
  ClientResponse get(const std::string& target) { return send("GET", target, {}, {}); }
  // POSTs `body` as a form (or as `contentType`).
  ClientResponse post(const std::string& target, const std::string& body,
                      const std::string& contentType = "application/x-www-form-urlencoded") {
    return send("POST", target, body, {{"Content-Type", contentType}});
  }
  ClientResponse send(const std::string& method, const std::string& target, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers);

  std::map<std::string, std::string> cookies;
  std::vector<std::string> setCookies;  // the Set-Cookie values of the last response

private:
  std::uint16_t port_;
};

// application/x-www-form-urlencoded from pairs.
[[nodiscard]] std::string formBody(const std::vector<std::pair<std::string, std::string>>& fields);

// What the suite needs to know of a server.
struct SiteTraits {
  std::string signIn;         // GET: the sign-in form; POST: signing in
  std::string signOut;        // POST: signing out
  std::string home;           // a page only a signed-in user sees
  std::string sessionCookie;  // its name without the __Host- prefix
  std::string sameSite;       // of the session cookie
  std::string email;          // an account that exists, and its password
  std::string password;
  int failuresPerAccount = 5;  // failed sign-ins before the account waits
  int failuresPerAddress = 20;
  std::size_t formBodyLimit = 0;  // bytes of a POSTed form
};

// A state-changing form of a signed-in user: with its token it would change something.
struct FormPost {
  std::string target;
  std::vector<std::pair<std::string, std::string>> fields;  // without csrf
};

struct SiteOptions {
  bool secureCookies = false;  // behind TLS: `Secure` and the __Host- prefix
};

// One server under test, on 127.0.0.1 with its own throwaway database and a clock the test moves.
class Site {
public:
  virtual ~Site() = default;
  [[nodiscard]] virtual const SiteTraits& traits() const = 0;
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  virtual void advanceClock(std::chrono::seconds by) = 0;
  // Every state-changing form a signed-in user has (sign-out included).
  [[nodiscard]] virtual std::vector<FormPost> forms() = 0;
  // Everything those forms could change, as text to compare before and after.
  [[nodiscard]] virtual std::string state() = 0;
  // Stores `name` and `email` wherever a signed-in user's pages show stored text (the account's and other
  // people's names and emails, event names and venues); returns the pages that show them.
  [[nodiscard]] virtual std::vector<std::string> plantHostileText(const std::string& name,
                                                                  const std::string& email) = 0;
};

struct SiteKind {
  std::string name;
  std::function<std::unique_ptr<Site>(const SiteOptions&)> make;
};
inline void PrintTo(const SiteKind& kind, std::ostream* os) { *os << kind.name; }

class WebSecurity : public ::testing::TestWithParam<SiteKind> {
protected:
  void SetUp() override { site = GetParam().make({}); }
  void TearDown() override { site.reset(); }

  // The session cookie's name as this site sets it.
  [[nodiscard]] std::string sessionCookie() const { return site->traits().sessionCookie; }
  // Signs in through the form; returns the POST's answer.
  ClientResponse signIn(WebBrowser& b, const std::string& email, const std::string& password);
  WebBrowser signedIn();
  // The CSRF token of a signed-in browser's pages.
  std::string csrf(WebBrowser& b);

  std::unique_ptr<Site> site;
};

}  // namespace attendance::testing::web_security

// In one source file of a test binary, at global scope: runs the suite against the site `make` builds.
#define ATTENDANCE_WEB_SECURITY_SUITE(Name, make)                                                           \
  namespace attendance::testing::web_security {                                                             \
  INSTANTIATE_TEST_SUITE_P(Name, WebSecurity, ::testing::Values(SiteKind{#Name, make}),                     \
                           [](const ::testing::TestParamInfo<SiteKind>& kind) { return kind.param.name; }); \
  }
