#pragma once

// attendance-backend: the HTTP API over core. main.cpp only calls
// runCli(); everything here is linkable by tests (attendance_backend_lib).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <variant>

#include <attendance/core/batch.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/identity_keys.hpp>
#include <attendance/core/private_ids.hpp>
#include <attendance/core/users.hpp>
#include <attendance/http_server/blocking_pool.hpp>
#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/rate_limiter.hpp>
#include <attendance/http_server/router.hpp>
#include <attendance/http_server/server.hpp>
#include <attendance/support/clock.hpp>

namespace attendance::backend {

// Exit codes (docs/backend.md).
enum ExitCode : int {
  kExitOk = 0,        // served and drained, or migrated
  kExitInternal = 1,  // unexpected failure
  kExitUsage = 2,     // bad command line
  kExitSchema = 3,    // serve: schema outdated; migrate: database newer than binary
  kExitDatabase = 4,  // database unreachable
  kExitListen = 5,    // cannot bind the listen address
};

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  unsigned threads = 2;          // I/O threads
  std::size_t dbPool = 4;        // connections = blocking-pool threads
  std::size_t maxPending = 256;  // queued database jobs before 503
  std::size_t maxBody = 16U * 1024U * 1024U;
  std::size_t maxRecords = 100'000;
  std::size_t maxApiBody = 64U * 1024U;  // participant API bodies
  double rateLimit = 10;                 // requests/s per scanner key and per client address on auth routes; 0 = off
  double rateBurst = 20;
  std::size_t maxConnections = 1024;
  std::size_t maxConnectionsPerAddress = 128;
  // Reverse proxies (CIDR ranges) whose X-Forwarded-For names the client (--trusted-proxy).
  std::vector<std::string> trustedProxies;
  // Argon2id runs on a pool of its own, so sign-ins cannot starve ingest and reports.
  std::size_t passwordThreads = 1;
  std::size_t maxPendingPasswords = 16;  // then 429 + Retry-After
  std::chrono::milliseconds headerTimeout{10'000};
  std::chrono::milliseconds bodyTimeout{60'000};
  std::chrono::milliseconds idleTimeout{30'000};
  std::chrono::milliseconds drainTimeout{15'000};
  bool accessLog = true;
  core::AuthConfig auth;
  core::IngestOptions ingest;  // --event-window-slack
  // --beacon-key-file (or ATTENDANCE_BEACON_KEY_FILE): the server key of private ids; empty = none,
  // and private-id features answer 503 beacon_key_missing.
  std::string beaconKeyFile;
  // --private-id-period: seconds one private id is broadcast (GET /api/me/beacon's periodSeconds,
  // the windows ingest resolves by). 900 in production; short only in tests.
  std::chrono::seconds privateIdPeriod{900};
  // --private-ids-refresh: how often the indexes of current private-ids events are brought up to date
  // in the background (core::PrivateIdResolver::refreshCurrent).
  std::chrono::seconds privateIdsRefresh{60};
  // Served over HTTPS (directly or behind a TLS proxy): the participant pages'
  // cookies get `Secure` and the `__Host-` prefix (as the admin console's).
  bool secureCookies = false;
};

// Everything the handlers use; owned by serve() (or a test).
struct BackendContext {
  core::ConnectionPool& db;
  http_server::BlockingPool& blocking;   // database work
  http_server::BlockingPool& passwords;  // password hashing (sign-up, sign-in): full = 429
  http_server::MetricsRegistry& metrics;
  http_server::RateLimiter& scannerLimiter;  // keyed by scannerId
  http_server::RateLimiter& clientLimiter;   // keyed by client address (sign-up / login)
  const support::TimeSource& clock;
  core::AuthConfig auth;
  core::BatchLimits batchLimits;
  core::IngestOptions ingest;
  std::size_t maxApiBody = 64U * 1024U;
  std::function<bool()> draining = [] { return false; };
  bool secureCookies = false;  // ServeOptions::secureCookies
};

// apps/backend/openapi.json, embedded at build time: served at GET /openapi.json (docs/api.md).
[[nodiscard]] std::string_view openApiDocument();

// Declares the backend's metrics and returns the router with every route.
[[nodiscard]] http_server::Router makeRouter(BackendContext& ctx);

[[nodiscard]] http_server::ServerConfig serverConfigFor(const ServeOptions& options);

// `attendance-backend serve`: checks the schema, listens, runs until SIGTERM/SIGINT
// and drains. `onListening` (tests) receives the bound port.
int serve(const ServeOptions& options, const core::DatabaseConfig& database,
          const std::function<void(unsigned short)>& onListening = {});

// `attendance-backend migrate`.
int migrate(const core::DatabaseConfig& database);

// The server key of private ids from its file (64 hex digits, mode 0600 or stricter), or why not.
[[nodiscard]] std::variant<core::ServerKey, std::string> loadBeaconKeyFile(const std::string& path);
// `attendance-backend beacon-key generate --file PATH`: a new random key, mode 0600; refuses to
// overwrite an existing file. nullopt = written, else why not.
[[nodiscard]] std::optional<std::string> generateBeaconKeyFile(const std::string& path);

// Parses argv and dispatches; returns the exit code.
int runCli(int argc, char** argv);

}  // namespace attendance::backend
