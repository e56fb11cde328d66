#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "attendance/http_server/router.hpp"
#include "attendance/http_server/utf8_params.hpp"

namespace hs = attendance::http_server;
using hs::http::verb;

TEST(Utf8Params, QueryParametersMustDecodeToUtf8) {
  EXPECT_EQ(hs::invalidUtf8InQuery(""), std::nullopt);
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%C3%A9t%C3%A9&page=2&flag&=x&&"), std::nullopt);
  EXPECT_EQ(hs::invalidUtf8InQuery("q=caf\xC3\xA9"), std::nullopt);  // raw UTF-8 is fine too
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%FF"), "parameter q is not valid UTF-8");
  EXPECT_EQ(hs::invalidUtf8InQuery("page=1&q=abc%C3"), "parameter q is not valid UTF-8");
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%ED%A0%80"), "parameter q is not valid UTF-8");   // surrogate
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%C0%AF"), "parameter q is not valid UTF-8");      // overlong
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%F4%90%80%80"), "parameter q is not valid UTF-8");  // > U+10FFFF
  EXPECT_EQ(hs::invalidUtf8InQuery("q=\xFF"), "parameter q is not valid UTF-8");        // raw byte
  EXPECT_EQ(hs::invalidUtf8InQuery("my+name=%FF"), "parameter my name is not valid UTF-8");
  EXPECT_EQ(hs::invalidUtf8InQuery("%FF=1"), "a query parameter name is not valid UTF-8");
  EXPECT_EQ(hs::invalidUtf8InQuery("%4=%FF"), "a query parameter is not valid UTF-8");
  // A malformed escape is the reader's business (queryParameter treats it as absent).
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%4"), std::nullopt);
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%zz%FF"), std::nullopt);
}

TEST(Utf8Params, LongNamesAreCutInTheMessage) {
  std::string name;
  for (int i = 0; i < 40; ++i) name += "\xC3\xA9";  // 80 bytes
  const auto message = hs::invalidUtf8InQuery(name + "=%FF");
  ASSERT_TRUE(message.has_value());
  std::string cut;
  for (int i = 0; i < 32; ++i) cut += "\xC3\xA9";
  EXPECT_EQ(*message, "parameter " + cut + "... is not valid UTF-8");
  EXPECT_EQ(hs::clientNameForMessage("a" + name), "a" + cut.substr(0, 62) + "...");  // never half an é
}

TEST(Utf8Params, PathParametersMustBeUtf8) {
  EXPECT_EQ(hs::invalidUtf8InPath({{"id", "ev-1"}, {"userId", "\xC3\xA9"}}), std::nullopt);
  EXPECT_EQ(hs::invalidUtf8InPath({{"id", "ev-1"}, {"userId", "\xC3"}}), "path parameter userId is not valid UTF-8");
}

namespace {
hs::Response runRoute(hs::Router& r, const std::string& target, bool& handlerRan) {
  handlerRan = false;
  const auto [path, query] = hs::splitTarget(target);
  auto m = r.match(verb::get, path);
  EXPECT_NE(m.route, nullptr) << target;
  hs::Request req{verb::get, target, 11};
  hs::RequestContext ctx{req, m.params, path, query, {}};
  boost::asio::io_context ioc;
  auto fut = boost::asio::co_spawn(ioc, m.route->handler(ctx), boost::asio::use_future);
  ioc.run();
  return fut.get();
}
}  // namespace

TEST(Utf8Params, TheRouterAnswers400BeforeAnyHandlerRuns) {
  bool ran = false;
  hs::Router r;
  r.addSync(verb::get, "/e/{id}", [&ran](hs::RequestContext&) {
    ran = true;
    return hs::jsonResponse(hs::http::status::ok, "{}");
  });
  auto res = runRoute(r, "/e/%FF", ran);
  EXPECT_EQ(res.result(), hs::http::status::bad_request);
  EXPECT_EQ(res.body(), R"({"error":"path parameter id is not valid UTF-8"})");
  EXPECT_FALSE(ran);
  res = runRoute(r, "/e/ev-1?q=%C3", ran);
  EXPECT_EQ(res.result(), hs::http::status::bad_request);
  EXPECT_EQ(res.body(), R"({"error":"parameter q is not valid UTF-8"})");
  EXPECT_FALSE(ran);
  res = runRoute(r, "/e/%C3%A9?q=%C3%A9", ran);
  EXPECT_EQ(res.result(), hs::http::status::ok);
  EXPECT_TRUE(ran);
}
