#include "cli.hpp"

#include <attendance/support/clock.hpp>

#include <iostream>

#ifdef ATTENDANCE_ADMIN_WEB
#include <attendance/admin_web/commands.hpp>
#endif

int main(int argc, char** argv) {
  const attendance::support::RealTimeSource clock;
  const attendance::admin::Io io{std::cout, std::cerr, clock};
#ifdef ATTENDANCE_ADMIN_WEB
  return attendance::admin::run(argc, argv, io, [](CLI::App& app) { attendance::admin_web::addCommands(app); });
#else
  return attendance::admin::run(argc, argv, io);
#endif
}
