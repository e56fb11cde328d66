#pragma once

// attendance-admin's management commands (docs/admin-cli.md), testable without
// a process: run() parses argv, talks to the database through core
// and writes to the given streams.
#include <attendance/support/clock.hpp>

#include <functional>
#include <ostream>

namespace CLI {
class App;
}

namespace attendance::admin {

// Exit codes (documented in docs/admin-cli.md).
enum ExitCode : int {
  kOk = 0,
  kInternal = 1,        // unexpected failure
  kUsage = 2,           // bad command line
  kInvalid = 3,         // a value was rejected (email, id, dates, password)
  kNotFound = 4,        // unknown event, user or scanner
  kConflict = 5,        // already exists (email, event id, scanner id)
  kUnavailable = 6,     // database unreachable
  kSchemaOutdated = 7,  // run `attendance-admin migrate`
  kInputFile = 8,       // --password-file unreadable
  kListen = 9,          // serve: cannot listen
};

struct Io {
  std::ostream& out;
  std::ostream& err;
  const support::TimeSource& clock;
};

// Adds event, user, registration, scanner, report and migrate to `app`.
// Their callbacks throw CLI::RuntimeError(exit code) on failure, after
// writing the reason to io.err.
void addCoreCommands(CLI::App& app, const Io& io);

// The whole CLI: builds the app, lets `extraCommands` add more subcommands
// (the web console's `serve`), parses and runs. Returns the exit code.
int run(int argc, const char* const* argv, const Io& io, const std::function<void(CLI::App&)>& extraCommands = {});

}  // namespace attendance::admin
