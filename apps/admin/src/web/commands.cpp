#include "commands.hpp"

#include <CLI/CLI.hpp>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>
#include <thread>
#include <vector>

#include <attendance/core/admin_accounts.hpp>
#include <attendance/core/error.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/server.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/log.hpp>

#include "app.hpp"
#include "app_cli/cli.hpp"
#include "app_cli/notify.hpp"
#include "app_cli/server_config.hpp"

namespace attendance::admin_web {

namespace {

// Exit codes (docs/admin-web.md), the same numbers as the rest of attendance-admin.
constexpr int kUsageError = 2;     // bad flag or config file
constexpr int kExitInvalid = 3;    // bad input: email, password, listen address
constexpr int kExitConflict = 5;   // the admin exists
constexpr int kExitDatabase = 6;   // database unavailable
constexpr int kExitSchema = 7;     // schema outdated: run `attendance-backend migrate`
constexpr int kExitInputFile = 8;  // --password-file unreadable
constexpr int kExitServer = 9;     // could not listen

struct ServeOptions {
  std::string databaseUrl;  // DATABASE_URL, [database] url or url-file, attendance-admin --database-url
  std::string logFormat = "auto";
  std::string listen = "127.0.0.1:8081";
  unsigned threads = 2;
  std::size_t dbPool = 8;
  std::size_t passwordThreads = 1;
  std::size_t maxPendingPasswords = 16;
  bool secureCookies = false;
  std::size_t reportCacheEvents = 4;
  unsigned reportRefreshSeconds = 5;
  // A streaming replica for the reports (empty: the primary, DATABASE_URL).
  std::string reportDatabaseUrl;
  // Reverse proxies (CIDR ranges) whose X-Forwarded-For names the client (--trusted-proxy).
  std::vector<std::string> trustedProxies;
};

struct CreateAdminOptions {
  std::string email;
  std::string passwordFile;
};

[[noreturn]] void fail(int code, const std::string& message) {
  std::cerr << app_cli::errorLine("attendance-admin", message) << '\n';
  throw CLI::RuntimeError(code);
}

core::DatabaseConfig dbConfig(std::size_t poolSize) {
  core::DatabaseConfig cfg = core::DatabaseConfig::fromEnvironment();
  cfg.poolSize = poolSize;
  return cfg;
}

// `which` names the setting that chose the database, for the message.
void requireSchema(core::ConnectionPool& pool, std::string_view which = "DATABASE_URL or the PG* variables") {
  auto status = core::schemaStatus(pool);
  if (!status) {
    std::string message = "cannot read the schema version: " + status.error().message();
    // libpq's reason: "database unavailable: role "root" does not exist".
    if (const auto why = pool.lastConnectFailure(); status.error() == core::Errc::unavailable && !why.empty()) {
      message += ": " + why;
    }
    fail(kExitDatabase, message + " (check " + std::string{which} + ")");
  }
  if (!status->upToDate()) {
    fail(kExitSchema,
         status->newerThanBinary()
             ? "database schema version " + std::to_string(status->current) + " is newer than this binary (" +
                   std::to_string(status->expected) + ")"
             : "database schema lacks " + std::to_string(status->missing) + " migration(s): " + core::kRunMigrateHint);
  }
}

void serve(const ServeOptions& o) {
  auto parsed = http_server::parseListenAddress(o.listen);
  if (!parsed) fail(kExitInvalid, "--listen: " + parsed.error().message);
  const http_server::ListenAddress address = *parsed;
  core::DatabaseConfig primary = dbConfig(o.dbPool);
  primary.conninfo = o.databaseUrl;
  core::ConnectionPool pool{primary};
  requireSchema(pool);
  std::unique_ptr<core::ConnectionPool> reportPool;
  if (!o.reportDatabaseUrl.empty()) {
    core::DatabaseConfig replica = dbConfig(o.dbPool);
    replica.conninfo = o.reportDatabaseUrl;
    reportPool = std::make_unique<core::ConnectionPool>(replica);
    requireSchema(*reportPool, "report-database-url");
  }

  support::RealTimeSource clock;
  http_server::BlockingPool blocking{o.dbPool, 256};
  WebOptions options;
  options.secureCookies = o.secureCookies;
  options.passwordThreads = o.passwordThreads;
  options.maxPendingPasswords = o.maxPendingPasswords;
  options.reportCacheEvents = o.reportCacheEvents;
  options.reportRefreshInterval = std::chrono::seconds{o.reportRefreshSeconds};
  http_server::MetricsRegistry metrics;  // outlives the app, which counts into it
  WebApp app{pool, blocking, clock, options, &metrics, reportPool.get()};
  http_server::Router router;
  app.addRoutes(router);

  http_server::ServerConfig cfg;
  cfg.host = address.host;
  cfg.port = address.port;
  cfg.ioThreads = std::max(1U, o.threads);
  cfg.serverName = "attendance-admin";
  auto trusted = http_server::TrustedProxies::parse(o.trustedProxies);
  if (!trusted) fail(kExitInvalid, "--trusted-proxy: " + trusted.error().message);
  cfg.trustedProxies = *trusted;
  cfg.readiness = [&pool] {
    auto s = core::schemaStatus(pool);
    return s && s->upToDate();
  };
  http_server::Server server{cfg, std::move(router), metrics, &clock};
  boost::asio::ip::tcp::endpoint ep;
  try {
    ep = server.listen();
  } catch (const std::exception& e) {
    fail(kExitServer, "cannot listen on " + o.listen + ": " + e.what());
  }
  const std::string url = "http://" + ep.address().to_string() + ":" + std::to_string(ep.port()) + "/";
  support::log::info("admin_web.listening", {{"url", url}});
  // One line on stdout so scripts (and tests) learn the port when --listen ends in :0.
  std::cout << "listening " << url << std::endl;
  server.runUntilSignal([&url] { app_cli::notifyReady("listening on " + url); });
  support::log::info("admin_web.stopped");
}

std::string readPassword(const std::string& file) {
  std::string password;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(kExitInputFile, "cannot read --password-file " + file);
    std::getline(in, password);
  } else if (::isatty(STDIN_FILENO) != 0) {
    termios old{};
    ::tcgetattr(STDIN_FILENO, &old);
    termios silent = old;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &silent);
    std::string again;
    std::cerr << "Password: " << std::flush;
    std::getline(std::cin, password);
    std::cerr << "\nRepeat password: " << std::flush;
    std::getline(std::cin, again);
    std::cerr << '\n';
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    if (again != password) fail(kExitInvalid, "the passwords do not match");
  } else {
    std::getline(std::cin, password);  // piped: the first line
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

void createAdminCommand(const CreateAdminOptions& o) {
  const std::string password = readPassword(o.passwordFile);
  core::AdminAuthConfig settings;
  if (password.size() < settings.minPasswordLength) {
    fail(kExitInvalid, "the password must have at least " + std::to_string(settings.minPasswordLength) + " characters");
  }
  core::ConnectionPool pool{dbConfig(1)};
  requireSchema(pool);
  support::RealTimeSource clock;
  auto id = core::createAdmin(pool, o.email, password, settings, clock.systemTime());
  if (!id && id.error() == core::Errc::conflict) fail(kExitConflict, "an admin with email " + o.email + " exists");
  if (!id && id.error() == core::Errc::invalid_argument) fail(kExitInvalid, "not a valid email: " + o.email);
  if (!id) fail(kExitDatabase, "database error: " + id.error().message());
  std::cout << "{\"id\":" << *id << ",\"email\":\"";
  for (char c : o.email) {
    if (c == '"' || c == '\\') std::cout << '\\';
    std::cout << c;
  }
  std::cout << "\"}" << std::endl;
}

}  // namespace

void addCommands(CLI::App& app) {
  auto serveOpts = std::make_shared<ServeOptions>();
  CLI::App* s = app.add_subcommand("serve", "Run the admin web console and report server");
  // Every setting: a key of [admin] (or [database]) in the config file; most also a flag (docs/admin-web.md).
  auto config = std::make_shared<app_cli::ServerConfig>(
      "attendance-admin serve", std::vector<std::string>{"database", "admin"}, std::vector<std::string>{"backend"});
  ServeOptions& o = *serveOpts;
  config->addString(*s, {"database", "url", "", "DATABASE_URL", true}, o.databaseUrl, "libpq connection string or URI");
  config->addSecretFile({"database", "url-file", "", "", false}, "url");
  config->addFileOptions(*s);
  const auto key = [](const char* name) { return app_cli::ConfigKey{"admin", name, std::string("--") + name, ""}; };
  // A bad address is exit 3 here (docs/admin-web.md), checked when serving.
  config->addString(*s, key("listen"), o.listen, "host:port to listen on (port 0 = any free port)");
  config->addUnsigned(*s, key("threads"), o.threads, 1, 256, "I/O threads");
  config->addSize(*s, key("db-pool"), o.dbPool, 1, 256, "database connections (and worker threads)");
  config->addSize(*s, key("password-threads"), o.passwordThreads, 1, 64,
                  "threads that hash passwords for sign-ins, apart from the database workers");
  config->addSize(*s, key("max-pending-passwords"), o.maxPendingPasswords, 1, 10000,
                  "sign-ins queued for those threads before answering 429");
  config->addSwitch(*s, key("secure-cookies"), o.secureCookies, true,
                    "served over HTTPS (e.g. behind a TLS proxy): Secure, __Host- cookies");
  config->addSize(*s, key("report-cache-events"), o.reportCacheEvents, 0, 1000,
                  "built reports kept in memory (least recently used event dropped first; 0 = none)");
  config->addUnsigned(*s, key("report-refresh-seconds"), o.reportRefreshSeconds, 0, 86400,
                      "re-check cached reports and rebuild changed ones this often (0 = only on request)");
  config->addString(*s,
                    {"admin", "report-database-url", "--report-database-url", "ATTENDANCE_REPORT_DATABASE_URL", true},
                    o.reportDatabaseUrl,
                    "read reports from this database, a streaming replica of DATABASE_URL's (docs/scaling.md); "
                    "sign-ins, forms and lists stay on the primary");
  config->addSecretFile({"admin", "report-database-url-file", "", "", false}, "report-database-url");
  config->addStringList(
      *s, key("trusted-proxy"), o.trustedProxies,
      [](const std::string& text) -> std::optional<std::string> {
        if (auto range = http_server::parseAddressRange(text); !range) return range.error().message;
        return std::nullopt;
      },
      "reverse proxy (address or CIDR range, repeatable) whose X-Forwarded-For names the client for sign-in limits; "
      "default none: the header is ignored");
  config->addChoice(*s, key("log-format"), o.logFormat, {"auto", "text", "json"},
                    "log lines: json (one object per line, for shippers), text (words; journald's), auto (text when "
                    "stderr is the journal, else json)");
  s->callback([serveOpts, config, &app] {
    // attendance-admin --config FILE serve: the file of the command's own --config, unless serve names one.
    if (auto* file = app.get_option_no_throw("--config"); file != nullptr && file->count() > 0) {
      config->useFile(file->as<std::string>());
    }
    // attendance-admin --database-url URL serve: the command's own flag names the database too.
    if (auto* url = app.get_option_no_throw("--database-url"); url != nullptr && url->count() > 0) {
      config->setFromFlag("database", "url", url->as<std::string>(), "--database-url");
    }
    if (auto why = config->resolve()) fail(kUsageError, *why);
    if (config->printRequested()) {
      std::cout << config->print();
      return;
    }
    app_cli::setLogFormat(serveOpts->logFormat);
    serve(*serveOpts);
  });

  auto adminOpts = std::make_shared<CreateAdminOptions>();
  CLI::App* c = app.add_subcommand("create-admin", "Create an account for the admin web console");
  c->add_option("--email", adminOpts->email, "sign-in email")->required();
  c->add_option("--password-file", adminOpts->passwordFile,
                "read the password from the first line of this file (default: prompt, or stdin when piped)");
  c->callback([adminOpts] { createAdminCommand(*adminOpts); });
}

}  // namespace attendance::admin_web
