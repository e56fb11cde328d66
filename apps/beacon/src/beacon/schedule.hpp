#pragma once

// Which id to broadcast at an instant (docs/beacon.md "What it broadcasts"): the private rotating
// id of the window (docs/beacon-spec.md) during an event with private ids (the one given by
// --event, else the one running now), the static bleUuid otherwise. Pure: no clock, no I/O.
#include "beacon/settings.hpp"

#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace attendance::beacon {

struct Plan {
  support::Uuid id;
  bool privateId = false;
  std::string eventId;  // the event that decided, "" when none
  // When the answer may change: the window's end, or an event's start or end; nullopt: never.
  std::optional<std::chrono::system_clock::time_point> until;
};

// errc::invalid_argument (exit 2) with a message when `eventId` is not among the settings' events,
// or when an event with private ids applies but the settings carry no identity key.
[[nodiscard]] Outcome<Plan> planAt(const BeaconSettings& settings, const std::optional<std::string>& eventId,
                                   std::chrono::system_clock::time_point now);

}  // namespace attendance::beacon
