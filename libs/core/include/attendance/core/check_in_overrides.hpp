#pragma once

#include <attendance/core/database.hpp>
#include <attendance/core/report.hpp>
#include <attendance/support/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Manual check-ins and revocations by door staff, with their audit trail
// (migration 0010, docs/check-in-semantics.md "Manual check-in and revoke",
// docs/adr/0065-append-only-check-in-overrides.md). Rows are only ever added:
// a participant's state is the scanner's check-ins and their latest override.
namespace attendance::core {

inline constexpr std::size_t kMaxOverrideReasonChars = 500;

struct NewOverride {
  std::string eventId;
  std::string participantEmail;  // case-insensitive, as users are found everywhere
  OverrideAction action = OverrideAction::check_in;
  std::string adminEmail;  // who: the signed-in admin (web) or the operator's --by (CLI)
  std::string reason;      // why: required
};

// The reason's rule as a sentence for the form, or std::nullopt when it is
// acceptable: not blank, at most kMaxOverrideReasonChars characters, valid UTF-8
// without control characters other than tab.
[[nodiscard]] std::optional<std::string> validateOverrideReason(std::string_view reason);

// Appends one override at `now` (server time) after checking it changes the
// participant's state. Errc::invalid_argument (the reason), Errc::event_not_found,
// Errc::user_not_found (no participant with that email), Errc::conflict: a manual
// check-in of a participant who is already checked in (by a scanner or by hand)
// or a revocation of one who is not: nothing is written.
[[nodiscard]] Result<OverrideEntry> recordOverride(ConnectionPool& pool, const NewOverride& override, TimePoint now);

// The event's overrides, oldest first (the audit trail). Errc::event_not_found.
[[nodiscard]] Result<std::vector<OverrideEntry>> listOverrides(ConnectionPool& pool, std::string_view eventId);

}  // namespace attendance::core
