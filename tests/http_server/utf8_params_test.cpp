#include <gtest/gtest.h>

#include <attendance/http_server/router.hpp>
#include <attendance/http_server/server.hpp>
#include <attendance/http_server/utf8_params.hpp>

namespace hs = attendance::http_server;
using hs::http::verb;

TEST(Utf8Params, QueryParametersMustDecodeToUtf8) {
  EXPECT_EQ(hs::invalidUtf8InQuery(""), std::nullopt);
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%C3%A9t%C3%A9&page=2&flag&=x&&"), std::nullopt);
  EXPECT_EQ(hs::invalidUtf8InQuery("q=caf\xC3\xA9"), std::nullopt);  // raw UTF-8 is fine too
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%FF"), "parameter q is not valid UTF-8");
  EXPECT_EQ(hs::invalidUtf8InQuery("page=1&q=abc%C3"), "parameter q is not valid UTF-8");
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%ED%A0%80"), "parameter q is not valid UTF-8");     // surrogate
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%C0%AF"), "parameter q is not valid UTF-8");        // overlong
  EXPECT_EQ(hs::invalidUtf8InQuery("q=%F4%90%80%80"), "parameter q is not valid UTF-8");  // > U+10FFFF
  EXPECT_EQ(hs::invalidUtf8InQuery("q=\xFF"), "parameter q is not valid UTF-8");          // raw byte
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

TEST(Utf8Params, TheServerAnswers400BeforeTheGuardAndTheHandler) {
  // The whole request path (Server::serveBytes): the check runs on the header,
  // right after routing, so neither the guard nor the handler sees the request.
  bool ran = false;
  int guarded = 0;
  hs::Router r;
  hs::RouteOptions options;
  options.guard = [&guarded](hs::RequestContext&) -> boost::asio::awaitable<std::optional<hs::Response>> {
    ++guarded;
    co_return std::nullopt;
  };
  r.addSync(
      verb::get, "/e/{id}",
      [&ran](hs::RequestContext&) {
        ran = true;
        return hs::jsonResponse(hs::http::status::ok, "{}");
      },
      options);
  hs::ServerConfig cfg;
  cfg.accessLog = false;
  hs::MetricsRegistry metrics;
  hs::Server server{cfg, std::move(r), metrics};
  auto get = [&server](const std::string& target) {
    return server.serveBytes("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  };
  std::string out = get("/e/%FF");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find(R"({"error":"path parameter id is not valid UTF-8"})"), std::string::npos) << out;
  out = get("/e/ev-1?q=%C3");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find(R"({"error":"parameter q is not valid UTF-8"})"), std::string::npos) << out;
  EXPECT_FALSE(ran);
  EXPECT_EQ(guarded, 0);
  out = get("/e/%C3%A9?q=%C3%A9");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_TRUE(ran);
  EXPECT_EQ(guarded, 1);
}
