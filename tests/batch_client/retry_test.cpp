#include <attendance/batch_client/endpoint.hpp>
#include <attendance/batch_client/retry.hpp>

#include <gtest/gtest.h>

namespace bc = attendance::batch_client;
using namespace std::chrono_literals;

TEST(Backoff, FullJitterStaysWithinTheExponentialCeiling) {
  bc::RetryPolicy p;
  p.baseDelay = 100ms;
  p.maxDelay = 1000ms;
  EXPECT_EQ(bc::backoffDelay(p, 1, 0.0), 0ms);
  EXPECT_EQ(bc::backoffDelay(p, 1, 0.5), 50ms);
  EXPECT_EQ(bc::backoffDelay(p, 2, 0.5), 100ms);
  EXPECT_EQ(bc::backoffDelay(p, 3, 0.5), 200ms);
  EXPECT_EQ(bc::backoffDelay(p, 4, 0.999), 799ms);
  // Capped from retry 5 on (100 * 2^4 = 1600 > 1000).
  EXPECT_EQ(bc::backoffDelay(p, 5, 0.5), 500ms);
  EXPECT_EQ(bc::backoffDelay(p, 60, 0.5), 500ms);
  EXPECT_EQ(bc::backoffDelay(p, 4000, 0.5), 500ms);
}

TEST(Backoff, RetryableStatusesAreOverloadAndTransientUpstreamOnly) {
  for (unsigned s : {429u, 500u, 502u, 503u, 504u}) EXPECT_TRUE(bc::isRetryableStatus(s)) << s;
  for (unsigned s : {200u, 400u, 401u, 403u, 404u, 409u, 413u, 415u, 501u, 505u}) {
    EXPECT_FALSE(bc::isRetryableStatus(s)) << s;
  }
}

TEST(RetryAfter, DeltaSeconds) {
  const auto now = std::chrono::system_clock::time_point{};
  EXPECT_EQ(bc::parseRetryAfter("120", now), 120'000ms);
  EXPECT_EQ(bc::parseRetryAfter(" 0 ", now), 0ms);
  EXPECT_EQ(bc::parseRetryAfter("99999999999999999999999", now), std::chrono::milliseconds::max());
  EXPECT_FALSE(bc::parseRetryAfter("", now));
  EXPECT_FALSE(bc::parseRetryAfter("12s", now));
  EXPECT_FALSE(bc::parseRetryAfter("-5", now));
  EXPECT_FALSE(bc::parseRetryAfter("soon", now));
}

TEST(RetryAfter, HttpDatesInAllThreeFormats) {
  const auto expected = std::chrono::sys_days{std::chrono::November / 6 / 1994} + 8h + 49min + 37s;
  EXPECT_EQ(bc::parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(bc::parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(bc::parseHttpDate("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_FALSE(bc::parseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT"));
  EXPECT_FALSE(bc::parseHttpDate("Sun, 06 Nov 1994 08:49:37 CET"));
  EXPECT_FALSE(bc::parseHttpDate("Sun, 06 Nov 1994 25:49:37 GMT"));
  EXPECT_FALSE(bc::parseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT"));

  const auto now = expected - 30s;
  EXPECT_EQ(bc::parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), 30'000ms);
  // A date in the past means "now".
  EXPECT_EQ(bc::parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", expected + 1h), 0ms);
}

TEST(Endpoint, ParsesHttpsWithDefaultsAndBasePath) {
  auto ep = bc::parseEndpoint("https://backend.example/api/", false);
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->host, "backend.example");
  EXPECT_EQ(ep->port, 443);
  EXPECT_EQ(ep->basePath, "/api");
  EXPECT_EQ(ep->target("/batchCheckIn"), "/api/batchCheckIn");
  EXPECT_EQ(ep->origin(), "https://backend.example:443");

  auto v6 = bc::parseEndpoint("http://[::1]:8080", false);
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->target("/x"), "/x");
}

TEST(Endpoint, PlainHttpOnlyToLoopbackUnlessExplicitlyAllowed) {
  EXPECT_TRUE(bc::parseEndpoint("http://127.0.0.1:8080", false));
  EXPECT_TRUE(bc::parseEndpoint("http://127.8.9.10:8080", false));
  EXPECT_TRUE(bc::parseEndpoint("http://localhost:8080", false));
  auto refused = bc::parseEndpoint("http://backend.example:8080", false);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("--insecure-http"), std::string::npos);
  EXPECT_FALSE(bc::parseEndpoint("http://10.0.0.5", false));
  EXPECT_TRUE(bc::parseEndpoint("http://backend.example:8080", true));
}

TEST(Endpoint, RefusesWhatItCannotUseSafely) {
  EXPECT_FALSE(bc::parseEndpoint("ftp://host", false));
  EXPECT_FALSE(bc::parseEndpoint("backend.example", false));
  EXPECT_FALSE(bc::parseEndpoint("https://user:pw@host", false));
  EXPECT_FALSE(bc::parseEndpoint("https://host:0", false));
  EXPECT_FALSE(bc::parseEndpoint("https://host:70000", false));
  EXPECT_FALSE(bc::parseEndpoint("https://host/?q=1", false));
  EXPECT_FALSE(bc::parseEndpoint("", false));
}
