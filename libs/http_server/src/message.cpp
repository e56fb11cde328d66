#include <attendance/http_server/message.hpp>

#include <algorithm>
#include <cctype>

#include <attendance/support/json_text.hpp>

namespace attendance::http_server {

Response jsonResponse(http::status status, std::string json) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(json);
  res.prepare_payload();
  return res;
}

Response errorResponse(http::status status, std::string_view message) {
  std::string body = "{\"error\":";
  support::appendJsonString(body, message);
  body += "}";
  return jsonResponse(status, std::move(body));
}

Response textResponse(http::status status, std::string text, std::string_view contentType) {
  Response res{status, 11};
  res.set(http::field::content_type, contentType);
  res.body() = std::move(text);
  res.prepare_payload();
  return res;
}

namespace {
bool iequalsPrefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string_view bearerToken(const Request& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return {};
  std::string_view v = trim(it->value());
  if (!iequalsPrefix(v, "Bearer ")) return {};
  return trim(v.substr(7));
}

bool hasMediaType(const Request& req, std::string_view mediaType) {
  auto it = req.find(http::field::content_type);
  if (it == req.end()) return false;
  std::string_view v = it->value();
  v = trim(v.substr(0, v.find(';')));
  return v.size() == mediaType.size() && iequalsPrefix(v, mediaType);
}

bool isJsonContentType(const Request& req) { return hasMediaType(req, "application/json"); }

bool percentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hexValue(in[i + 1]);
    const int lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string queryParameter(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string raw{eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1)};
    std::replace(raw.begin(), raw.end(), '+', ' ');
    std::string out;
    if (!percentDecode(raw, out)) return {};
    return out;
  }
  return {};
}

bool constantTimeEquals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

}  // namespace attendance::http_server
