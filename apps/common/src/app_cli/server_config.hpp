#pragma once

// The servers' configuration (docs/adr/0070-server-configuration-precedence.md):
// every setting of `attendance-backend serve` and `attendance-admin serve` has a
// key in /etc/attendance/server.toml, most have a flag, a few an environment
// variable. One value per setting, from the strongest source that sets it:
//   flag  >  environment  >  file  >  default
// --print-config shows the result as TOML with each value's source, passwords
// masked. Every problem is one sentence for "<tool>: error: ..." and exit 2; a
// problem in the file starts with "<file>:<line>:<col>: ".
#include <CLI/CLI.hpp>

#include "app_cli/cli.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attendance::app_cli {

// Where the file lives on an installed system; read when it exists and no --config names another.
inline constexpr std::string_view kServerConfigPath = "/etc/attendance/server.toml";

// A libpq connection string or URI with its password replaced by "***", for
// anything a person or a log may read: "postgresql://u:***@h/db",
// "host=h password=*** dbname=d", "postgresql://h/db?password=***".
[[nodiscard]] std::string maskPassword(std::string_view conninfo);

struct ConfigKey {
  std::string section;  // "database", "backend", "admin"
  std::string name;     // "listen": the flag's name without "--" (the scanner's rule)
  std::string flag;     // "--listen"; empty: the file (and env) only
  std::string env;      // "DATABASE_URL"; empty: none
  bool secret = false;  // a connection string: --print-config masks its password
};

// --log-format: "json", "text", or "auto" (text when stderr is the journal, else json).
void setLogFormat(std::string_view format);

class ServerConfig {
public:
  // `tool`: the command, "attendance-backend serve", for --print-config's heading.
  // `sections`: what this server reads ("database", "backend"); `otherSections`:
  // what the other server reads from the same file, skipped here.
  ServerConfig(std::string tool, std::vector<std::string> sections, std::vector<std::string> otherSections);
  ~ServerConfig();
  ServerConfig(const ServerConfig&) = delete;
  ServerConfig& operator=(const ServerConfig&) = delete;

  // Each binds a key (and its flag on `cmd`, when it has one) to `target`, whose
  // value now is the default. The same check applies to the flag, the variable and
  // the file. `help` is the flag's --help line.
  void addString(CLI::App& cmd, ConfigKey key, std::string& target, std::string help,
                 std::function<std::optional<std::string>(const std::string&)> check = {});
  void addChoice(CLI::App& cmd, ConfigKey key, std::string& target, std::vector<std::string> choices, std::string help);
  void addUnsigned(CLI::App& cmd, ConfigKey key, unsigned& target, unsigned min, unsigned max, std::string help);
  void addSize(CLI::App& cmd, ConfigKey key, std::size_t& target, std::size_t min, std::size_t max, std::string help);
  void addLong(CLI::App& cmd, ConfigKey key, long& target, long min, long max, std::string help);
  void addNumber(CLI::App& cmd, ConfigKey key, double& target, double min, double max, std::string help);
  // A TOML array of strings; the flag may be repeated (--trusted-proxy A --trusted-proxy B),
  // and `check` (may be empty) judges each element.
  void addStringList(CLI::App& cmd, ConfigKey key, std::vector<std::string>& target,
                     std::function<std::optional<std::string>(const std::string&)> check, std::string help);
  // A flag without a value sets `whenFlagGiven` (--no-access-log: access-log = false).
  void addSwitch(CLI::App& cmd, ConfigKey key, bool& target, bool whenFlagGiven, std::string help);
  // `fileKey` (e.g. database.url-file) names a file whose first line is the value of
  // the secret `secretName` of the same section; the stronger source of the two wins,
  // and both in one source is an error.
  void addSecretFile(ConfigKey fileKey, const std::string& secretName);

  // --config FILE and --print-config on `cmd`.
  void addFileOptions(CLI::App& cmd);

  // The file named by another command's --config (attendance-admin --config FILE serve);
  // this command's own --config, when given, wins.
  void useFile(const std::string& path);

  // A flag of another command (attendance-admin --database-url ... serve) that sets a key.
  void setFromFlag(const std::string& section, const std::string& name, const std::string& value,
                   const std::string& flag);

  // After the command line was parsed: the file, then the environment, then the
  // flags into the targets. std::nullopt, or the problem (exit 2).
  using GetEnv = std::function<const char*(const char*)>;
  [[nodiscard]] std::optional<std::string> resolve(const GetEnv& getenv);
  [[nodiscard]] std::optional<std::string> resolve();

  [[nodiscard]] bool printRequested() const;
  // The effective configuration as TOML, every value followed by its source.
  [[nodiscard]] std::string print() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::app_cli
