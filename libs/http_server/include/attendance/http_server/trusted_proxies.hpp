#pragma once
// Which address a request comes from when a reverse proxy (HAProxy) stands in
// front: the socket peer is the proxy for every client, and the proxy names the
// client in `X-Forwarded-For`. That header is believed only from a peer inside a
// trusted range (`--trusted-proxy CIDR`), and only as far as the chain of
// trusted hops goes: the right-most address that is not a trusted proxy is the
// client. From anyone else the header is ignored, so a client that forges it
// changes nothing (docs/http-server.md, ADR 0041).
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include <attendance/support/result.hpp>

namespace attendance::http_server {

// An address range: "10.0.0.0/8", "2001:db8::/32", or one address ("127.0.0.1" is /32, "::1" is /128).
struct AddressRange {
  boost::asio::ip::address network;  // host bits cleared
  unsigned prefix = 0;
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

// Parses a CIDR range; the failure's message says what is wrong. Host bits set
// below the prefix ("10.0.0.1/8") are refused: they usually mean a typo.
[[nodiscard]] Outcome<AddressRange> parseAddressRange(std::string_view text);

// An IPv4-mapped IPv6 address (::ffff:192.0.2.1, as a dual-stack socket reports
// an IPv4 peer) as the IPv4 address; any other address unchanged.
[[nodiscard]] boost::asio::ip::address unmapped(const boost::asio::ip::address& a);

class TrustedProxies {
public:
  // Hops of X-Forwarded-For walked at most; past them the last trusted hop is the client.
  static constexpr std::size_t kMaxHops = 32;

  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<AddressRange> ranges) : ranges_(std::move(ranges)) {}
  // Every text parsed with parseAddressRange; the first bad one fails the whole.
  [[nodiscard]] static Outcome<TrustedProxies> parse(std::span<const std::string> texts);

  [[nodiscard]] bool empty() const { return ranges_.empty(); }
  [[nodiscard]] const std::vector<AddressRange>& ranges() const { return ranges_; }
  [[nodiscard]] bool contains(const boost::asio::ip::address& a) const;

  // The client's address for a request whose socket peer is `peer` and whose
  // X-Forwarded-For field values are `forwardedFor`, in the order received
  // (several fields are one comma-separated list). The peer itself unless it is
  // trusted; then the list is walked from the right, skipping trusted hops, and
  // the first untrusted address is the client. An entry that is not an address
  // ("unknown", garbage), or the hop limit, ends the walk at the last trusted hop
  // (the nearest address that is known to be true). Empty list elements are skipped.
  [[nodiscard]] boost::asio::ip::address clientAddress(const boost::asio::ip::address& peer,
                                                       std::span<const std::string_view> forwardedFor) const;

private:
  std::vector<AddressRange> ranges_;
};

}  // namespace attendance::http_server
