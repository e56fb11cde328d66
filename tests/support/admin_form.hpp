#pragma once

// Signing in to the admin web console the way a browser does, for tests, fuzz
// targets and load drivers: the CSRF field of a page and the cookies of a
// response. Pure text functions; no sockets.
#include <string>
#include <string_view>

namespace attendance::testing {

// The value of the page's hidden CSRF field (<input ... name="csrf" value="...">), or "".
[[nodiscard]] std::string csrfField(std::string_view html);

// The value of cookie `name` in `headers`, or "": either a raw HTTP response
// ("Set-Cookie: name=value; Path=/...") or Set-Cookie values one per line.
[[nodiscard]] std::string setCookieValue(std::string_view headers, std::string_view name);

}  // namespace attendance::testing
