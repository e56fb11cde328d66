#pragma once

#include <attendance/support/clock.hpp>
#include "scanner/boot_clock.hpp"
#include "scanner/config.hpp"

namespace attendance::scanner {

// SIGINT/SIGTERM request a clean stop (and wake the BlueZ poll).
void installStopSignals();

// Runs the scanner until a stop signal: opens and recovers the log, loads the
// roster, re-seeds dedup, drives BlueZ discovery, appends check-ins, prints the
// status line, talks to systemd. Returns the process exit code (config.hpp).
[[nodiscard]] int run(const ScannerConfig& config, const support::TimeSource& time, const BootClock& boot);

}  // namespace attendance::scanner
