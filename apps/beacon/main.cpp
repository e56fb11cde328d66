// attendance-beacon: broadcasts a participant's id through BlueZ (docs/beacon.md). main only
// wires the real clock, the terminal and the stop signals to run() (beacon/run.cpp).
#include "app_cli/cli.hpp"
#include "beacon/cli.hpp"
#include "beacon/run.hpp"

#include <attendance/support/clock.hpp>

#include <atomic>
#include <csignal>
#include <exception>
#include <iostream>

namespace ab = attendance::beacon;

namespace {

volatile std::sig_atomic_t stopSignal = 0;
std::atomic<attendance::ble_scan::BluezAdvertiser*> running{nullptr};

extern "C" void onStopSignal(int) {
  stopSignal = 1;
  if (auto* a = running.load()) {
    a->wake();  // async-signal-safe
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto options = ab::parseCommandLine(argc, argv);
  if (!options) {
    std::cout << options.error().out;
    std::cerr << options.error().err;
    return options.error().code;
  }
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  const attendance::support::RealTimeSource clock;
  ab::Environment env{clock, std::cout, std::cerr, {}, {}};
  env.stopRequested = [] { return stopSignal != 0; };
  env.advertiserChanged = [](attendance::ble_scan::BluezAdvertiser* a) { running.store(a); };
  try {
    return ab::run(*options, env);
  } catch (const std::exception& e) {
    std::cerr << attendance::app_cli::errorLine("attendance-beacon", e.what()) << "\n";
    return ab::kExitBackend;
  }
}
