#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <attendance/http_server/router.hpp>
#include <attendance/http_server/server.hpp>
#include <attendance/http_server/utf8_params.hpp>
#include <attendance/support/utf8.hpp>

namespace hs = attendance::http_server;

namespace {
const hs::Router& router() {
  static const hs::Router r = [] {
    hs::Router x;
    auto ok = [](hs::RequestContext&) { return hs::jsonResponse(hs::http::status::ok, "{}"); };
    x.addSync(hs::http::verb::post, "/batchCheckIn", ok);
    x.addSync(hs::http::verb::get, "/api/events", ok);
    x.addSync(hs::http::verb::get, "/api/events/{id}/roster", ok);
    x.addSync(hs::http::verb::post, "/api/events/{id}/registrations", ok);
    x.addSync(hs::http::verb::delete_, "/api/events/{id}/registrations", ok);
    x.addSync(hs::http::verb::get, "/a/{x}/b/{y}", ok);
    return x;
  }();
  return r;
}
}  // namespace

// Input: first byte picks the method, the rest is a request target.
// Properties: matching never crashes; a match has exactly the pattern's params,
// none empty; 405 always names at least one allowed method; 404 names none.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr hs::http::verb kVerbs[] = {hs::http::verb::get, hs::http::verb::post, hs::http::verb::delete_,
                                              hs::http::verb::head, hs::http::verb::put};
  const auto method = kVerbs[data[0] % 5];
  const std::string_view target(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto [path, query] = hs::splitTarget(target);
  if (path.size() + query.size() + (query.data() != nullptr && !query.empty() ? 1 : 0) > target.size()) {
    __builtin_trap();
  }
  const auto m = router().match(method, path);
  if (m.route != nullptr) {
    std::size_t expected = 0;
    for (const auto& seg : m.route->segments) expected += (seg.size() > 2 && seg.front() == '{') ? 1 : 0;
    if (m.params.size() != expected) __builtin_trap();
    for (const auto& [k, v] : m.params) {
      if (v.empty()) __builtin_trap();
    }
  } else if (m.error == hs::http::status::method_not_allowed) {
    if (m.allow.empty()) __builtin_trap();
  } else if (m.error != hs::http::status::not_found || !m.allow.empty()) {
    __builtin_trap();
  }
  (void)hs::queryParameter(target, "format");
  // A query the UTF-8 check accepts gives handlers only UTF-8 (or nothing, for malformed escapes).
  if (!hs::invalidUtf8InQuery(query)) {
    const std::string format = hs::queryParameter(target, "format");
    if (!attendance::support::isValidUtf8(format)) __builtin_trap();
  }
  if (m.route != nullptr && !hs::invalidUtf8InPath(m.params)) {
    for (const auto& [k, v] : m.params) {
      if (!attendance::support::isValidUtf8(v)) __builtin_trap();
    }
  }
  std::string decoded;
  if (hs::percentDecode(path, decoded) && decoded.size() > path.size()) __builtin_trap();
  // A refused address names what is wrong; an accepted one has a host (never throws).
  if (const auto listen = hs::parseListenAddress(target); !listen && listen.error().message.empty()) __builtin_trap();
  return 0;
}
