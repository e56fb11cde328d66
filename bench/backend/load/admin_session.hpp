#pragma once
// Signs in to `attendance-admin serve` the way the console's sign-in form does.

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "connection.hpp"

namespace attendance::bench {

// GET /login (the double-submit CSRF cookie and field), then POST /login with the
// email and password; returns the Cookie header value that carries the session.
// Throws std::runtime_error when the sign-in fails.
asio::awaitable<std::string> signInToAdmin(Connection& c, const std::string& email, const std::string& password,
                                           std::chrono::milliseconds timeout);

// The value of cookie `name` in a '\n'-separated list of Set-Cookie values, or "".
std::string setCookieValue(const std::string& setCookies, const std::string& name);

}  // namespace attendance::bench
