#include <attendance/core/error.hpp>

#include <string>

namespace attendance::core {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class CoreCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "attendance.core"; }

  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok: return "ok";
      case Errc::invalid_argument: return "invalid argument";
      case Errc::malformed_body: return "malformed request body";
      case Errc::unauthorized: return "unauthorized";
      case Errc::forbidden: return "forbidden";
      case Errc::scanner_not_assigned: return "the scanner is not assigned to the event";
      case Errc::not_found: return "not found";
      case Errc::event_not_found: return "unknown event";
      case Errc::user_not_found: return "unknown user";
      case Errc::scanner_not_found: return "unknown scanner";
      case Errc::conflict: return "already exists";
      case Errc::payload_too_large: return "payload too large";
      case Errc::unavailable: return "database unavailable";
      case Errc::schema_outdated: return "database schema is not current: run `attendance-backend migrate`";
      case Errc::beacon_key_missing:
        return "private ids need the server's beacon key: start attendance-backend serve with --beacon-key-file "
               "(or ATTENDANCE_BEACON_KEY_FILE)";
      case Errc::registration_closed: return "registration for this event is closed";
      case Errc::internal: return "internal error";
    }
    return "unknown attendance.core error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& coreCategory() noexcept {
  static const CoreCategory category;
  return category;
}

int httpStatusFor(const boost::system::error_code& ec) noexcept {
  if (!ec) return 200;
  if (ec.category() != coreCategory()) return 500;
  switch (static_cast<Errc>(ec.value())) {
    case Errc::ok: return 200;
    case Errc::invalid_argument:
    case Errc::malformed_body: return 400;
    case Errc::unauthorized: return 401;
    case Errc::forbidden:
    case Errc::scanner_not_assigned: return 403;
    case Errc::not_found:
    case Errc::event_not_found:
    case Errc::user_not_found:
    case Errc::scanner_not_found: return 404;
    case Errc::conflict:
    case Errc::registration_closed: return 409;
    case Errc::payload_too_large: return 413;
    case Errc::unavailable:
    case Errc::schema_outdated:
    case Errc::beacon_key_missing: return 503;
    case Errc::internal: return 500;
  }
  return 500;
}

std::string_view errorName(const boost::system::error_code& ec) noexcept {
  if (!ec) return "ok";
  if (ec.category() != coreCategory()) return "internal";
  switch (static_cast<Errc>(ec.value())) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::malformed_body: return "malformed_body";
    case Errc::unauthorized: return "unauthorized";
    case Errc::forbidden: return "forbidden";
    case Errc::scanner_not_assigned: return "scanner_not_assigned";
    case Errc::not_found: return "not_found";
    case Errc::event_not_found: return "event_not_found";
    case Errc::user_not_found: return "user_not_found";
    case Errc::scanner_not_found: return "scanner_not_found";
    case Errc::conflict: return "conflict";
    case Errc::payload_too_large: return "payload_too_large";
    case Errc::unavailable: return "unavailable";
    case Errc::schema_outdated: return "schema_outdated";
    case Errc::beacon_key_missing: return "beacon_key_missing";
    case Errc::registration_closed: return "registration_closed";
    case Errc::internal: return "internal";
  }
  return "internal";
}

}  // namespace attendance::core
