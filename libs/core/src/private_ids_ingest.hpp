#pragma once

// Private: how ingest resolves the records of a private-ids event (private_ids.cpp).
#include <attendance/core/private_ids.hpp>
#include <attendance/support/uuid.hpp>

#include <pqxx/pqxx>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attendance::core::detail {

enum class PrivateIdOutcome : std::uint8_t {
  keep,       // not a rotating id of a registered participant: stored as observed (today's lookup)
  resolved,   // a registered participant's id for the record's window ± skew: stored as its static bleUuid
  expired,    // a participant's id for an older window: rejected, expired_id
  ambiguous,  // two participants' ids within the skew: rejected, ambiguous_id
};

struct PrivateIdVerdict {
  PrivateIdOutcome outcome = PrivateIdOutcome::keep;
  support::Uuid bleUuid;    // resolved: the participant's static bleUuid
  std::int64_t offset = 0;  // expired: the id's window − the record's window
};

struct ObservedId {
  support::Uuid bleUuid;
  std::int64_t checkInTimeMs = 0;
};

// One verdict per observed id, in order. Reads the event's versions, keys and static
// bleUuids through `tx` when the cached index does not fit.
std::vector<PrivateIdVerdict> resolvePrivateIds(pqxx::transaction_base& tx, PrivateIdResolver& resolver,
                                                const std::string& eventId, std::int64_t reportVersion,
                                                std::int64_t keysVersion, const support::BleNamespace& ns,
                                                std::span<const ObservedId> observed);

}  // namespace attendance::core::detail
