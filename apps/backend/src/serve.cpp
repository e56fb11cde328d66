#include <malloc.h>

#include <exception>
#include <iostream>
#include <thread>

#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include <attendance/core/migrations.hpp>
#include <attendance/support/log.hpp>

#include "app_cli/cli.hpp"
#include "app_cli/notify.hpp"
#include "backend.hpp"

namespace attendance::backend {

namespace log = support::log;

http_server::ServerConfig serverConfigFor(const ServeOptions& o) {
  http_server::ServerConfig cfg;
  auto [host, port] = http_server::parseListenAddress(o.listen).value();  // checked by the CLI
  cfg.host = host;
  cfg.port = port;
  cfg.ioThreads = std::max(1U, o.threads);
  cfg.bodyLimit = o.maxApiBody;  // /batchCheckIn raises its own limit to maxBody
  cfg.headerTimeout = o.headerTimeout;
  cfg.bodyTimeout = o.bodyTimeout;
  cfg.idleTimeout = o.idleTimeout;
  cfg.drainTimeout = o.drainTimeout;
  cfg.maxConnections = o.maxConnections;
  cfg.maxConnectionsPerAddress = o.maxConnectionsPerAddress;
  cfg.trustedProxies = http_server::TrustedProxies::parse(o.trustedProxies).value();  // checked by the CLI
  cfg.serverName = "attendance-backend";
  cfg.accessLog = o.accessLog;
  return cfg;
}

namespace {

// "<tool>: error: <message>" (app_cli); a database that is unavailable is named
// with libpq's reason ("database unavailable: role \"root\" does not exist").
void printError(const std::string& message) { std::cerr << app_cli::errorLine("attendance-backend", message) << "\n"; }

std::string describe(const boost::system::error_code& ec, const core::ConnectionPool& pool) {
  std::string text = ec.message();
  if (ec == core::Errc::unavailable) {
    if (const auto why = pool.lastConnectFailure(); !why.empty()) text += ": " + why;
  }
  return text;
}

}  // namespace

int migrate(const core::DatabaseConfig& database) {
  core::ConnectionPool pool{database};
  auto outcome = core::migrate(pool);
  if (!outcome) {
    if (outcome.error() == core::Errc::schema_outdated) {
      printError(
          fmt::format("the database schema is newer than this binary (expects version {}); upgrade attendance-backend",
                      core::expectedSchemaVersion()));
      return kExitSchema;
    }
    printError(describe(outcome.error(), pool));
    return outcome.error() == core::Errc::unavailable ? kExitDatabase : kExitInternal;
  }
  std::cout << fmt::format(R"({{"from":{},"to":{},"applied":{}}})", outcome->from, outcome->to, outcome->applied())
            << std::endl;
  log::info("backend.migrated", {{"from", outcome->from}, {"to", outcome->to}});
  return kExitOk;
}

int serve(const ServeOptions& options, const core::DatabaseConfig& databaseIn,
          const std::function<void(unsigned short)>& onListening) {
  // Request bodies (up to 16 MiB) and their records are large, short-lived
  // blocks. glibc raises its mmap threshold after each such block is freed, so
  // later ones would come from the heap and stay with the process after the
  // request; a fixed 1 MiB threshold hands them back to the kernel when freed.
  ::mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  core::DatabaseConfig database = databaseIn;
  database.poolSize = std::max<std::size_t>(1, options.dbPool);
  core::ConnectionPool pool{database};

  auto status = core::schemaStatus(pool);
  if (!status) {
    printError("cannot check the database schema: " + describe(status.error(), pool));
    return status.error() == core::Errc::unavailable ? kExitDatabase : kExitInternal;
  }
  if (!status->upToDate()) {
    if (status->newerThanBinary()) {
      printError(
          fmt::format("the database schema (version {}) is newer than this binary (version {}); "
                      "upgrade attendance-backend",
                      status->current, status->expected));
    } else {
      printError(fmt::format("the database schema is at version {}, this binary needs version {}: {}", status->current,
                             status->expected, core::kRunMigrateHint));
    }
    return kExitSchema;
  }

  // Private ids (docs/beacon-spec.md): the server key from its file, or none (said at start).
  std::optional<core::ServerKey> beaconKey;
  if (!options.beaconKeyFile.empty()) {
    auto loaded = loadBeaconKeyFile(options.beaconKeyFile);
    if (auto* why = std::get_if<std::string>(&loaded)) {
      printError(*why);
      return kExitUsage;
    }
    beaconKey = std::get<core::ServerKey>(loaded);
  } else {
    // In the log line only, so that json logs stay one object per line.
    log::warn("backend.no_beacon_key",
              {{"reason",
                "no --beacon-key-file (ATTENDANCE_BEACON_KEY_FILE, beacon-key-file in [backend]): events with private "
                "ids refuse batches and GET /api/me/beacon refuses their participants (503 beacon_key_missing)"}});
  }
  core::IngestOptions ingest = options.ingest;
  core::PrivateIdOptions privateIdOptions;
  if (auto period = beacon_id::RotationPeriod::create(options.privateIdPeriod)) privateIdOptions.period = *period;
  // A replay is recognised for a day, whatever the period (96 windows at 15 minutes).
  privateIdOptions.lookBackWindows =
      static_cast<std::uint32_t>(std::chrono::seconds{std::chrono::hours{24}} / privateIdOptions.period.seconds());
  ingest.privateIds = std::make_shared<core::PrivateIdResolver>(beaconKey, privateIdOptions);

  support::RealTimeSource clock;
  http_server::MetricsRegistry metrics;
  http_server::BlockingPool blocking{database.poolSize, options.maxPending};
  http_server::BlockingPool passwords{options.passwordThreads, options.maxPendingPasswords};
  http_server::RateLimiter scannerLimiter{clock, options.rateLimit, options.rateBurst};
  http_server::RateLimiter clientLimiter{clock, options.rateLimit, options.rateBurst};
  core::BatchLimits limits;
  limits.maxBodyBytes = options.maxBody;
  limits.maxRecords = options.maxRecords;
  BackendContext ctx{pool,  blocking,     passwords, metrics, scannerLimiter,    clientLimiter,
                     clock, options.auth, limits,    ingest,  options.maxApiBody};
  ctx.secureCookies = options.secureCookies;

  int code = kExitOk;
  {
    http_server::Server server{serverConfigFor(options), makeRouter(ctx), metrics, &clock};
    ctx.draining = [&server] { return server.draining(); };
    boost::asio::ip::tcp::endpoint bound;
    try {
      bound = server.listen();
    } catch (const boost::system::system_error& e) {
      printError("cannot listen on " + options.listen + ": " + e.code().message());
      return kExitListen;
    }
    // Tests and scripts read the bound port from this line (port 0 = kernel-chosen).
    std::cout << fmt::format(R"({{"listening":"{}:{}"}})", bound.address().to_string(), bound.port()) << std::endl;
    if (onListening) onListening(bound.port());
    // The index of every private-ids event running within a day of now, built on its own thread so no
    // request waits for it: at start, so the first batch after a restart costs what a static-id batch
    // costs, and every --private-ids-refresh, so a registration (here or in the admin console) is indexed
    // before the next batch rather than in it (docs/beacon-spec.md "Resolving"). A batch that comes
    // during a build waits only for the rest of it. Stopped and joined as this block ends.
    std::jthread prepareIndexes;
    if (ingest.privateIds->hasServerKey()) {
      prepareIndexes = std::jthread{
          [&pool, &clock, resolver = ingest.privateIds, interval = options.privateIdsRefresh](std::stop_token stop) {
            resolver->refreshCurrent(
                pool, clock, interval, stop, [](const attendance::Result<core::PrivateIdResolver::Prepared>& r) {
                  if (!r) {
                    log::warn("backend.private_ids_prepare_failed", {{"error", r.error().message()}});
                  } else if (r->entries > 0) {
                    log::info("backend.private_ids_prepared", {{"events", r->events}, {"entries", r->entries}});
                  }
                });
          }};
    }
    server.runUntilSignal([&bound] {
      app_cli::notifyReady(fmt::format("listening on {}:{}", bound.address().to_string(), bound.port()));
    });
    // Database jobs abandoned by a drain deadline finish before their frames go away.
    blocking.join();
    passwords.join();
  }
  log::info("backend.exit", {{"code", code}});
  return code;
}

}  // namespace attendance::backend
