#pragma once

namespace CLI {
class App;
}

namespace attendance::admin_web {

// Registers `serve` and `create-admin` on the attendance-admin command line.
// The subcommands' callbacks run the server / create the account and throw
// CLI::RuntimeError(exitCode) on failure (docs/admin-web.md lists the codes).
void addCommands(CLI::App& app);

}  // namespace attendance::admin_web
