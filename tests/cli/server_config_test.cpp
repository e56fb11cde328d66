// The servers' configuration as an operator meets it (issue 15 §1, docs/adr/0070):
// the real binaries with real files, `serve --print-config` so nothing connects.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app_cli/server_config.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using attendance::testing::ChildProcess;
using attendance::testing::TempDir;
using attendance::testing::writeFile;

struct Run {
  int code = -1;
  std::string out, err;
};

std::string binary(const std::string& tool) {
  const std::string dir = tool == "attendance-backend" ? "backend" : "admin";
  return std::string{ATTENDANCE_BINARY_DIR} + "/apps/" + dir + "/" + tool;
}

// `env` is all the servers read from the environment: DATABASE_URL and the ATTENDANCE_*
// variables of the test's own environment do not leak in.
Run run(const std::string& tool, std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), binary(tool));
  for (const char* name : {"DATABASE_URL", "ATTENDANCE_BEACON_KEY_FILE", "ATTENDANCE_REPORT_DATABASE_URL"}) {
    ::unsetenv(name);  // the child gets this process's environment plus `env`
  }
  ChildProcess p{args, env};
  Run r;
  r.out = p.readAll();
  r.code = p.wait(std::chrono::seconds{30}).value_or(-1);
  r.err = p.stderrText();
  return r;
}

// The line of `key = ...` in [section] of --print-config's output.
std::string line(const std::string& printed, const std::string& section, const std::string& key) {
  const auto start = printed.find("\n[" + section + "]\n");
  if (start == std::string::npos) return "(no [" + section + "])";
  const auto at = printed.find("\n" + key + " = ", start);
  if (at == std::string::npos) return "(no " + key + ")";
  return printed.substr(at + 1, printed.find('\n', at + 1) - at - 1);
}

TEST(ServerConfig, UnknownKeyExits2NamingFileLineAndColumn) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[backend]\nlisten = \"127.0.0.1:9000\"\n  lisen = \"x\"\n");
  const auto r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "attendance-backend: error: " + file + ":3:3: unknown key backend.lisen\n");
}

TEST(ServerConfig, WrongTypeAndOutOfRangeNameTheValue) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[admin]\nthreads = \"four\"\n");
  auto r = run("attendance-admin", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, "attendance-admin: error: " + file + ":2:11: admin.threads must be an integer (got a string)\n");

  writeFile(file, "[database]\n\n[backend]\nthreads = 0\n");
  r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, "attendance-backend: error: " + file + ":4:11: backend.threads must be in 1..256 (got 0)\n");

  writeFile(file, "[backend]\nlog-format = \"xml\"\n");
  r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(file + ":2:14: backend.log-format must be one of auto, text, json"), std::string::npos) << r.err;
}

TEST(ServerConfig, SyntaxErrorsAndUnknownSectionsNameFileAndLine) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[backend]\nlisten = \n");
  auto r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("attendance-backend: error: " + file + ":2:", 0), 0U) << r.err;

  writeFile(file, "[backends]\nlisten = \"x\"\n");
  r = run("attendance-admin", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("attendance-admin: error: " + file + ":1:2: unknown section [backends]", 0), 0U) << r.err;

  r = run("attendance-admin", {"serve", "--config", (dir / "missing.toml").string(), "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("missing.toml"), std::string::npos) << r.err;
}

TEST(ServerConfig, EachServerSkipsTheOthersSection) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[backend]\nlisten = \"127.0.0.1:9000\"\n\n[admin]\nlisten = \"127.0.0.1:9001\"\n");
  const auto backend = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  ASSERT_EQ(backend.code, 0) << backend.err;
  EXPECT_EQ(line(backend.out, "backend", "listen"), "listen = \"127.0.0.1:9000\"  # file " + file + ":2");
  const auto admin = run("attendance-admin", {"serve", "--config", file, "--print-config"});
  ASSERT_EQ(admin.code, 0) << admin.err;
  EXPECT_EQ(line(admin.out, "admin", "listen"), "listen = \"127.0.0.1:9001\"  # file " + file + ":5");
}

TEST(ServerConfig, FlagOverridesFileAndEnvironment) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[backend]\nthreads = 3\nbeacon-key-file = \"/from/file\"\n");
  const auto r = run("attendance-backend",
                     {"serve", "--config", file, "--threads", "5", "--beacon-key-file", "/from/flag", "--print-config"},
                     {"ATTENDANCE_BEACON_KEY_FILE=/from/env"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "backend", "threads"), "threads = 5  # flag --threads");
  EXPECT_EQ(line(r.out, "backend", "beacon-key-file"), "beacon-key-file = \"/from/flag\"  # flag --beacon-key-file");
  EXPECT_EQ(line(r.out, "backend", "listen"), "listen = \"127.0.0.1:8080\"  # default");
}

TEST(ServerConfig, EnvironmentOverridesFile) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[backend]\nbeacon-key-file = \"/from/file\"\n");
  const auto r = run("attendance-backend", {"serve", "--config", file, "--print-config"},
                     {"ATTENDANCE_BEACON_KEY_FILE=/from/env"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "backend", "beacon-key-file"),
            "beacon-key-file = \"/from/env\"  # env ATTENDANCE_BEACON_KEY_FILE");
}

TEST(ServerConfig, PrintConfigMasksPasswordsAndNamesSources) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file,
            "[database]\nurl = \"postgresql://attendance:file-secret@db.example/attendance\"\n\n[admin]\n"
            "report-database-url = \"host=replica password='rep secret' dbname=attendance\"\n");
  auto r = run("attendance-admin", {"serve", "--config", file, "--print-config"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "database", "url"),
            "url = \"postgresql://attendance:***@db.example/attendance\"  # file " + file + ":2");
  EXPECT_EQ(line(r.out, "admin", "report-database-url"),
            "report-database-url = \"host=replica password=*** dbname=attendance\"  # file " + file + ":5");
  EXPECT_EQ(line(r.out, "admin", "listen"), "listen = \"127.0.0.1:8081\"  # default");
  EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;

  r = run("attendance-admin", {"serve", "--config", file, "--print-config"},
          {"DATABASE_URL=postgresql://u:env-secret@other/db?sslmode=require"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "database", "url"),
            "url = \"postgresql://u:***@other/db?sslmode=require\"  # env DATABASE_URL");
  EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;

  r = run("attendance-admin",
          {"--database-url", "postgresql://f:flag-secret@h/db", "serve", "--config", file, "--print-config"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "database", "url"), "url = \"postgresql://f:***@h/db\"  # flag --database-url");
}

TEST(ServerConfig, SecretsComeFromFiles) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  const auto secret = (dir / "database-url").string();
  writeFile(secret, "postgresql://attendance:from-a-file@localhost/attendance\n");
  writeFile(file, "[database]\nurl-file = \"" + secret + "\"\n");
  auto r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "database", "url"), "url = \"postgresql://attendance:***@localhost/attendance\"  # file " +
                                                file + ":2 (url-file, read from " + secret + ")");
  EXPECT_EQ(r.out.find("from-a-file"), std::string::npos) << r.out;

  // The environment is stronger than the file's url-file.
  r = run("attendance-backend", {"serve", "--config", file, "--print-config"}, {"DATABASE_URL=host=envhost"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "database", "url"), "url = \"host=envhost\"  # env DATABASE_URL");

  writeFile(file, "[database]\nurl = \"host=a\"\nurl-file = \"" + secret + "\"\n");
  r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(r.err, "attendance-backend: error: " + file +
                       ":3:12: database.url and database.url-file are both set: keep one\n");

  writeFile(file, "[database]\nurl-file = \"" + (dir / "none").string() + "\"\n");
  r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find(file + ":2:12: database.url-file: cannot read "), std::string::npos) << r.err;
}

TEST(ServerConfig, MigrateFindsTheDatabaseAsServeDoes) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[database]\nurl = \"postgresql://m:migrate-secret@db/att\"\n\n[backend]\nthreads = 9\n");
  auto r = run("attendance-backend", {"migrate", "--config", file, "--print-config"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# attendance-backend migrate: ", 0), 0U) << r.out;
  EXPECT_EQ(line(r.out, "database", "url"), "url = \"postgresql://m:***@db/att\"  # file " + file + ":2");
  EXPECT_EQ(r.out.find("[backend]"), std::string::npos) << r.out;
  writeFile(file, "[database]\nurl = 5\n");
  r = run("attendance-backend", {"migrate", "--config", file});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, "attendance-backend: error: " + file + ":2:7: database.url must be a string (got an integer)\n");
}

TEST(ServerConfig, TrustedProxiesAreAnArrayCheckedAsTheFlag) {
  TempDir dir;
  const auto file = (dir / "server.toml").string();
  writeFile(file, "[backend]\ntrusted-proxy = [\"127.0.0.1\", \"10.0.0.0/8\"]\n\n[admin]\ntrusted-proxy = [\"::1\"]\n");
  auto r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "backend", "trusted-proxy"),
            "trusted-proxy = [\"127.0.0.1\", \"10.0.0.0/8\"]  # file " + file + ":2");
  r = run("attendance-admin", {"serve", "--config", file, "--trusted-proxy", "192.0.2.1", "--print-config"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line(r.out, "admin", "trusted-proxy"), "trusted-proxy = [\"192.0.2.1\"]  # flag --trusted-proxy");
  writeFile(file, "[backend]\ntrusted-proxy = [\"127.0.0.1\", \"not-an-address\"]\n");
  r = run("attendance-backend", {"serve", "--config", file, "--print-config"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(r.err.rfind("attendance-backend: error: " + file + ":2:31: backend.trusted-proxy ", 0), 0U) << r.err;
}

// /etc/attendance/server.toml as packaged: every key, commented out at its default.
TEST(ServerConfig, PackagedFileParsesAndEqualsTheDefaults) {
  TempDir dir;
  const auto empty = (dir / "empty.toml").string();
  writeFile(empty, "");
  const std::string packaged = std::string{ATTENDANCE_SOURCE_DIR} + "/packaging/server.toml";
  const std::string text = attendance::testing::readFile(packaged);
  for (const std::string tool : {"attendance-backend", "attendance-admin"}) {
    const auto defaults = run(tool, {"serve", "--config", empty, "--print-config"});
    ASSERT_EQ(defaults.code, 0) << defaults.err;
    const auto shipped = run(tool, {"serve", "--config", packaged, "--print-config"});
    ASSERT_EQ(shipped.code, 0) << shipped.err;
    auto body = [](const std::string& printed) { return printed.substr(printed.find("\n[")); };
    EXPECT_EQ(body(shipped.out), body(defaults.out)) << tool;
    // Every key the server has is in the file, commented out with its default value.
    std::string section;
    for (std::size_t at = 0; at < defaults.out.size();) {
      const auto end = defaults.out.find('\n', at);
      const std::string l = defaults.out.substr(at, end - at);
      at = end + 1;
      if (l.rfind("[", 0) == 0) section = l;
      if (l.empty() || l[0] == '#' || l[0] == '[') continue;
      const std::string setting = "#" + l.substr(0, l.find("  # default"));
      EXPECT_NE(text.find(section), std::string::npos) << section;
      EXPECT_NE(text.find("\n" + setting + "\n", text.find(section)), std::string::npos)
          << tool << ": " << section << " " << setting << " is not in packaging/server.toml";
    }
  }
}

TEST(ServerConfig, BadFlagValueIsAUsageError) {
  const auto r = run("attendance-backend", {"serve", "--log-format", "xml", "--print-config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("attendance-backend: error: --log-format: must be one of auto, text, json", 0), 0U) << r.err;
}

TEST(MaskPassword, CoversUrisAndKeywordValueStrings) {
  using attendance::app_cli::maskPassword;
  EXPECT_EQ(maskPassword("postgresql://u:p%40ss@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(maskPassword("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(maskPassword("postgresql:///db?user=u&password=p&sslmode=require"),
            "postgresql:///db?user=u&password=***&sslmode=require");
  EXPECT_EQ(maskPassword("host=h password=secret dbname=d"), "host=h password=*** dbname=d");
  EXPECT_EQ(maskPassword("password = 'a b\\' c' host=h"), "password = *** host=h");
  EXPECT_EQ(maskPassword("host=h"), "host=h");
  EXPECT_EQ(maskPassword(""), "");
}

}  // namespace

namespace engine {

using attendance::app_cli::ServerConfig;

struct Parsed {
  std::optional<std::string> problem;
  std::string printed;
};

// One [demo] section with a list and a number, parsed from `args` and `file`.
Parsed parseDemo(const std::string& file, std::vector<std::string> args, std::vector<std::string>& list,
                 double& number) {
  CLI::App app{"demo"};
  ServerConfig config{"demo", {"demo"}, {}};
  config.addStringList(
      app, {"demo", "proxy", "--proxy", ""}, list,
      [](const std::string& v) -> std::optional<std::string> {
        if (v.find('/') == std::string::npos) return "must be a CIDR range (got '" + v + "')";
        return std::nullopt;
      },
      "ranges");
  config.addNumber(app, {"demo", "ratio", "--ratio", "DEMO_RATIO"}, number, 0, 1, "a ratio");
  config.addFileOptions(app);
  args.insert(args.begin(), {"demo", "--config", file});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  Parsed p;
  p.problem = config.resolve(
      [](const char* name) -> const char* { return std::string_view{name} == "DEMO_RATIO" ? "0.25" : nullptr; });
  if (!p.problem) p.printed = config.print();
  return p;
}

TEST(ServerConfigEngine, ListsComeFromTheFileOrTheRepeatedFlag) {
  TempDir dir;
  const auto file = (dir / "demo.toml").string();
  writeFile(file, "[demo]\nproxy = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\nratio = 0.5\n");
  std::vector<std::string> list;
  double ratio = 1;
  auto p = parseDemo(file, {}, list, ratio);
  ASSERT_FALSE(p.problem) << *p.problem;
  EXPECT_EQ(list, (std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"}));
  EXPECT_EQ(ratio, 0.25);  // the environment beats the file
  EXPECT_NE(p.printed.find("proxy = [\"10.0.0.0/8\", \"192.168.0.0/16\"]  # file " + file + ":2\n"), std::string::npos)
      << p.printed;
  EXPECT_NE(p.printed.find("ratio = 0.25  # env DEMO_RATIO\n"), std::string::npos) << p.printed;

  p = parseDemo(file, {"--proxy", "127.0.0.1/32", "--proxy", "::1/128"}, list, ratio);
  ASSERT_FALSE(p.problem) << *p.problem;
  EXPECT_EQ(list, (std::vector<std::string>{"127.0.0.1/32", "::1/128"}));

  writeFile(file, "[demo]\nproxy = [\"10.0.0.0/8\", \"nonsense\"]\n");
  p = parseDemo(file, {}, list, ratio);
  ASSERT_TRUE(p.problem);
  EXPECT_EQ(*p.problem, file + ":2:24: demo.proxy must be a CIDR range (got 'nonsense')");
}

}  // namespace engine
