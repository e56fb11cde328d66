#include "app_cli/cli.hpp"

#include <cctype>
#include <functional>
#include <sstream>
#include <string>

namespace attendance::app_cli {

std::string versionLine(std::string_view tool) {
  std::string line{tool};
  line += ' ';
  line += projectVersion();
  line += " (";
  line += gitRevision();
  line += ')';
  return line;
}

std::string fileError(std::string_view file, std::size_t line, std::size_t column, std::string_view reason) {
  std::string text{file};
  text += ':';
  text += std::to_string(line);
  text += ':';
  text += std::to_string(column);
  text += ": ";
  text += reason;
  return text;
}

std::string errorLine(std::string_view tool, std::string_view message) {
  std::string line{tool};
  line += ": error: ";
  line += message;
  return line;
}

std::string usageError(std::string_view tool, const CLI::Error& e) {
  std::string message = e.what();
  // CLI11 writes sentences ("The following argument was not expected: --x", "A
  // subcommand is required"); ours start lower-case after "error:". Acronyms
  // ("INI", "TOML") stay.
  if (message.size() > 1 && std::isupper(static_cast<unsigned char>(message[0])) != 0 &&
      (std::islower(static_cast<unsigned char>(message[1])) != 0 || message[1] == ' ')) {
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::string text = errorLine(tool, message);
  text += "\nrun '";
  text += tool;
  text += " --help' for usage\n";
  return text;
}

void configure(CLI::App& app, std::string_view tool, std::initializer_list<ExitCodeDoc> exitCodes,
               std::string_view docsPage) {
  app.name(std::string{tool});
  app.set_version_flag("--version", versionLine(tool), "Print the version and git revision, then exit");
  std::ostringstream footer;
  footer << "Exit codes:\n";
  for (const auto& c : exitCodes) footer << "  " << c.code << (c.code < 10 ? "   " : "  ") << c.meaning << '\n';
  footer << "Errors are printed as \"" << tool << ": error: <message>\" on stderr.";
  if (!docsPage.empty()) footer << "\nMore: " << docsPage;
  app.footer(footer.str());
}

namespace {

// `attendance-backend serve --version` answers like `attendance-backend --version`:
// every subcommand (added after configure()) gets the same flag.
void addVersionToSubcommands(CLI::App& app, const std::string& line) {
  for (CLI::App* sub : app.get_subcommands(std::function<bool(CLI::App*)>{})) {
    if (sub->get_option_no_throw("--version") == nullptr) {
      sub->set_version_flag("--version", line, "Print the version and git revision, then exit");
    }
    addVersionToSubcommands(*sub, line);
  }
}

}  // namespace

std::optional<Exit> parse(CLI::App& app, int argc, const char* const* argv) {
  addVersionToSubcommands(app, versionLine(app.get_name()));
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return Exit{e.get_exit_code(), {}, {}};
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    std::ostringstream out;
    std::ostringstream err;
    const int code = app.exit(e, out, err);
    return Exit{code, out.str(), err.str()};
  } catch (const CLI::ParseError& e) {
    // `attendance-backend --bogus`: CLI11 reports the missing subcommand first, but
    // the argument it could not place is the user's mistake.
    if (auto extras = app.remaining(); !extras.empty() && e.get_name() == "RequiredError") {
      return Exit{kExitUsage, {}, usageError(app.get_name(), CLI::ExtrasError(std::move(extras)))};
    }
    return Exit{kExitUsage, {}, usageError(app.get_name(), e)};
  }
  return std::nullopt;
}

}  // namespace attendance::app_cli
