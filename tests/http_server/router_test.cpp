#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <attendance/http_server/router.hpp>

namespace hs = attendance::http_server;
using hs::http::verb;

namespace {
hs::Response ok(hs::RequestContext&) { return hs::jsonResponse(hs::http::status::ok, "{}"); }
}  // namespace

TEST(Router, MatchesLiteralAndParameterisedPatterns) {
  hs::Router r;
  r.addSync(verb::post, "/batchCheckIn", ok);
  r.addSync(verb::post, "/api/events/{id}/registrations", ok);
  r.addSync(verb::delete_, "/api/events/{id}/registrations", ok);

  auto m = r.match(verb::post, "/api/events/ev%2F1/registrations");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/events/{id}/registrations");
  EXPECT_EQ(m.params.at("id"), "ev/1");

  m = r.match(verb::post, "/batchCheckIn");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.params.empty());
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  hs::Router r;
  r.addSync(verb::post, "/api/events/{id}/registrations", ok);
  r.addSync(verb::delete_, "/api/events/{id}/registrations", ok);

  auto m = r.match(verb::get, "/api/events/e1/registrations");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.error, hs::http::status::method_not_allowed);
  EXPECT_EQ(m.allow, "POST, DELETE");

  m = r.match(verb::get, "/api/events/e1/nothing");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.error, hs::http::status::not_found);
  // An empty parameter segment does not match.
  EXPECT_EQ(r.match(verb::post, "/api/events//registrations").error, hs::http::status::not_found);
  // Trailing slash is a different path.
  EXPECT_EQ(r.match(verb::post, "/api/events/e1/registrations/").error, hs::http::status::not_found);
}

TEST(Router, LiteralRouteWinsOverParameter) {
  hs::Router r;
  r.addSync(verb::get, "/api/events/{id}", ok);
  r.addSync(verb::get, "/api/events/upcoming", ok);
  auto m = r.match(verb::get, "/api/events/upcoming");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/events/upcoming");
}

TEST(Router, BadPercentEscapeDoesNotMatch) {
  hs::Router r;
  r.addSync(verb::get, "/e/{id}", ok);
  EXPECT_EQ(r.match(verb::get, "/e/%zz").route, nullptr);
}

TEST(Router, HandlersRunWithoutSockets) {
  hs::Router r;
  r.addSync(verb::get, "/e/{id}", [](hs::RequestContext& ctx) {
    return hs::jsonResponse(hs::http::status::ok, "\"" + ctx.params.at("id") + "\"");
  });
  hs::Request req{verb::get, "/e/abc", 11};
  auto m = r.match(verb::get, "/e/abc");
  ASSERT_NE(m.route, nullptr);
  hs::RequestContext ctx{req, m.params, "/e/abc", "", {}};
  boost::asio::io_context ioc;
  auto fut = boost::asio::co_spawn(ioc, m.route->handler(ctx), boost::asio::use_future);
  ioc.run();
  auto res = fut.get();
  EXPECT_EQ(res.result(), hs::http::status::ok);
  EXPECT_EQ(res.body(), "\"abc\"");
}

TEST(Router, RejectsPatternWithoutLeadingSlash) {
  hs::Router r;
  EXPECT_THROW(r.addSync(verb::get, "nope", ok), std::invalid_argument);
}
