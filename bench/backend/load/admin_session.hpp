#pragma once
// Signs in to `attendance-admin serve` the way the console's sign-in form does.

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "connection.hpp"

namespace attendance::bench {

// GET /login (the double-submit CSRF cookie and field), then POST /login with the
// email and password (again, a second later, while the console answers 429: its
// hashing queue is full); returns the Cookie header value that carries the session.
// Throws std::runtime_error when the sign-in fails.
asio::awaitable<std::string> signInToAdmin(Connection& c, const std::string& email, const std::string& password,
                                           std::chrono::milliseconds timeout);

}  // namespace attendance::bench
