#pragma once

#include <map>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace attendance::http_server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Values captured from `{name}` segments of a route pattern, percent-decoded.
using PathParams = std::map<std::string, std::string, std::less<>>;

// 200-style JSON response; `json` must already be valid JSON text.
[[nodiscard]] Response jsonResponse(http::status status, std::string json);
// {"error": message} with the given status (message is escaped).
[[nodiscard]] Response errorResponse(http::status status, std::string_view message);
[[nodiscard]] Response textResponse(http::status status, std::string text,
                                    std::string_view contentType = "text/plain; charset=utf-8");

// Bearer token from the Authorization header, or empty when absent/malformed.
[[nodiscard]] std::string_view bearerToken(const Request& req);

// True when the Content-Type's media type (parameters ignored) is `mediaType`, case-insensitively.
[[nodiscard]] bool hasMediaType(const Request& req, std::string_view mediaType);
// True when the Content-Type media type (ignoring parameters) is application/json.
[[nodiscard]] bool isJsonContentType(const Request& req);

// Value of one query parameter (percent-decoded), or empty.
[[nodiscard]] std::string queryParameter(std::string_view target, std::string_view name);

// Decodes %XX and '+' is kept literal (path semantics). Returns false on bad escapes.
[[nodiscard]] bool percentDecode(std::string_view in, std::string& out);

// Constant-time comparison for secrets (length is not secret).
[[nodiscard]] bool constantTimeEquals(std::string_view a, std::string_view b) noexcept;

}  // namespace attendance::http_server
