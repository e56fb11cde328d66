#pragma once

#include <attendance/support/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace attendance::batch_client {

// Where requests go: parsed once from a URL such as "https://backend.example:8443/base".
struct Endpoint {
  bool tls = false;
  std::string host;  // as written in the URL (brackets removed for IPv6)
  std::uint16_t port = 0;
  std::string basePath;  // without a trailing '/', may be empty

  // "https://host:port"; used in messages.
  [[nodiscard]] std::string origin() const;
  // basePath + path (path starts with '/').
  [[nodiscard]] std::string target(std::string_view path) const;
};

// True for "localhost", 127.0.0.0/8 and ::1: the only hosts plain http may reach
// without an explicit opt-in, because nothing leaves the machine.
[[nodiscard]] bool isLoopbackHost(std::string_view host) noexcept;

// Parses an http(s) URL. Refuses plain http to a non-loopback host unless
// allowInsecureHttp (an API key must never cross a network in clear text by accident).
// On failure the error string says what is wrong and how to fix it.
struct EndpointError {
  std::string message;
};
[[nodiscard]] boost::system::result<Endpoint, EndpointError> parseEndpoint(std::string_view url,
                                                                           bool allowInsecureHttp);

}  // namespace attendance::batch_client
