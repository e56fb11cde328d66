#pragma once

// The console's answers: security headers on every response, HTML and JSON
// bodies, redirects, and the status and message for a core error.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/http_server/message.hpp>
#include <attendance/http_server/router.hpp>
#include <attendance/support/result.hpp>

namespace attendance::admin_web {

namespace http = http_server::http;
using http_server::Request;
using http_server::Response;

// Every page and API answer: no caching of private data, no framing, no inline
// script or style (so an injected <script> would not run even if escaping failed).
void harden(Response& res, bool cacheable = false);
[[nodiscard]] Response htmlResponse(http::status status, std::string body);
[[nodiscard]] Response jsonOut(http::status status, std::string body);
[[nodiscard]] Response jsonError(http::status status, std::string_view message);
[[nodiscard]] Response redirect(std::string_view location);
// Where sign-in may send the admin afterwards (`next`): only a path on this
// site, so the sign-in form is no open redirect. Accepted: starts with one "/"
// (not "//" or "/\\", which browsers read as another host), printable ASCII
// without "\\" (no control characters, so no header splitting), at most 2,000
// bytes, and not /login itself. Anything else: nullopt (then /events).
[[nodiscard]] std::optional<std::string> safeNextPath(std::string_view next);
[[nodiscard]] http::status statusFor(const error_code& ec);
[[nodiscard]] std::string_view messageFor(const error_code& ec);
// ?page=N (0 when absent or not a number), capped.
[[nodiscard]] std::int64_t pageParam(std::string_view target);
[[nodiscard]] std::int64_t intParam(std::string_view target, std::string_view name, std::int64_t fallback,
                                    std::int64_t lo, std::int64_t hi);
[[nodiscard]] bool isFormRequest(const Request& req);
// GET /openapi.json: the server's API description (docs/api.md), without a session or
// key (docs/adr/0073-openapi-documents-embedded-and-public.md). `document` is
// the embedded file, which outlives the router.
void addOpenApiRoute(http_server::Router& router, std::string_view document);

}  // namespace attendance::admin_web
