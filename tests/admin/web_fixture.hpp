#pragma once

// Test fixtures for the admin web console: a throwaway database, the real
// server on 127.0.0.1:0 with a hand-driven clock, and a cookie-keeping client
// whose every socket operation has a deadline.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include "web/app.hpp"
#include <attendance/core/database.hpp>
#include "core/test_database.hpp"
#include "support/admin_form.hpp"
#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/server.hpp>
#include <attendance/support/clock.hpp>

namespace attendance::admin_web::testing {

namespace http = boost::beast::http;
using ClientResponse = http::response<http::string_body>;

// The throwaway database every storage test uses (tests/core).
using TestDatabase = attendance::core::testing::TestDatabase;

class TestServer {
public:
  TestServer(const TestDatabase& db, WebOptions options);
  ~TestServer();
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] core::ConnectionPool& pool() { return *pool_; }
  // Every route it answers (tests/api checks them against the OpenAPI document).
  [[nodiscard]] const http_server::Router& router() const { return server_->router(); }
  // Moved by hand; server threads read it.
  support::SimulatedTimeSource clock{support::fromEpochMillis(1'790'000'000'000)};  // 2026-09-21

private:
  std::unique_ptr<core::ConnectionPool> pool_;
  std::unique_ptr<http_server::BlockingPool> blocking_;
  http_server::MetricsRegistry metrics_;  // before app_: the app counts into it until destroyed
  std::unique_ptr<WebApp> app_;
  std::unique_ptr<http_server::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

// One connection per request, like a browser with a cookie jar.
class Browser {
public:
  explicit Browser(std::uint16_t port) : port_(port) {}
  ClientResponse get(const std::string& target, const std::map<std::string, std::string>& headers = {});
  ClientResponse post(const std::string& target, const std::string& form,
                      const std::map<std::string, std::string>& headers = {});
  ClientResponse send(http::verb verb, const std::string& target, const std::string& body,
                      const std::map<std::string, std::string>& headers);

  // Signs in through GET /login + POST /login; returns the POST's response.
  ClientResponse login(const std::string& email, const std::string& password);
  // The CSRF token of the signed-in session (from the logout form of a page).
  std::string csrf();

  std::map<std::string, std::string> cookies;

private:
  std::uint16_t port_;
};

// Value of <input name="csrf" value="..."> in a page, or "" (tests/support/admin_form.hpp).
using attendance::testing::csrfField;
// application/x-www-form-urlencoded from pairs.
std::string form(std::initializer_list<std::pair<std::string, std::string>> fields);

}  // namespace attendance::admin_web::testing
