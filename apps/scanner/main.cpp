#include <cstdio>

#include "scanner/app.hpp"
#include "scanner/boot_clock.hpp"
#include "scanner/config.hpp"

// Parses the command line, wires the real clock and boot clock, runs.
int main(int argc, char** argv) {
  using namespace attendance;
  const auto parsed = scanner::parseCommandLine(argc, argv);
  if (!parsed.config) {
    std::fputs(parsed.message.c_str(), parsed.exitCode == scanner::kExitOk ? stdout : stderr);
    std::fputc('\n', parsed.exitCode == scanner::kExitOk ? stdout : stderr);
    return parsed.exitCode;
  }
  scanner::installStopSignals();
  const support::RealTimeSource time;
  const scanner::RealBootClock boot;
  return scanner::run(*parsed.config, time, boot);
}
