#include <gtest/gtest.h>

#include "attendance/http_server/message.hpp"
#include "attendance/http_server/server.hpp"

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
  EXPECT_EQ(hs::parseListenAddress("127.0.0.1:8080"), (std::pair<std::string, std::uint16_t>{"127.0.0.1", 8080}));
  EXPECT_EQ(hs::parseListenAddress("[::1]:0"), (std::pair<std::string, std::uint16_t>{"::1", 0}));
  EXPECT_EQ(hs::parseListenAddress(":9"), (std::pair<std::string, std::uint16_t>{"0.0.0.0", 9}));
  EXPECT_THROW((void)hs::parseListenAddress("localhost"), std::invalid_argument);
  EXPECT_THROW((void)hs::parseListenAddress("h:70000"), std::invalid_argument);
  EXPECT_THROW((void)hs::parseListenAddress("h:8x"), std::invalid_argument);
}
