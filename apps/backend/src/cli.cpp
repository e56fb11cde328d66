#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "app_cli/cli.hpp"

#include "backend.hpp"

namespace attendance::backend {

int runCli(int argc, char** argv) {
  CLI::App app{
      "attendance-backend: the attendance HTTP API over PostgreSQL.\n"
      "Database: DATABASE_URL, or the libpq PG* variables when unset."};
  app_cli::configure(app, "attendance-backend",
                     {{kExitOk, "served and drained after SIGTERM/SIGINT, or migrated"},
                      {kExitInternal, "unexpected failure"},
                      {kExitUsage, "bad command line"},
                      {kExitSchema, "serve: schema not current (run migrate); migrate: database newer than binary"},
                      {kExitDatabase, "database unavailable (the message names libpq's reason)"},
                      {kExitListen, "cannot listen on --listen"}},
                     "docs/backend.md");
  app.require_subcommand(1);

  auto* migrateCmd = app.add_subcommand("migrate", "Apply the embedded schema migrations (safe to run concurrently)");

  auto* beaconKeyCmd = app.add_subcommand("beacon-key", "The server key that encrypts participants' identity keys");
  beaconKeyCmd->require_subcommand(1);
  std::string beaconKeyPath;
  auto* beaconKeyGenerate = beaconKeyCmd->add_subcommand(
      "generate", "Write a new random beacon key to --file (mode 0600); never overwrites a file");
  beaconKeyGenerate->add_option("--file", beaconKeyPath, "Where to write the key (64 hex digits)")->required();

  ServeOptions o;
  double headerTimeout = 10, bodyTimeout = 60, idleTimeout = 30, drainTimeout = 15;
  auto* serveCmd = app.add_subcommand("serve", "Serve the HTTP API until SIGTERM/SIGINT, then drain and exit 0");
  serveCmd->add_option("--listen", o.listen, "host:port to listen on (port 0: any free port)")->capture_default_str();
  serveCmd->add_option("--threads", o.threads, "I/O threads")->capture_default_str()->check(CLI::Range(1U, 256U));
  serveCmd->add_option("--db-pool", o.dbPool, "Database connections (and database worker threads)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  serveCmd->add_option("--max-pending", o.maxPending, "Queued database jobs before answering 503")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--max-body", o.maxBody, "Largest /batchCheckIn body in bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--max-records", o.maxRecords, "Most records in one /batchCheckIn body")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--max-api-body", o.maxApiBody, "Largest participant API body in bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd
      ->add_option("--rate-limit", o.rateLimit,
                   "Requests per second per scanner key (and per client address on sign-up/login); 0 = off")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serveCmd->add_option("--rate-burst", o.rateBurst, "Burst size of the rate limit")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--max-connections", o.maxConnections, "Open connections before answering 503")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd
      ->add_option("--max-connections-per-address", o.maxConnectionsPerAddress,
                   "Open connections one client address may hold (0: no cap; a --trusted-proxy is not capped)")
      ->capture_default_str();
  serveCmd
      ->add_option("--trusted-proxy", o.trustedProxies,
                   "Reverse proxy (address or CIDR range, repeatable) whose X-Forwarded-For names the client for "
                   "per-address limits; default none: the header is ignored")
      ->type_name("CIDR")
      ->check([](const std::string& text) {
        auto range = http_server::parseAddressRange(text);
        return range ? std::string{} : range.error().message;
      });
  serveCmd
      ->add_option("--password-threads", o.passwordThreads,
                   "Threads for password hashing (sign-up, sign-in), apart from the database workers")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}));
  serveCmd
      ->add_option("--max-pending-passwords", o.maxPendingPasswords,
                   "Queued sign-ups and sign-ins before answering 429")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--header-timeout", headerTimeout, "Seconds to receive a request header")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--body-timeout", bodyTimeout, "Seconds to receive a request body")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--idle-timeout", idleTimeout, "Seconds an idle keep-alive connection stays open")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serveCmd->add_option("--drain-timeout", drainTimeout, "Seconds in-flight requests get after SIGTERM")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  double eventWindowSlackHours = 24;
  serveCmd
      ->add_option("--event-window-slack", eventWindowSlackHours,
                   "Hours before an event's start and after its end within which check-ins are accepted")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 24.0 * 366));
  serveCmd
      ->add_option("--beacon-key-file", o.beaconKeyFile,
                   "The beacon key (attendance-backend beacon-key generate) for private ids; without it events with "
                   "private ids cannot be served")
      ->envname("ATTENDANCE_BEACON_KEY_FILE");
  long privateIdPeriod = 900;
  serveCmd
      ->add_option("--private-id-period", privateIdPeriod,
                   "Seconds one private id is broadcast (participants' broadcasters are told; ingest resolves by "
                   "it); short periods are for tests")
      ->capture_default_str()
      ->check(CLI::Range(1L, 86400L));
  bool noAccessLog = false;
  serveCmd->add_flag("--no-access-log", noAccessLog, "Do not log one line per request");
  serveCmd->add_flag("--secure-cookies", o.secureCookies,
                     "Served over HTTPS (directly or behind a TLS proxy): the participant pages' cookies get Secure");
  bool fastPasswordHashing = false;
  serveCmd->add_flag("--insecure-fast-password-hashing", fastPasswordHashing,
                     "Cheapest Argon2id parameters (tests only, never in production)");

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
    const core::DatabaseConfig database = core::DatabaseConfig::fromEnvironment();
    if (migrateCmd->parsed()) return migrate(database);
    o.headerTimeout = seconds(headerTimeout);
    o.privateIdPeriod = std::chrono::seconds{privateIdPeriod};
    o.bodyTimeout = seconds(bodyTimeout);
    o.idleTimeout = seconds(idleTimeout);
    o.drainTimeout = seconds(drainTimeout);
    o.accessLog = !noAccessLog;
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
