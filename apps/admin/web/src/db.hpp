#pragma once

// Private: run a unit of work on a pooled connection; libpqxx exceptions become
// core error codes so handlers deal with values only.
#include <chrono>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include <pqxx/pqxx>

#include <attendance/attendance_core/database.hpp>
#include <attendance/attendance_core/error.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/result.hpp>

namespace attendance::admin_web::db {

// Thrown inside a unit of work to roll it back with a core error.
struct Failure {
  core::Errc code;
};

template <class F>
auto with(core::ConnectionPool& pool, std::string_view operation, F&& work)
    -> Result<typename std::invoke_result_t<F, pqxx::connection_base&>::value_type> {
  auto lease = pool.acquire();
  if (!lease) return lease.error();
  try {
    return std::forward<F>(work)(lease->connection());
  } catch (const Failure& f) {
    return core::make_error_code(f.code);
  } catch (const pqxx::unique_violation&) {
    return core::make_error_code(core::Errc::conflict);
  } catch (const pqxx::check_violation&) {
    return core::make_error_code(core::Errc::invalid_argument);
  } catch (const pqxx::broken_connection& e) {
    lease->markBroken();
    support::log::warn("admin_web.db_broken", {{"operation", operation}, {"error", e.what()}});
    return core::make_error_code(core::Errc::unavailable);
  } catch (const std::exception& e) {
    support::log::error("admin_web.db_error", {{"operation", operation}, {"error", e.what()}});
    return core::make_error_code(core::Errc::internal);
  }
}

inline std::int64_t toMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline std::chrono::system_clock::time_point fromMs(std::int64_t ms) {
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

}  // namespace attendance::admin_web::db
