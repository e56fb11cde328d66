#include <attendance/batch_client/endpoint.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace attendance::batch_client {

std::string Endpoint::origin() const {
  std::string out = tls ? "https://" : "http://";
  if (host.find(':') != std::string::npos) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

std::string Endpoint::target(std::string_view path) const {
  std::string out = basePath;
  out += path;
  if (out.empty()) out = "/";
  return out;
}

bool isLoopbackHost(std::string_view host) noexcept {
  if (host == "localhost" || host == "localhost.") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

boost::system::result<Endpoint, EndpointError> parseEndpoint(std::string_view url, bool allowInsecureHttp) {
  auto fail = [&](std::string why) {
    return EndpointError{"invalid backend URL \"" + std::string(url) + "\": " + std::move(why)};
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return fail("not an absolute URL (expected https://host[:port][/path])");
  const boost::urls::url_view& u = *parsed;

  Endpoint ep;
  const std::string scheme = u.scheme();
  if (scheme == "https") {
    ep.tls = true;
  } else if (scheme != "http") {
    return fail("scheme must be http or https");
  }
  if (u.has_userinfo()) return fail("credentials in the URL are not allowed (use the API key file)");
  if (u.has_query() || u.has_fragment()) return fail("query and fragment are not allowed");
  std::string host = u.host_address();
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return fail("missing host");
  ep.host = std::move(host);

  if (u.has_port()) {
    const auto port = u.port();
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return fail("port must be 1..65535");
    }
    ep.port = static_cast<std::uint16_t>(value);
  } else {
    ep.port = ep.tls ? 443 : 80;
  }

  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  ep.basePath = std::move(path);

  if (!ep.tls && !allowInsecureHttp && !isLoopbackHost(ep.host)) {
    return fail(
        "plain http to a non-loopback host would send the API key unencrypted; use https:// "
        "(or pass --insecure-http if you really mean it)");
  }
  return ep;
}

}  // namespace attendance::batch_client
