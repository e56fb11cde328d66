// attendance-sync: uploads the scanner's log to the backend (docs/sync.md).
// main only wires the real clock, terminal and systemd to what the command line
// asks for (parseCommandLine, sync/cli.cpp).
#include "app_cli/cli.hpp"
#include "sync/cli.hpp"
#include "sync/run.hpp"
#include "sync/summary.hpp"

#include <attendance/support/clock.hpp>

#include <csignal>
#include <exception>
#include <iostream>
#include <unistd.h>

namespace as = attendance::sync;

namespace {

volatile std::sig_atomic_t stopSignal = 0;

extern "C" void onStopSignal(int) { stopSignal = 1; }

}  // namespace

int main(int argc, char** argv) {
  auto command = as::parseCommandLine(argc, argv);
  if (!command) {
    std::cout << command.error().out;
    std::cerr << command.error().err;
    return command.error().exitCode;
  }
  attendance::support::RealTimeSource clock;
  as::SystemScannerControl scanner;
  as::Environment env{clock, std::cout, std::cerr};
  env.progressIsTty = ::isatty(STDERR_FILENO) == 1;
  env.scanner = &scanner;
  if (const auto* sync = std::get_if<as::SyncOptions>(&command->options); sync != nullptr && sync->follow) {
    // The follower stops after the batch in flight (systemctl stop, Ctrl-C).
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    env.stopRequested = [] { return stopSignal != 0; };
  }
  try {
    if (const auto* roster = std::get_if<as::RosterOptions>(&command->options)) return as::runRoster(*roster, env);
    return as::runSync(std::get<as::SyncOptions>(command->options), env);
  } catch (const std::exception& e) {
    std::cerr << attendance::app_cli::errorLine("attendance-sync", e.what()) << "\n";
    return as::kExitNetwork;
  }
}
