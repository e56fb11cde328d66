#include <exception>
#include <iostream>
#include <limits>

#include <CLI/CLI.hpp>

#include "app_cli/cli.hpp"
#include "app_cli/server_config.hpp"

#include "backend.hpp"

namespace attendance::backend {

int runCli(int argc, char** argv) {
  CLI::App app{
      "attendance-backend: the attendance HTTP API over PostgreSQL.\n"
      "Database: DATABASE_URL, or serve's config file ([database] url or url-file), or the libpq PG* variables.\n"
      "serve reads /etc/attendance/server.toml when it exists (--config names another); flags override the\n"
      "environment, which overrides the file (--print-config shows every value and where it came from)."};
  app_cli::configure(app, "attendance-backend",
                     {{kExitOk, "served and drained after SIGTERM/SIGINT, or migrated"},
                      {kExitInternal, "unexpected failure"},
                      {kExitUsage, "bad command line or config file (the message names file:line:column)"},
                      {kExitSchema, "serve: schema not current (run migrate); migrate: database newer than binary"},
                      {kExitDatabase, "database unavailable (the message names libpq's reason)"},
                      {kExitListen, "cannot listen on --listen"}},
                     "docs/backend.md");
  app.require_subcommand(1);

  auto* migrateCmd = app.add_subcommand("migrate", "Apply the embedded schema migrations (safe to run concurrently)");
  // migrate finds the database as serve does: DATABASE_URL, else [database] of the config file.
  app_cli::ServerConfig migrateConfig{"attendance-backend migrate", {"database"}, {"backend", "admin"}};
  std::string migrateUrl;
  migrateConfig.addString(*migrateCmd, {"database", "url", "", "DATABASE_URL", true}, migrateUrl,
                          "libpq connection string or URI");
  migrateConfig.addSecretFile({"database", "url-file", "", "", false}, "url");
  migrateConfig.addFileOptions(*migrateCmd);

  auto* beaconKeyCmd = app.add_subcommand("beacon-key", "The server key that encrypts participants' identity keys");
  beaconKeyCmd->require_subcommand(1);
  std::string beaconKeyPath;
  auto* beaconKeyGenerate = beaconKeyCmd->add_subcommand(
      "generate", "Write a new random beacon key to --file (mode 0600); never overwrites a file");
  beaconKeyGenerate->add_option("--file", beaconKeyPath, "Where to write the key (64 hex digits)")->required();

  ServeOptions o;
  double headerTimeout = 10, bodyTimeout = 60, idleTimeout = 30, drainTimeout = 15;
  auto* serveCmd = app.add_subcommand("serve", "Serve the HTTP API until SIGTERM/SIGINT, then drain and exit 0");
  // Every setting: a key of [backend] (or [database]) in the config file; most also a flag (docs/backend.md).
  app_cli::ServerConfig config{"attendance-backend serve", {"database", "backend"}, {"admin"}};
  std::string databaseUrl;
  config.addString(*serveCmd, {"database", "url", "", "DATABASE_URL", true}, databaseUrl,
                   "libpq connection string or URI");
  config.addSecretFile({"database", "url-file", "", "", false}, "url");
  config.addFileOptions(*serveCmd);
  const auto listenCheck = [](const std::string& text) -> std::optional<std::string> {
    if (auto listen = http_server::parseListenAddress(text); !listen) return listen.error().message;
    return std::nullopt;
  };
  const auto addressRangeCheck = [](const std::string& text) -> std::optional<std::string> {
    if (auto range = http_server::parseAddressRange(text); !range) return range.error().message;
    return std::nullopt;
  };
  constexpr std::size_t kNoMax = std::numeric_limits<std::size_t>::max();
  const auto key = [](const char* name) { return app_cli::ConfigKey{"backend", name, std::string("--") + name, ""}; };
  config.addString(*serveCmd, key("listen"), o.listen, "host:port to listen on (port 0: any free port)", listenCheck);
  config.addUnsigned(*serveCmd, key("threads"), o.threads, 1, 256, "I/O threads");
  config.addSize(*serveCmd, key("db-pool"), o.dbPool, 1, 256, "Database connections (and database worker threads)");
  config.addSize(*serveCmd, key("max-pending"), o.maxPending, 1, kNoMax, "Queued database jobs before answering 503");
  config.addSize(*serveCmd, key("max-body"), o.maxBody, 1, kNoMax, "Largest /batchCheckIn body in bytes");
  config.addSize(*serveCmd, key("max-records"), o.maxRecords, 1, kNoMax, "Most records in one /batchCheckIn body");
  config.addSize(*serveCmd, key("max-api-body"), o.maxApiBody, 1, kNoMax, "Largest participant API body in bytes");
  config.addNumber(*serveCmd, key("rate-limit"), o.rateLimit, 0, 1e9,
                   "Requests per second per scanner key (and per client address on sign-up/login); 0 = off");
  config.addNumber(*serveCmd, key("rate-burst"), o.rateBurst, 1e-9, 1e9, "Burst size of the rate limit");
  config.addSize(*serveCmd, key("max-connections"), o.maxConnections, 1, kNoMax,
                 "Open connections before answering 503");
  config.addSize(*serveCmd, key("max-connections-per-address"), o.maxConnectionsPerAddress, 0, kNoMax,
                 "Open connections one client address may hold (0: no cap; a --trusted-proxy is not capped)");
  config.addStringList(*serveCmd, key("trusted-proxy"), o.trustedProxies, addressRangeCheck,
                       "Reverse proxy (address or CIDR range, repeatable) whose X-Forwarded-For names the client for "
                       "per-address limits; default none: the header is ignored");
  config.addSize(*serveCmd, key("password-threads"), o.passwordThreads, 1, 64,
                 "Threads for password hashing (sign-up, sign-in), apart from the database workers");
  config.addSize(*serveCmd, key("max-pending-passwords"), o.maxPendingPasswords, 1, kNoMax,
                 "Queued sign-ups and sign-ins before answering 429");
  config.addNumber(*serveCmd, key("header-timeout"), headerTimeout, 0.001, 86400,
                   "Seconds to receive a request header");
  config.addNumber(*serveCmd, key("body-timeout"), bodyTimeout, 0.001, 86400, "Seconds to receive a request body");
  config.addNumber(*serveCmd, key("idle-timeout"), idleTimeout, 0.001, 86400,
                   "Seconds an idle keep-alive connection stays open");
  config.addNumber(*serveCmd, key("drain-timeout"), drainTimeout, 0.001, 86400,
                   "Seconds in-flight requests get after SIGTERM");
  double eventWindowSlackHours = 24;
  config.addNumber(*serveCmd, key("event-window-slack"), eventWindowSlackHours, 0, 24.0 * 366,
                   "Hours before an event's start and after its end within which check-ins are accepted");
  config.addString(*serveCmd, {"backend", "beacon-key-file", "--beacon-key-file", "ATTENDANCE_BEACON_KEY_FILE"},
                   o.beaconKeyFile,
                   "The beacon key (attendance-backend beacon-key generate) for private ids; without it events with "
                   "private ids cannot be served");
  long privateIdPeriod = 900;
  config.addLong(*serveCmd, key("private-id-period"), privateIdPeriod, 1, 86400,
                 "Seconds one private id is broadcast (participants' broadcasters are told; ingest resolves by it); "
                 "short periods are for tests");
  long privateIdsRefresh = 60;
  config.addLong(*serveCmd, key("private-ids-refresh"), privateIdsRefresh, 1, 3600,
                 "Seconds between background updates of current private-ids events' indexes (a registration "
                 "is indexed within this, before the next sync rather than in it)");
  config.addSwitch(*serveCmd, {"backend", "access-log", "--no-access-log", ""}, o.accessLog, false,
                   "Do not log one line per request");
  config.addSwitch(*serveCmd, key("secure-cookies"), o.secureCookies, true,
                   "Served over HTTPS (directly or behind a TLS proxy): the participant pages' cookies get Secure");
  bool fastPasswordHashing = false;
  config.addSwitch(*serveCmd, key("insecure-fast-password-hashing"), fastPasswordHashing, true,
                   "Cheapest Argon2id parameters (tests only, never in production)");
  std::string logFormat = "auto";
  config.addChoice(*serveCmd, key("log-format"), logFormat, {"auto", "text", "json"},
                   "Log lines: json (one object per line, for shippers), text (words; journald's), auto (text when "
                   "stderr is the journal, else json)");

  if (auto exit = app_cli::parse(app, argc, argv)) {
    std::cout << exit->out;
    std::cerr << exit->err;
    return exit->code;
  }

  auto seconds = [](double s) { return std::chrono::milliseconds{static_cast<long long>(s * 1000)}; };
  if (beaconKeyGenerate->parsed()) {
    if (auto why = generateBeaconKeyFile(beaconKeyPath)) {
      std::cerr << app_cli::errorLine("attendance-backend", *why) << "\n";
      return kExitUsage;
    }
    std::cout << "{\"beaconKeyFile\":\"" << beaconKeyPath << "\"}" << std::endl;
    return kExitOk;
  }
  try {
    if (migrateCmd->parsed()) {
      if (auto why = migrateConfig.resolve()) {
        std::cerr << app_cli::errorLine("attendance-backend", *why) << "\n";
        return kExitUsage;
      }
      if (migrateConfig.printRequested()) {
        std::cout << migrateConfig.print();
        return kExitOk;
      }
      core::DatabaseConfig database;
      database.conninfo = migrateUrl;
      return migrate(database);
    }
    if (auto why = config.resolve()) {
      std::cerr << app_cli::errorLine("attendance-backend", *why) << "\n";
      return kExitUsage;
    }
    if (config.printRequested()) {
      std::cout << config.print();
      return kExitOk;
    }
    core::DatabaseConfig database;
    database.conninfo = databaseUrl;
    app_cli::setLogFormat(logFormat);
    o.headerTimeout = seconds(headerTimeout);
    o.privateIdPeriod = std::chrono::seconds{privateIdPeriod};
    o.privateIdsRefresh = std::chrono::seconds{privateIdsRefresh};
    o.bodyTimeout = seconds(bodyTimeout);
    o.idleTimeout = seconds(idleTimeout);
    o.drainTimeout = seconds(drainTimeout);
    o.ingest.eventWindowSlack = std::chrono::milliseconds{static_cast<long long>(eventWindowSlackHours * 3'600'000)};
    if (fastPasswordHashing) o.auth = core::AuthConfig::forTests();
    if (auto listen = http_server::parseListenAddress(o.listen); !listen) {
      std::cerr << app_cli::errorLine("attendance-backend", "--listen: " + listen.error().message) << "\n";
      return kExitUsage;
    }
    return serve(o, database);
  } catch (const std::exception& e) {
    std::cerr << app_cli::errorLine("attendance-backend", e.what()) << "\n";
    return kExitInternal;
  }
}

}  // namespace attendance::backend
