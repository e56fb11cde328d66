#include "beacon/schedule.hpp"

#include <attendance/beacon_id/rotating_id.hpp>

#include <algorithm>

namespace attendance::beacon {

namespace {

Failure invalid(std::string message) {
  return Failure{boost::system::errc::make_error_code(boost::system::errc::invalid_argument), std::move(message)};
}

bool runningAt(const BeaconEvent& e, std::chrono::system_clock::time_point t) {
  return (!e.startsAt || *e.startsAt <= t) && (!e.endsAt || t < *e.endsAt);
}

void earliest(std::optional<std::chrono::system_clock::time_point>& until, std::chrono::system_clock::time_point t) {
  until = until ? std::min(*until, t) : t;
}

}  // namespace

Outcome<Plan> planAt(const BeaconSettings& settings, const std::optional<std::string>& eventId,
                     std::chrono::system_clock::time_point now) {
  Plan plan;
  const BeaconEvent* event = nullptr;
  if (eventId) {
    const auto it = std::find_if(settings.events.begin(), settings.events.end(),
                                 [&](const BeaconEvent& e) { return e.id == *eventId; });
    if (it == settings.events.end()) {
      return invalid("event " + *eventId + " is not among the participant's events (" +
                     std::to_string(settings.events.size()) + " in the beacon settings)");
    }
    event = &*it;
  } else {
    // The event running now, a private-id one first; the answer may change at any event's start or end.
    for (const auto& e : settings.events) {
      if (runningAt(e, now) && (event == nullptr || (e.privateIds && !event->privateIds))) {
        event = &e;
      }
      for (const auto& boundary : {e.startsAt, e.endsAt}) {
        if (boundary && *boundary > now) {
          earliest(plan.until, *boundary);
        }
      }
    }
  }
  if (event != nullptr) {
    plan.eventId = event->id;
  }
  if (event == nullptr || !event->privateIds) {
    plan.id = settings.bleUuid;
    return plan;
  }
  if (!settings.identityKey) {
    return invalid("event " + event->id + " uses private ids but the beacon settings carry no identity key");
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const auto window = beacon_id::windowAt(ms, settings.period);
  if (!window) {
    return invalid("a time before 1970");
  }
  plan.privateId = true;
  plan.id = beacon_id::bleUuidFor(*settings.identityKey, settings.ns, *window);
  if (const auto next = beacon_id::windowStartMs(*window + 1, settings.period)) {
    earliest(plan.until, std::chrono::system_clock::time_point{std::chrono::milliseconds{*next}});
  }
  return plan;
}

}  // namespace attendance::beacon
