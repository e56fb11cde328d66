#pragma once

// Signing in through the participant API and fetching the beacon settings:
// POST /api/sessions {"email","password"} → {"token",…}; GET /api/me/beacon with the bearer token.
#include <attendance/support/clock.hpp>

#include <string>

namespace attendance::beacon {

struct Fetched {
  int exitCode = 0;     // 0, or kExitUsage / kExitSignInRefused / kExitBackend
  std::string json;     // the settings as the backend sent them
  std::string message;  // why not, for the error line
};

[[nodiscard]] Fetched fetchSettings(const std::string& backendUrl, const std::string& caFile, const std::string& email,
                                    const std::string& password, const support::TimeSource& clock);

}  // namespace attendance::beacon
