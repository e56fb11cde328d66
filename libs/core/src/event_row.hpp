#pragma once

// Private: the columns of an event row and their reading, for every query that
// returns events (events.cpp, participant_data.cpp).
#include <attendance/core/events.hpp>

#include <cstdint>
#include <string>

#include "db_util.hpp"

namespace attendance::core::detail {

// Nine columns of `events e`, in readEvent's order; a query may select more after them.
inline constexpr const char* kEventColumns =
    "e.id, e.name, e.venue, " ATTENDANCE_SQL_MS("e.starts_at") ", " ATTENDANCE_SQL_MS("e.ends_at") ", " ATTENDANCE_SQL_MS(
        "e.created_at") ", e.private_ids, e.capacity, " ATTENDANCE_SQL_MS("e.registration_closes_at");
inline constexpr int kEventColumnCount = 9;

inline Event readEvent(const pqxx::row& row) {
  Event e;
  e.id = row[0].as<std::string>();
  e.name = row[1].as<std::string>();
  e.venue = row[2].as<std::string>();
  if (!row[3].is_null()) e.startsAt = fromMs(row[3].as<std::int64_t>());
  if (!row[4].is_null()) e.endsAt = fromMs(row[4].as<std::int64_t>());
  e.createdAt = fromMs(row[5].as<std::int64_t>());
  e.privateIds = row[6].as<bool>();
  if (!row[7].is_null()) e.capacity = row[7].as<std::int32_t>();
  if (!row[8].is_null()) e.registrationClosesAt = fromMs(row[8].as<std::int64_t>());
  return e;
}

}  // namespace attendance::core::detail
