#include <attendance/core/connect_failure.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/error.hpp>
#include <attendance/support/log.hpp>

#include "db_util.hpp"

#include <pqxx/pqxx>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace attendance::core {

DatabaseConfig DatabaseConfig::fromEnvironment() {
  DatabaseConfig config;
  if (const char* url = std::getenv("DATABASE_URL"); url != nullptr) config.conninfo = url;
  return config;
}

struct ConnectionPool::State {
  DatabaseConfig config;
  std::string conninfo;  // config.conninfo plus connect_timeout
  std::mutex mutex;
  std::condition_variable freed;
  std::vector<std::unique_ptr<pqxx::connection>> connections;
  std::vector<bool> busy;
  std::size_t inUse = 0;
  std::string lastConnectFailure;  // guarded by mutex
};

namespace {

std::string withConnectTimeout(const std::string& conninfo, int seconds) {
  if (seconds <= 0) return conninfo;
  const std::string setting = "connect_timeout=" + std::to_string(seconds);
  if (conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0) {
    if (conninfo.find("connect_timeout=") != std::string::npos) return conninfo;
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + setting;
  }
  if (conninfo.find("connect_timeout") != std::string::npos) return conninfo;
  return conninfo.empty() ? setting : conninfo + " " + setting;
}

// The password of a libpq URI (postgresql://user:secret@host/db) or keyword/value
// string (password=secret), percent-decoding left out: enough to keep it out of messages.
std::string passwordOf(const std::string& conninfo) {
  if (conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0) {
    const auto start = conninfo.find("://") + 3;
    const auto at = conninfo.find('@', start);
    if (at == std::string::npos) return {};
    const auto colon = conninfo.find(':', start);
    if (colon == std::string::npos || colon > at) return {};
    return conninfo.substr(colon + 1, at - colon - 1);
  }
  const auto key = conninfo.find("password");
  if (key == std::string::npos) return {};
  auto pos = conninfo.find('=', key);
  if (pos == std::string::npos) return {};
  ++pos;
  while (pos < conninfo.size() && conninfo[pos] == ' ') ++pos;
  if (pos < conninfo.size() && conninfo[pos] == '\'') {
    const auto end = conninfo.find('\'', pos + 1);
    return conninfo.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
  }
  const auto end = conninfo.find(' ', pos);
  return conninfo.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

}  // namespace

std::string describeConnectFailure(const std::string& libpqMessage, const std::string& password) {
  std::string line = libpqMessage.substr(0, libpqMessage.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.pop_back();
  // "connection to server at "h", port 5432 failed: FATAL:  role "root" does not exist"
  for (const std::string_view marker : {"FATAL:  ", "FATAL: "}) {
    if (const auto at = line.find(marker); at != std::string::npos) {
      line.erase(0, at + marker.size());
      break;
    }
  }
  if (!password.empty()) {
    for (auto at = line.find(password); at != std::string::npos; at = line.find(password, at + 3)) {
      line.replace(at, password.size(), "***");
    }
  }
  return line;
}

ConnectionPool::ConnectionPool(DatabaseConfig config) : state_(std::make_shared<State>()) {
  if (config.poolSize == 0) config.poolSize = 1;
  state_->conninfo = withConnectTimeout(config.conninfo, config.connectTimeoutSeconds);
  state_->connections.resize(config.poolSize);
  state_->busy.assign(config.poolSize, false);
  state_->config = std::move(config);
}

ConnectionPool::~ConnectionPool() = default;

const DatabaseConfig& ConnectionPool::config() const noexcept { return state_->config; }

std::string ConnectionPool::lastConnectFailure() const {
  std::lock_guard lock{state_->mutex};
  return state_->lastConnectFailure;
}

std::size_t ConnectionPool::inUse() const {
  std::lock_guard lock{state_->mutex};
  return state_->inUse;
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() { return acquire(state_->config.acquireTimeout); }

Result<ConnectionPool::Lease> ConnectionPool::acquire(std::chrono::milliseconds timeout) {
  State& s = *state_;
  std::size_t slot = 0;
  {
    std::unique_lock lock{s.mutex};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!s.freed.wait_until(lock, deadline, [&] { return s.inUse < s.busy.size(); })) {
      support::log::warn("db.pool_exhausted", {{"pool_size", s.busy.size()}});
      return make_error_code(Errc::unavailable);
    }
    // Prefer a slot that already holds an open connection.
    std::size_t chosen = s.busy.size();
    for (std::size_t i = 0; i < s.busy.size(); ++i) {
      if (s.busy[i]) continue;
      if (chosen == s.busy.size()) chosen = i;
      if (s.connections[i] && s.connections[i]->is_open()) {
        chosen = i;
        break;
      }
    }
    slot = chosen;
    s.busy[slot] = true;
    ++s.inUse;
  }
  Lease lease{state_, slot};
  // Connecting happens outside the lock: only this thread owns the slot now.
  auto& conn = s.connections[slot];
  if (!conn || !conn->is_open()) {
    conn.reset();
    try {
      conn = std::make_unique<pqxx::connection>(s.conninfo);
      std::lock_guard lock{s.mutex};
      s.lastConnectFailure.clear();
    } catch (const std::exception& e) {
      support::log::warn("db.connect_failed", {{"error", e.what()}});
      std::string reason = describeConnectFailure(e.what(), passwordOf(s.config.conninfo));
      std::lock_guard lock{s.mutex};
      s.lastConnectFailure = std::move(reason);
      return make_error_code(Errc::unavailable);
    }
  }
  return lease;
}

ConnectionPool::Lease::Lease(std::shared_ptr<State> state, std::size_t slot) noexcept
    : state_(std::move(state)), slot_(slot) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : state_(std::move(other.state_)), slot_(other.slot_), broken_(other.broken_) {}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    slot_ = other.slot_;
    broken_ = other.broken_;
  }
  return *this;
}

ConnectionPool::Lease::~Lease() { release(); }

void ConnectionPool::Lease::release() noexcept {
  if (!state_) return;
  State& s = *state_;
  std::unique_ptr<pqxx::connection> dropped;
  {
    std::lock_guard lock{s.mutex};
    auto& conn = s.connections[slot_];
    if (broken_ || (conn && !conn->is_open())) dropped = std::move(conn);
    s.busy[slot_] = false;
    --s.inUse;
  }
  s.freed.notify_one();
  state_.reset();
  // `dropped` closes here, outside the lock.
}

pqxx::connection_base& detail::LeaseAccess::connection(const ConnectionPool::Lease& lease) {
  return *lease.state_->connections[lease.slot_];
}

namespace detail {

Errc classifyDatabaseException(const std::exception& e, ConnectionPool::Lease& lease, std::string_view operation) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    lease.markBroken();
    support::log::warn("db.connection_lost", {{"operation", operation}, {"error", e.what()}});
    return Errc::unavailable;
  }
  // Whatever the exception, a connection that is no longer open means the database
  // went away under the statement. libpqxx does not always say so: PostgreSQL
  // stopped during a COPY surfaces as a plain pqxx::failure ("Error writing to
  // table: server closed the connection unexpectedly"), which was a 500.
  if (!LeaseAccess::connection(lease).is_open()) {
    lease.markBroken();
    support::log::warn("db.connection_lost", {{"operation", operation}, {"error", e.what()}});
    return Errc::unavailable;
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    const std::string& state = sql->sqlstate();
    // 08xxx connection exceptions, 57P0x admin/crash shutdown, 53xxx insufficient resources.
    if (state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0 || state.rfind("53", 0) == 0) {
      lease.markBroken();
      support::log::warn("db.unavailable", {{"operation", operation}, {"sqlstate", state}, {"error", e.what()}});
      return Errc::unavailable;
    }
    if (state == "23505") return Errc::conflict;
    // 42P01 undefined_table: the schema was never migrated.
    if (state == "42P01") {
      support::log::error("db.schema_missing", {{"operation", operation}, {"error", e.what()}});
      return Errc::schema_outdated;
    }
    support::log::error("db.sql_error", {{"operation", operation}, {"sqlstate", state}, {"error", e.what()}});
    return Errc::internal;
  }
  support::log::error("db.error", {{"operation", operation}, {"error", e.what()}});
  return Errc::internal;
}

}  // namespace detail
}  // namespace attendance::core
