#include "cli.hpp"
#include "web/commands.hpp"

#include <attendance/support/clock.hpp>

#include <iostream>

int main(int argc, char** argv) {
  const attendance::support::RealTimeSource clock;
  const attendance::admin::Io io{std::cout, std::cerr, clock};
  return attendance::admin::run(argc, argv, io, [](CLI::App& app) { attendance::admin_web::addCommands(app); });
}
