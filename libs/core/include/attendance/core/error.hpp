#pragma once

#include <attendance/support/result.hpp>

#include <string_view>
#include <system_error>
#include <type_traits>

namespace attendance::core {

// Every failure core reports. The HTTP layer maps them to statuses
// (httpStatusFor); the CLI maps them to exit codes (docs/admin-cli.md).
enum class Errc {
  ok = 0,
  invalid_argument,      // 400: a field the caller sent is not acceptable
  malformed_body,        // 400: not JSON, or the envelope is wrong
  unauthorized,          // 401: unknown/revoked key, wrong password, expired token
  forbidden,             // 403: e.g. a disabled user
  scanner_not_assigned,  // 403: the scanner is not assigned to the event (or the event does not exist)
  not_found,             // 404: generic
  event_not_found,       // 404
  user_not_found,        // 404
  scanner_not_found,     // 404
  conflict,              // 409: email or scannerId already taken
  payload_too_large,     // 413: body or record count over the limits
  unavailable,           // 503: database unreachable or pool exhausted ("database unavailable")
  schema_outdated,       // 503: run `attendance-backend migrate`
  internal,              // 500
  beacon_key_missing,    // 503: private ids asked for, but the backend was started without its beacon key
  registration_closed,   // 409: the event's registration closing time has passed
};

[[nodiscard]] const boost::system::error_category& coreCategory() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), coreCategory()};
}

// The HTTP status an API should answer for a core error (500 for anything foreign).
[[nodiscard]] int httpStatusFor(const boost::system::error_code& ec) noexcept;

// Stable machine-readable name ("not_found", "unavailable", ...) for JSON error bodies.
[[nodiscard]] std::string_view errorName(const boost::system::error_code& ec) noexcept;

}  // namespace attendance::core

template <>
struct boost::system::is_error_code_enum<attendance::core::Errc> : std::true_type {};
