#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include <attendance/support/result.hpp>

// Times typed into the event form (docs/admin-web.md, "Dates and time zones").
namespace attendance::admin_web {

// One time field of the event form, in order of preference:
//  - `utc`: the instant app.js computed from the typed local date with that date's own UTC offset
//    (so a summer date typed in winter gets the summer offset), ISO 8601 with `Z` or `±HH:MM`;
//  - `local`: the `datetime-local` value ("2026-11-24T09:00"), shifted by `tzOffset` minutes
//    (UTC minus local, as JavaScript's getTimezoneOffset(); scripts may send it). Without either
//    (the form without JavaScript) `local` is UTC. A `local` value with its own zone is taken as is.
// Both empty: no time. Errc::invalid_argument for anything else.
[[nodiscard]] Result<std::optional<std::chrono::system_clock::time_point>> parseFormTime(std::string_view local,
                                                                                         std::string_view utc,
                                                                                         std::string_view tzOffset);

}  // namespace attendance::admin_web
