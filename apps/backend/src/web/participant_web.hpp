#pragma once

// The participant web app (docs/participant-web.md): server-rendered pages at
// `/` on the backend, working without JavaScript. Every rule is the JSON API's
// own (core): sign-up validation, sign-in limits, registration; the HTML
// helpers, CSP and form parsing are the admin console's (attendance_web_common).
#include <cstddef>
#include <string>
#include <string_view>

#include <attendance/http_server/router.hpp>

namespace attendance::backend {
struct BackendContext;
}

namespace attendance::backend::web {

inline constexpr std::size_t kFormBodyLimit = 16 * 1024;  // bytes of a POSTed form

// Adds every page, form and asset route of the participant web app.
void addParticipantPages(http_server::Router& router, BackendContext& ctx);

// `text` as a QR code (level M, 4-module quiet zone), one <svg> element; empty
// if it does not fit a QR code.
[[nodiscard]] std::string qrSvg(std::string_view text);

}  // namespace attendance::backend::web
