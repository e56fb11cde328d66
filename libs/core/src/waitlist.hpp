#pragma once

// Private: moving waitlisted participants into free seats, inside a caller's
// transaction that holds the event row's lock (registration.cpp, events.cpp).
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attendance::core::detail {

// Fills the free seats (all waitlisted when `capacity` is none) from the head of
// the waitlist; returns the promoted userIds in waitlist order.
std::vector<std::string> promoteFromWaitlist(pqxx::transaction_base& tx, std::string_view eventId,
                                             std::optional<std::int32_t> capacity);

// Before a user row is deleted (its registrations would go by cascade): gives up
// each of the user's seats the way cancelRegistration does, so the first
// waitlisted participant of each event gets it.
void releaseSeatsOf(pqxx::transaction_base& tx, std::string_view userId);

}  // namespace attendance::core::detail
