#include <gtest/gtest.h>

#include <attendance/http_server/message.hpp>
#include <attendance/http_server/server.hpp>

namespace hs = attendance::http_server;

TEST(Message, ErrorBodyIsEscapedJson) {
  auto res = hs::errorResponse(hs::http::status::bad_request, "bad \"thing\"\n");
  EXPECT_EQ(res.body(), R"({"error":"bad \"thing\"\n"})");
  EXPECT_EQ(res[hs::http::field::content_type], "application/json");
  EXPECT_EQ(res[hs::http::field::content_length], std::to_string(res.body().size()));
}

TEST(Message, BearerToken) {
  hs::Request req{hs::http::verb::post, "/", 11};
  EXPECT_EQ(hs::bearerToken(req), "");
  req.set(hs::http::field::authorization, "bearer  abc.def ");
  EXPECT_EQ(hs::bearerToken(req), "abc.def");
  req.set(hs::http::field::authorization, "Basic abc");
  EXPECT_EQ(hs::bearerToken(req), "");
}

TEST(Message, JsonContentType) {
  hs::Request req{hs::http::verb::post, "/", 11};
  EXPECT_FALSE(hs::isJsonContentType(req));
  req.set(hs::http::field::content_type, "Application/JSON; charset=utf-8");
  EXPECT_TRUE(hs::isJsonContentType(req));
  req.set(hs::http::field::content_type, "application/jsonp");
  EXPECT_FALSE(hs::isJsonContentType(req));
  req.set(hs::http::field::content_type, "text/plain");
  EXPECT_FALSE(hs::isJsonContentType(req));
}

TEST(Message, QueryParameterAndPercentDecoding) {
  EXPECT_EQ(hs::queryParameter("/r?format=csv&x=a%20b+c", "x"), "a b c");
  EXPECT_EQ(hs::queryParameter("/r?format=csv", "format"), "csv");
  EXPECT_EQ(hs::queryParameter("/r?format=csv", "nope"), "");
  std::string out;
  EXPECT_FALSE(hs::percentDecode("%4", out));
  EXPECT_TRUE(hs::percentDecode("%41b", out));
  EXPECT_EQ(out, "Ab");
}

TEST(Message, ConstantTimeEquals) {
  EXPECT_TRUE(hs::constantTimeEquals("secret", "secret"));
  EXPECT_FALSE(hs::constantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(hs::constantTimeEquals("secret", "secrets"));
}

TEST(Message, ParseListenAddress) {
  EXPECT_EQ(hs::parseListenAddress("127.0.0.1:8080").value(), (hs::ListenAddress{"127.0.0.1", 8080}));
  EXPECT_EQ(hs::parseListenAddress("[::1]:0").value(), (hs::ListenAddress{"::1", 0}));
  EXPECT_EQ(hs::parseListenAddress(":9").value(), (hs::ListenAddress{"0.0.0.0", 9}));
  for (const char* bad : {"localhost", "h:70000", "h:8x"}) {
    const auto parsed = hs::parseListenAddress(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, boost::system::errc::invalid_argument) << bad;
    EXPECT_NE(parsed.error().message.find("listen address"), std::string::npos) << parsed.error().message;
  }
}
