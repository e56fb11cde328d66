#pragma once
// The request-path fuzz targets (http_request_path, backend_request_path,
// admin_request_path): one input through a server's whole request path with
// Server::serveBytes, and what every answer must satisfy: a sequence of
// well-formed HTTP/1.1 responses, and no 500 (a 500 on client input is a bug).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/server.hpp>

namespace attendance::fuzz {

// The statuses of the responses in `wire`, in order. Traps when the bytes are
// not whole responses, unless `mayHaveHead` (a HEAD answer has a length but no
// body, which the stream alone cannot tell apart).
inline std::vector<unsigned> responseStatuses(std::string_view wire, bool mayHaveHead) {
  namespace http = boost::beast::http;
  std::vector<unsigned> statuses;
  while (!wire.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(64U * 1024U * 1024U);
    boost::system::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    if (ec || !parser.is_done()) {
      if (mayHaveHead) break;
      std::abort();  // not a whole response
    }
    statuses.push_back(parser.get().result_int());
    wire.remove_prefix(used);
  }
  return statuses;
}

// True when the server recorded a 500 for any request (http_requests_total).
inline bool recordedInternalError(http_server::MetricsRegistry& metrics) {
  return metrics.renderPrometheus().find("status=\"500\"") != std::string::npos;
}

// Names in an input that stand for secrets the fuzzer cannot guess (a valid
// scanner key, a session token), so it can reach what lies behind the guards.
using Placeholders = std::vector<std::pair<std::string, std::string>>;

inline std::string substitute(std::string_view wire, const Placeholders& placeholders) {
  std::string out{wire};
  for (const auto& [name, value] : placeholders) {
    for (auto at = out.find(name); at != std::string::npos; at = out.find(name, at + value.size())) {
      out.replace(at, name.size(), value);
    }
  }
  return out;
}

// Serves one fuzz input and checks the answer; returns it. The first byte picks
// the read size (1 to 64 bytes), so requests also arrive split at every point.
inline std::string serveInput(http_server::Server& server, http_server::MetricsRegistry& metrics,
                              const std::uint8_t* data, std::size_t size, const Placeholders& placeholders = {}) {
  if (size == 0) return {};
  const std::size_t readSize = 1 + data[0] % 64;
  const std::string wire = substitute({reinterpret_cast<const char*>(data + 1), size - 1}, placeholders);
  std::string out = server.serveBytes(wire, readSize);
  // ATTENDANCE_FUZZ_ECHO=1 prints each answer: to check that a seed reaches what it aims at.
  static const bool echo = std::getenv("ATTENDANCE_FUZZ_ECHO") != nullptr;
  if (echo) std::fprintf(stderr, "---- answer (%zu bytes)\n%s\n", out.size(), out.c_str());
  (void)responseStatuses(out, wire.find("HEAD") != std::string::npos);
  if (recordedInternalError(metrics)) std::abort();
  return out;
}

}  // namespace attendance::fuzz
