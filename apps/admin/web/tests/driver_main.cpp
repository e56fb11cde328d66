// attendance-admin-web-driver: `serve`, `create-admin` (the web commands, wired
// exactly as attendance-admin wires them) and `migrate`, for tests.
#include <CLI/CLI.hpp>

#include <iostream>

#include <attendance/admin_web/commands.hpp>
#include <attendance/attendance_core/migrations.hpp>

int main(int argc, char** argv) {
  CLI::App app{"attendance-admin web commands (test driver)"};
  app.require_subcommand(1);
  attendance::admin_web::addCommands(app);
  app.add_subcommand("migrate", "Apply the database migrations")->callback([] {
    attendance::core::ConnectionPool pool{attendance::core::DatabaseConfig::fromEnvironment()};
    auto r = attendance::core::migrate(pool);
    if (!r) {
      std::cerr << "migrate: " << r.error().message() << '\n';
      throw CLI::RuntimeError(6);
    }
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
