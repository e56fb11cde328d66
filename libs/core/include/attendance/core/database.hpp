#pragma once

#include <attendance/support/result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace attendance::core {

namespace detail {
// Library-private (src/db_util.hpp): the connection behind a lease. Consumers
// see leases only as tokens of exclusive use, never the database client.
struct LeaseAccess;
}  // namespace detail

struct DatabaseConfig {
  // libpq connection string or URI; empty = libpq reads the PG* environment variables.
  std::string conninfo;
  std::size_t poolSize = 8;
  // How long acquire() waits for a free connection before answering `unavailable`.
  std::chrono::milliseconds acquireTimeout{2000};
  // libpq connect_timeout (seconds) appended to the connection string.
  int connectTimeoutSeconds = 5;

  // DATABASE_URL if set, else empty (PG* variables).
  [[nodiscard]] static DatabaseConfig fromEnvironment();
};

// A bounded, thread-safe pool of libpqxx connections (libpqxx 6.4 has none and a
// connection belongs to one thread at a time). Connections are opened lazily, so
// constructing a pool never fails; a connection that broke is dropped and
// re-opened on the next acquire, so the service recovers without a restart.
class ConnectionPool {
  struct State;

public:
  explicit ConnectionPool(DatabaseConfig config);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Exclusive use of one connection until destroyed (then returned to the pool).
  class Lease {
  public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    // The connection is unusable (it broke mid-statement): close it instead of reusing it.
    void markBroken() noexcept { broken_ = true; }

  private:
    friend class ConnectionPool;
    friend struct detail::LeaseAccess;
    Lease(std::shared_ptr<State> state, std::size_t slot) noexcept;
    void release() noexcept;
    std::shared_ptr<State> state_;
    std::size_t slot_ = 0;
    bool broken_ = false;
  };

  // Errc::unavailable when no connection frees up within the timeout or the
  // database cannot be reached.
  [[nodiscard]] Result<Lease> acquire();
  [[nodiscard]] Result<Lease> acquire(std::chrono::milliseconds timeout);

  [[nodiscard]] const DatabaseConfig& config() const noexcept;
  // Why this pool's most recent attempt to open a connection failed
  // (describeConnectFailure, connect_failure.hpp); empty when that attempt
  // succeeded or none was made. Per pool: another pool's failure never shows here.
  [[nodiscard]] std::string lastConnectFailure() const;
  // Connections currently lent out (for metrics and tests).
  [[nodiscard]] std::size_t inUse() const;

private:
  std::shared_ptr<State> state_;
};

}  // namespace attendance::core
