#pragma once

// Private helpers: run a unit of work on a pooled connection and turn libpqxx
// exceptions into core error codes, so no exception crosses the library edge.
#include <attendance/core/database.hpp>
#include <attendance/core/error.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/result.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace attendance::core::detail {

// The pqxx connection behind a lease (ConnectionPool::Lease keeps it private).
struct LeaseAccess {
  static pqxx::connection_base& connection(const ConnectionPool::Lease& lease);
};

// Thrown inside a unit of work to abort it (rolling back) with a core error.
struct CoreFailure {
  Errc code;
};

// Maps an exception from libpqxx to a core error; marks the lease broken when
// the connection cannot be trusted any more.
Errc classifyDatabaseException(const std::exception& e, ConnectionPool::Lease& lease, std::string_view operation);

template <class T>
Result<T> failure(boost::system::error_code ec) {
  return Result<T>{boost::system::in_place_error, ec};
}

template <class F>
auto withConnection(ConnectionPool& pool, std::string_view operation, F&& work)
    -> Result<typename std::invoke_result_t<F, pqxx::connection_base&>::value_type> {
  using Value = typename std::invoke_result_t<F, pqxx::connection_base&>::value_type;
  auto lease = pool.acquire();
  if (!lease) return failure<Value>(lease.error());
  try {
    return std::forward<F>(work)(LeaseAccess::connection(*lease));
  } catch (const CoreFailure& f) {
    return failure<Value>(make_error_code(f.code));
  } catch (const std::exception& e) {
    return failure<Value>(make_error_code(classifyDatabaseException(e, *lease, operation)));
  }
}

// Epoch milliseconds <-> time_point, the representation used in every query
// (to_timestamp($n / 1000.0) on the way in, extract(epoch) * 1000 on the way out).
inline std::int64_t toMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline std::chrono::system_clock::time_point fromMs(std::int64_t ms) {
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

// SQL fragment turning a timestamptz column into epoch milliseconds.
#define ATTENDANCE_SQL_MS(col) "(extract(epoch from " col ") * 1000)::bigint"

}  // namespace attendance::core::detail
