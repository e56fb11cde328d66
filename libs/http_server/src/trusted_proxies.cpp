#include <attendance/http_server/trusted_proxies.hpp>

#include <array>
#include <charconv>
#include <optional>
#include <string>

namespace attendance::http_server {

namespace ip = boost::asio::ip;

namespace {

Failure invalid(std::string message) {
  return Failure{boost::system::errc::make_error_code(boost::system::errc::invalid_argument), std::move(message)};
}

std::optional<ip::address> parseAddress(std::string_view text) {
  boost::system::error_code ec;
  auto a = ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return unmapped(a);
}

bool digitsOnly(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

// One X-Forwarded-For element: "192.0.2.1", "2001:db8::1", "[2001:db8::1]",
// "[2001:db8::1]:443" or "192.0.2.1:443" (some proxies add the port).
std::optional<ip::address> parseHop(std::string_view text) {
  if (text.size() > 64) return std::nullopt;  // longer than any address with a port
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto rest = text.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && digitsOnly(rest.substr(1)))) return std::nullopt;
    auto a = parseAddress(text.substr(1, close - 1));
    if (!a || !a->is_v6()) return std::nullopt;
    return a;
  }
  if (auto a = parseAddress(text)) return a;
  // IPv4 with a port: exactly one colon (an IPv6 address without brackets has several).
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) return std::nullopt;
  if (!digitsOnly(text.substr(colon + 1))) return std::nullopt;
  auto a = parseAddress(text.substr(0, colon));
  if (!a || !a->is_v4()) return std::nullopt;
  return a;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <std::size_t N>
bool samePrefix(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b, unsigned prefix) {
  const unsigned whole = prefix / 8;
  for (unsigned i = 0; i < whole; ++i) {
    if (a[i] != b[i]) return false;
  }
  if (const unsigned bits = prefix % 8; bits != 0) {
    const auto mask = static_cast<unsigned char>(0xFFU << (8 - bits));
    if ((a[whole] & mask) != (b[whole] & mask)) return false;
  }
  return true;
}

template <std::size_t N>
bool hostBitsClear(const std::array<unsigned char, N>& a, unsigned prefix) {
  for (std::size_t bit = prefix; bit < N * 8; ++bit) {
    if ((a[bit / 8] >> (7 - bit % 8)) & 1U) return false;
  }
  return true;
}

}  // namespace

ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

Outcome<AddressRange> parseAddressRange(std::string_view text) {
  const std::string shown{text.substr(0, 64)};
  const auto slash = text.find('/');
  const auto addressText = text.substr(0, slash);
  boost::system::error_code ec;
  auto network = ip::make_address(addressText, ec);
  if (ec) return invalid("'" + shown + "' is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)");
  const unsigned width = network.is_v4() ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    const auto prefixText = text.substr(slash + 1);
    const auto [ptr, pec] = std::from_chars(prefixText.data(), prefixText.data() + prefixText.size(), prefix);
    if (prefixText.empty() || pec != std::errc{} || ptr != prefixText.data() + prefixText.size() || prefix > width) {
      return invalid("'" + shown + "': the prefix length must be 0.." + std::to_string(width));
    }
  }
  const bool clear = network.is_v4() ? hostBitsClear(network.to_v4().to_bytes(), prefix)
                                     : hostBitsClear(network.to_v6().to_bytes(), prefix);
  if (!clear) return invalid("'" + shown + "' has bits set past the /" + std::to_string(prefix) + " prefix");
  return AddressRange{network, prefix};
}

Outcome<TrustedProxies> TrustedProxies::parse(std::span<const std::string> texts) {
  std::vector<AddressRange> ranges;
  ranges.reserve(texts.size());
  for (const auto& t : texts) {
    auto r = parseAddressRange(t);
    if (!r) return r.error();
    ranges.push_back(*r);
  }
  return TrustedProxies{std::move(ranges)};
}

bool TrustedProxies::contains(const ip::address& address) const {
  const auto a = unmapped(address);
  for (const auto& r : ranges_) {
    if (a.is_v4() && r.network.is_v4()) {
      if (samePrefix(a.to_v4().to_bytes(), r.network.to_v4().to_bytes(), r.prefix)) return true;
    } else if (a.is_v6() && r.network.is_v6()) {
      if (samePrefix(a.to_v6().to_bytes(), r.network.to_v6().to_bytes(), r.prefix)) return true;
    }
  }
  return false;
}

ip::address TrustedProxies::clientAddress(const ip::address& peer,
                                          std::span<const std::string_view> forwardedFor) const {
  if (ranges_.empty() || !contains(peer)) return peer;
  ip::address current = peer;
  std::size_t hops = 0;
  // Right to left over the fields, and right to left over each field's elements.
  for (auto field = forwardedFor.rbegin(); field != forwardedFor.rend(); ++field) {
    std::string_view rest = *field;
    while (true) {
      const auto comma = rest.rfind(',');
      const auto element = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      if (!element.empty()) {
        if (++hops > kMaxHops) return current;
        const auto hop = parseHop(element);
        if (!hop) return current;
        if (!contains(*hop)) return *hop;
        current = *hop;
      }
      if (comma == std::string_view::npos) break;
      rest = rest.substr(0, comma);
    }
  }
  return current;
}

}  // namespace attendance::http_server
