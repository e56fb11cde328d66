#pragma once

// What the four executables share on their command line (docs/conventions.md,
// "Command lines"):
//   --version            "<tool> <version> (<git revision>)" on stdout, exit 0
//   errors               "<tool>: error: <message>" on stderr, one line per problem
//   command-line errors  the same, then "run '<tool> --help' for usage", exit 2
//   --help               ends with the tool's exit-code table
#include "app_cli/build_info.hpp"

#include <CLI/CLI.hpp>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace attendance::app_cli {

// Every tool uses 0 for success and 2 for a command-line or configuration error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;

struct ExitCodeDoc {
  int code;
  std::string_view meaning;
};

// "attendance-sync 0.1.0 (35fa0e0)".
[[nodiscard]] std::string versionLine(std::string_view tool);

// "<tool>: error: <message>" (no newline).
[[nodiscard]] std::string errorLine(std::string_view tool, std::string_view message);

// "<file>:<line>:<col>: <reason>": the one form of an error in a config file (the
// servers' server.toml, the scanner's scanner.toml), for errorLine().
[[nodiscard]] std::string fileError(std::string_view file, std::size_t line, std::size_t column,
                                    std::string_view reason);

// A CLI11 parse error in the common format: its message (first letter lower-cased)
// and the pointer to --help, two lines, each ending in a newline.
[[nodiscard]] std::string usageError(std::string_view tool, const CLI::Error& e);

// Names the app `tool`, adds --version and puts the exit codes (and the page of
// docs/ that explains them) in the footer of --help.
void configure(CLI::App& app, std::string_view tool, std::initializer_list<ExitCodeDoc> exitCodes,
               std::string_view docsPage);

// What parse() says when the command line asks for no run.
struct Exit {
  int code = kExitOk;
  std::string out;  // --help, --version: for stdout
  std::string err;  // usage error: for stderr
};

// app.parse() with the common handling: --help and --version give exit 0 and
// the text for stdout; a parse error gives exit 2 and usageError() for stderr; a
// CLI::RuntimeError thrown by a subcommand's callback (which has printed its
// error) gives its exit code. std::nullopt: parsed, go on.
[[nodiscard]] std::optional<Exit> parse(CLI::App& app, int argc, const char* const* argv);

}  // namespace attendance::app_cli
