#pragma once

#include "sync/run.hpp"

#include <boost/system/result.hpp>

#include <string>
#include <variant>

// attendance-sync's command line (docs/sync.md, "Usage"), apart from main() so tests
// parse argument lists without running the binary.
namespace attendance::sync {

// What the command line asks to run.
struct Command {
  std::variant<SyncOptions, RosterOptions> options;
};

// The command line asks for no run: --help (exit 0, the help in `out`) or a usage
// error (exit 2, the message in `err`). main() prints both as they are.
struct CliExit {
  int exitCode = 0;
  std::string out;  // for stdout
  std::string err;  // for stderr
};

[[nodiscard]] boost::system::result<Command, CliExit> parseCommandLine(int argc, const char* const* argv);

}  // namespace attendance::sync
