#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <attendance/core/assignments.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/core/scanners.hpp>

#include <attendance/core/report.hpp>
#include <attendance/core/report_query.hpp>
#include <attendance/core/users.hpp>

#include "html.hpp"
#include "live_status.hpp"

// Server-side HTML for the admin pages. Pure functions from values to HTML;
// every user-supplied string goes through escape().
namespace attendance::admin_web::pages {

using TimePoint = std::chrono::system_clock::time_point;

enum class Nav { events, participants, scanners, none };

struct Frame {
  std::string_view title;
  Nav nav = Nav::none;
  std::string_view adminEmail;
  std::string_view csrf;
  std::string flashHtml;  // already built by flash()
};

[[nodiscard]] std::string layout(const Frame& frame, std::string_view contentHtml);
// `next`: where a successful sign-in goes (a checked path, or empty for /events).
[[nodiscard]] std::string login(std::string_view csrf, std::string_view email, std::string_view flashHtml,
                                std::string_view next = {});

using admin_web::flash;  // html.hpp, shared with the participant pages
using admin_web::FlashKind;
// The console's notices for `?notice=` after a redirect (admin_web::noticeFor).
[[nodiscard]] std::span<const Notice> notices();

// Messages for refused form fields, by field name ("ends": "The end must not be before the start.").
using FieldErrors = admin_web::FieldErrors;  // html.hpp

// An event form (create or edit) as it was sent, when it was refused: shown
// again holding what was typed, with each message next to its field.
struct EventForm {
  std::string name;
  std::string venue;
  std::string starts;  // the datetime-local values as typed
  std::string ends;
  std::string id;           // create only
  bool privateIds = false;  // the "Private rotating ids" checkbox (docs/beacon-spec.md)
  std::string capacity;     // empty = unlimited
  std::string closes;       // registration closes (datetime-local); empty = when the event is over
  FieldErrors errors;       // by field: name, venue, starts, ends, id, capacity, closes
};

[[nodiscard]] std::string events(const std::vector<core::EventSummary>& events, TimePoint now, std::string_view csrf,
                                 const EventForm* refused = nullptr);

// The door form (manual check-in / revoke) as it was sent, when it was refused.
struct DoorForm {
  std::string email;
  std::string reason;
  FieldErrors errors;  // by field: email, reason
};
// The register-by-email form as it was sent, when it was refused.
struct RegistrationForm {
  std::string email;
  FieldErrors errors;  // by field: email
};

struct EventView {
  core::Event event;
  core::UserPage registrations;
  core::RegistrationCounts counts;  // registered (the page's list) and waitlisted (not on the roster)
  TimePoint now;
  std::string search;
  std::int64_t page = 0;
  std::int64_t pageSize = 50;
  bool hasCheckIns = false;
  LiveStatus live;  // the report's state without JavaScript: not synced, or each scanner's last upload
  // The cached report (null: not read). Its totals, last sync per scanner and
  // the first page of the participant table (firstPage, selected with
  // firstPageQuery by core) are rendered here, so they show without
  // JavaScript; app.js takes that DOM over.
  const core::EventReport* report = nullptr;
  core::ReportQuery firstPageQuery;
  core::ReportSelection firstPage;
  const EventForm* refusedEdit = nullptr;                 // the edit form as typed, when it was refused
  const DoorForm* refusedDoor = nullptr;                  // the door form as typed, when it was refused
  const RegistrationForm* refusedRegistration = nullptr;  // the register form as typed, when it was refused
  bool unknownTab = false;  // ?tab=unknown-devices: that tab is open instead of the participants
};
// Rows of the audit trail listed on the event page, newest first (all of them
// are in the report's JSON).
inline constexpr std::size_t kAuditShown = 200;
// Unknown devices listed on the event page (all of them are in their CSV).
inline constexpr std::size_t kUnknownDevicesShown = 200;
[[nodiscard]] std::string event(const EventView& view, std::string_view csrf);

// The new-participant form as it was sent, when it was refused (as EventForm).
struct ParticipantForm {
  std::string name;
  std::string email;
  FieldErrors errors;  // by field: name, email
};

struct ParticipantsView {
  core::UserPage page;
  std::string search;
  std::int64_t pageNo = 0;
  std::int64_t pageSize = 50;
  const ParticipantForm* refused = nullptr;  // shown open, as typed
};
[[nodiscard]] std::string participants(const ParticipantsView& view, std::string_view csrf);

struct ScannersView {
  std::vector<core::ScannerInfo> scanners;
  std::vector<core::ScannerAssignment> assignments;  // by scanner, then event id
  std::vector<core::Event> events;                   // what the assign forms offer
};
[[nodiscard]] std::string scanners(const ScannersView& view, std::string_view csrf,
                                   const std::optional<core::CreatedScanner>& created);

[[nodiscard]] std::string errorContent(std::string_view title, std::string_view message);

// <time datetime="ISO">2026-11-24 09:00 UTC</time>; app.js shows it in local time.
[[nodiscard]] std::string timeTag(const std::optional<TimePoint>& t, std::string_view empty = "—");

}  // namespace attendance::admin_web::pages
