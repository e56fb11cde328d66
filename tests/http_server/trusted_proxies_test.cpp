// TrustedProxies: which address a request comes from behind a reverse proxy.
// X-Forwarded-For is believed only from a trusted peer and only up to the first
// hop that is not a trusted proxy; a client that forges it gains nothing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <attendance/http_server/server.hpp>
#include <attendance/http_server/trusted_proxies.hpp>

namespace hs = attendance::http_server;
namespace ip = boost::asio::ip;
namespace http = boost::beast::http;

namespace {

ip::address addr(const char* text) { return ip::make_address(text); }

hs::TrustedProxies trusting(std::vector<std::string> ranges) {
  auto t = hs::TrustedProxies::parse(ranges);
  EXPECT_TRUE(t.has_value());
  return t.has_value() ? *t : hs::TrustedProxies{};
}

std::string client(const hs::TrustedProxies& t, const char* peer, std::vector<std::string_view> xff) {
  return t.clientAddress(addr(peer), xff).to_string();
}

}  // namespace

TEST(AddressRange, ParsesIpv4AndIpv6RangesAndSingleAddresses) {
  auto r = hs::parseAddressRange("10.0.0.0/8");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->network, addr("10.0.0.0"));
  EXPECT_EQ(r->prefix, 8u);
  EXPECT_EQ(hs::parseAddressRange("127.0.0.1")->prefix, 32u);
  EXPECT_EQ(hs::parseAddressRange("::1")->prefix, 128u);
  EXPECT_EQ(hs::parseAddressRange("2001:db8::/32")->prefix, 32u);
  EXPECT_EQ(hs::parseAddressRange("0.0.0.0/0")->prefix, 0u);
}

TEST(AddressRange, RefusesMalformedRangesWithAReason) {
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x", "10.0.0.0/-1", "host/8",
                          "10.0.0.256/32", "10.0.0.1/8", "2001:db8::1/32", "10.0.0.0/8/8"}) {
    auto r = hs::parseAddressRange(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_FALSE(r.error().message.empty());
  }
  EXPECT_NE(hs::parseAddressRange("10.0.0.1/8").error().message.find("bits set past the /8"), std::string::npos);
  EXPECT_NE(hs::parseAddressRange("10.0.0.0/40").error().message.find("0..32"), std::string::npos);
}

TEST(TrustedProxies, ContainsMatchesOnThePrefixForEachFamily) {
  const auto t = trusting({"10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "::1"});
  EXPECT_TRUE(t.contains(addr("10.255.0.1")));
  EXPECT_FALSE(t.contains(addr("11.0.0.1")));
  EXPECT_TRUE(t.contains(addr("192.168.1.200")));
  EXPECT_FALSE(t.contains(addr("192.168.1.127")));
  EXPECT_TRUE(t.contains(addr("fd12::7")));
  EXPECT_FALSE(t.contains(addr("fe80::1")));
  EXPECT_TRUE(t.contains(addr("::1")));
  EXPECT_FALSE(t.contains(addr("::2")));
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
  EXPECT_TRUE(t.contains(addr("::ffff:10.1.2.3")));
  EXPECT_FALSE(t.contains(addr("::ffff:11.1.2.3")));
  EXPECT_FALSE(hs::TrustedProxies{}.contains(addr("127.0.0.1")));
}

TEST(TrustedProxies, WithoutTrustedProxiesTheHeaderIsIgnored) {
  const hs::TrustedProxies none;
  EXPECT_EQ(client(none, "127.0.0.1", {"203.0.113.9"}), "127.0.0.1");
}

TEST(TrustedProxies, AForgedHeaderFromAnUntrustedPeerChangesNothing) {
  const auto t = trusting({"10.0.0.0/8"});
  EXPECT_EQ(client(t, "198.51.100.7", {"10.0.0.1"}), "198.51.100.7");
  EXPECT_EQ(client(t, "198.51.100.7", {"203.0.113.1, 10.0.0.2"}), "198.51.100.7");
}

TEST(TrustedProxies, TheRightMostUntrustedHopIsTheClient) {
  const auto t = trusting({"10.0.0.0/8"});
  // The proxy appended the client it saw; whatever the client wrote before is not believed.
  EXPECT_EQ(client(t, "10.0.0.1", {"198.51.100.7"}), "198.51.100.7");
  EXPECT_EQ(client(t, "10.0.0.1", {"1.2.3.4, 198.51.100.7"}), "198.51.100.7");
  // Two trusted proxies in a row: skip both.
  EXPECT_EQ(client(t, "10.0.0.1", {"1.2.3.4, 198.51.100.7, 10.0.0.2"}), "198.51.100.7");
  // Several fields are one list, in order (HAProxy adds its own field after the client's).
  EXPECT_EQ(client(t, "10.0.0.1", {"1.2.3.4", "198.51.100.7"}), "198.51.100.7");
  EXPECT_EQ(client(t, "10.0.0.1", {"1.2.3.4, 198.51.100.7", "10.0.0.3"}), "198.51.100.7");
  // Spaces, tabs and empty elements are allowed by the list syntax.
  EXPECT_EQ(client(t, "10.0.0.1", {" 1.2.3.4 ,\t198.51.100.7 ,, "}), "198.51.100.7");
}

TEST(TrustedProxies, Ipv6HopsWithAndWithoutBracketsAndPorts) {
  const auto t = trusting({"fd00::/8", "10.0.0.0/8"});
  EXPECT_EQ(client(t, "fd00::1", {"2001:db8::7"}), "2001:db8::7");
  EXPECT_EQ(client(t, "fd00::1", {"[2001:db8::7]"}), "2001:db8::7");
  EXPECT_EQ(client(t, "fd00::1", {"[2001:db8::7]:4711"}), "2001:db8::7");
  EXPECT_EQ(client(t, "10.0.0.1", {"198.51.100.7:4711"}), "198.51.100.7");
  // An IPv4-mapped client is reported as the IPv4 address; a mapped trusted peer is trusted.
  EXPECT_EQ(client(t, "::ffff:10.0.0.1", {"::ffff:198.51.100.7"}), "198.51.100.7");
}

TEST(TrustedProxies, AMalformedHopEndsTheWalkAtTheNearestTrustedHop) {
  const auto t = trusting({"10.0.0.0/8"});
  for (const char* bad : {"unknown", "garbage", "1.2.3", "1.2.3.4.5", "[1.2.3.4]", "[2001:db8::1", "2001:db8::1]:1",
                          "1.2.3.4:", "1.2.3.4:99999999", "1.2.3.4:x", "_hidden", "1.2.3.4 5.6.7.8"}) {
    EXPECT_EQ(client(t, "10.0.0.1", {bad}), "10.0.0.1") << bad;
    EXPECT_EQ(client(t, "10.0.0.1", {std::string{bad} + ", 10.0.0.2"}), "10.0.0.2") << bad;
  }
  // Garbage left of the client is never reached.
  EXPECT_EQ(client(t, "10.0.0.1", {"garbage, 198.51.100.7"}), "198.51.100.7");
}

TEST(TrustedProxies, EveryHopTrustedGivesTheLeftMost) {
  const auto t = trusting({"10.0.0.0/8"});
  EXPECT_EQ(client(t, "10.0.0.1", {"10.0.0.9, 10.0.0.8"}), "10.0.0.9");
  EXPECT_EQ(client(t, "10.0.0.1", {}), "10.0.0.1");
  EXPECT_EQ(client(t, "10.0.0.1", {""}), "10.0.0.1");
}

TEST(TrustedProxies, AHugeHeaderIsWalkedOnlyUpToTheHopLimit) {
  const auto t = trusting({"10.0.0.0/8"});
  // 10,000 trusted hops and a client at the far left: the walk stops after kMaxHops.
  std::string xff = "198.51.100.7";
  for (int i = 0; i < 10'000; ++i) xff += ", 10.0.0." + std::to_string(i % 250 + 1);
  const std::string got = client(t, "10.0.0.1", {xff});
  EXPECT_NE(got, "198.51.100.7");
  EXPECT_TRUE(t.contains(addr(got.c_str()))) << got;
  // Exactly kMaxHops trusted hops before the client are still walked.
  std::string within = "198.51.100.7";
  for (std::size_t i = 0; i + 1 < hs::TrustedProxies::kMaxHops; ++i) within += ", 10.0.0.2";
  EXPECT_EQ(client(t, "10.0.0.1", {within}), "198.51.100.7");
  // An element longer than any address is malformed.
  EXPECT_EQ(client(t, "10.0.0.1", {std::string(100'000, '1')}), "10.0.0.1");
}

// The one place the server takes the client address: every handler's `ctx.remote`.
TEST(TrustedProxies, HandlersSeeTheForwardedClientOnlyFromATrustedPeer) {
  hs::Router r;
  r.addSync(http::verb::get, "/whoami", [](hs::RequestContext& ctx) {
    return hs::textResponse(http::status::ok, "[" + ctx.remote.to_string() + "]", "text/plain");
  });
  hs::ServerConfig cfg;
  cfg.accessLog = false;
  cfg.trustedProxies = trusting({"10.0.0.0/8"});
  hs::MetricsRegistry metrics;
  hs::Server server{cfg, std::move(r), metrics};
  const std::string forged =
      "GET /whoami HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 198.51.100.7\r\n"
      "Connection: close\r\n\r\n";
  EXPECT_NE(server.serveBytes(forged, 4096, addr("10.0.0.1")).find("[198.51.100.7]"), std::string::npos);
  EXPECT_NE(server.serveBytes(forged, 4096, addr("203.0.113.5")).find("[203.0.113.5]"), std::string::npos);
  const std::string plain = "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  EXPECT_NE(server.serveBytes(plain, 4096, addr("10.0.0.1")).find("[10.0.0.1]"), std::string::npos);
}
