#pragma once

#include "beacon/cli.hpp"

#include <attendance/ble_scan/bluez_advertiser.hpp>
#include <attendance/support/clock.hpp>

#include <functional>
#include <ostream>

namespace attendance::beacon {

struct Environment {
  const support::TimeSource& time;
  std::ostream& out;
  std::ostream& err;
  // Checked after every poll; main sets it from SIGTERM/SIGINT.
  std::function<bool()> stopRequested = [] { return false; };
  // Told the advertiser once it exists (and nullptr before it goes), so a signal handler can wake it.
  std::function<void(ble_scan::BluezAdvertiser*)> advertiserChanged;
};

// Gets the settings (sign-in or file), saves them if asked, then prints the id (`id --at`) or
// advertises until stopped. Returns the exit code; errors go to env.err in the common format.
[[nodiscard]] int run(const Options& options, Environment& env);

}  // namespace attendance::beacon
