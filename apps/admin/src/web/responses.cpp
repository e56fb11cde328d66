#include "responses.hpp"

#include <algorithm>
#include <charconv>

#include <boost/beast/http/field.hpp>

#include <attendance/core/error.hpp>

namespace attendance::admin_web {

void harden(Response& res, bool cacheable) {
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "same-origin");
  if (!cacheable) res.set(http::field::cache_control, "no-store");
}

Response htmlResponse(http::status status, std::string body) {
  Response res = http_server::textResponse(status, std::move(body), "text/html; charset=utf-8");
  harden(res);
  return res;
}

Response jsonOut(http::status status, std::string body) {
  Response res = http_server::jsonResponse(status, std::move(body));
  harden(res);
  return res;
}

void addOpenApiRoute(http_server::Router& router, std::string_view document) {
  router.addSync(http::verb::get, "/openapi.json", [document](http_server::RequestContext&) {
    Response res = http_server::jsonResponse(http::status::ok, std::string(document));
    harden(res, true);
    res.set(http::field::cache_control, "no-cache");  // revalidate: an upgrade changes it
    return res;
  });
}

Response jsonError(http::status status, std::string_view message) {
  Response res = http_server::errorResponse(status, message);
  harden(res);
  return res;
}

std::optional<std::string> safeNextPath(std::string_view next) {
  if (next.size() < 1 || next.size() > 2000 || next[0] != '/') return std::nullopt;
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return std::nullopt;
  for (const char c : next) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '\\') return std::nullopt;
  }
  const std::string_view path = next.substr(0, next.find_first_of("?#"));
  if (path == "/login" || path == "/logout") return std::nullopt;
  return std::string(next);
}

Response redirect(std::string_view location) {
  Response res{http::status::see_other, 11};
  res.set(http::field::location, location);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = "See " + std::string(location);
  res.prepare_payload();
  harden(res);
  return res;
}

http::status statusFor(const error_code& ec) { return static_cast<http::status>(core::httpStatusFor(ec)); }

std::string_view messageFor(const error_code& ec) {
  using core::Errc;
  if (ec == Errc::unavailable) return "The database is unavailable. Try again in a moment.";
  if (ec == Errc::event_not_found) return "There is no such event.";
  if (ec == Errc::user_not_found) return "There is no such participant.";
  if (ec == Errc::scanner_not_found) return "There is no such scanner.";
  if (ec == Errc::conflict) return "That already exists.";
  if (ec == Errc::invalid_argument) return "Some of the values are not acceptable.";
  if (ec == Errc::schema_outdated) return "The database schema is outdated: run `attendance-backend migrate`.";
  return "Something went wrong.";
}

std::int64_t pageParam(std::string_view target) {
  const std::string v = http_server::queryParameter(target, "page");
  std::int64_t page = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), page);
  if (ec != std::errc{} || ptr != v.data() + v.size() || page < 0) return 0;
  return std::min<std::int64_t>(page, 1'000'000);
}

std::int64_t intParam(std::string_view target, std::string_view name, std::int64_t fallback, std::int64_t lo,
                      std::int64_t hi) {
  const std::string v = http_server::queryParameter(target, name);
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size()) return fallback;
  return std::clamp(n, lo, hi);
}

bool isFormRequest(const Request& req) {
  const auto ct = req[http::field::content_type];
  return ct.substr(0, ct.find(';')) == "application/x-www-form-urlencoded";
}

}  // namespace attendance::admin_web
