// Events and their registrations: pages, forms and /api/events.
#include "console.hpp"

#include <attendance/core/check_in_overrides.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/support/log.hpp>

#include <charconv>

#include "event_time.hpp"
#include "live_status.hpp"
#include "report_params.hpp"

namespace attendance::admin_web {

Response Console::getRoot(Call&) { return redirect("/events"); }

Response Console::getEvents(Call& call) {
  auto list = core::listEventSummaries(pool);
  if (!list) return failure(call, list.error());
  return page(call, http::status::ok, "Events", pages::Nav::events, noticeFor(pages::notices(), call.query("notice")),
              pages::events(*list, now(), call.session->csrfToken));
}

Response Console::apiEvents(Call& call) {
  auto list = core::listEventSummaries(pool);
  if (!list) return failure(call, list.error());
  return jsonOut(http::status::ok, core::renderEventsJson(*list));
}

pages::FieldErrors Console::checkEventForm(const Call& call, std::string_view name, std::string_view venue,
                                           std::optional<core::TimePoint>& starts, std::optional<core::TimePoint>& ends,
                                           core::RegistrationLimits& limits) {
  pages::FieldErrors errors;
  auto s = parseFormTime(call.field("starts"), call.field("startsUtc"), call.field("tzOffset"));
  auto e = parseFormTime(call.field("ends"), call.field("endsUtc"), call.field("tzOffset"));
  auto c = parseFormTime(call.field("closes"), call.field("closesUtc"), call.field("tzOffset"));
  if (!s) errors.emplace("starts", "Enter a date and time, or leave it empty.");
  if (!e) errors.emplace("ends", "Enter a date and time, or leave it empty.");
  if (!c) errors.emplace("closes", "Enter a date and time, or leave it empty (open until the event is over).");
  if (s && e && *s && *e && **e < **s) errors.emplace("ends", "The end must not be before the start.");
  if (c && e && *c && *e && **c > **e) errors.emplace("closes", "Registration must close before the event ends.");
  const std::string capacity = call.field("capacity");
  if (!capacity.empty()) {
    std::int32_t n = 0;
    const auto [ptr, ec] = std::from_chars(capacity.data(), capacity.data() + capacity.size(), n);
    if (ec != std::errc{} || ptr != capacity.data() + capacity.size() || n < 1 || n > 1'000'000) {
      errors.emplace("capacity", "Enter a whole number of seats from 1 to 1000000, or leave it empty (unlimited).");
    } else {
      limits.capacity = n;
    }
  }
  if (c) limits.closesAt = *c;
  if (name.empty() || name.size() > 200) errors.emplace("name", "The name must be 1 to 200 characters.");
  if (venue.size() > 200) errors.emplace("venue", "The venue must be at most 200 characters.");
  if (errors.empty()) {
    starts = *s;
    ends = *e;
  }
  return errors;
}

Response Console::refusedEventForm(Call& call, const pages::EventForm& typed) {
  auto list = core::listEventSummaries(pool);
  if (!list) return failure(call, list.error());
  return page(call, http::status::bad_request, "Events", pages::Nav::events,
              pages::flash(pages::FlashKind::error, "The event was not created. Check the fields marked below."),
              pages::events(*list, now(), call.session->csrfToken, &typed));
}

Response Console::postEvents(Call& call) {
  pages::EventForm typed;
  typed.name = call.field("name");
  typed.venue = call.field("venue");
  typed.starts = call.field("starts");
  typed.ends = call.field("ends");
  typed.id = call.field("id");
  typed.privateIds = call.field("privateIds") == "1";
  typed.capacity = call.field("capacity");
  typed.closes = call.field("closes");
  core::NewEvent ev;
  ev.name = typed.name;
  ev.venue = typed.venue;
  ev.privateIds = typed.privateIds;
  if (!typed.id.empty()) ev.id = typed.id;
  typed.errors = checkEventForm(call, ev.name, ev.venue, ev.startsAt, ev.endsAt, ev.registration);
  if (ev.id && !core::isValidEventId(*ev.id)) {
    typed.errors.emplace("id", "Use 1 to 128 letters, digits, '.', '_', ':' or '-'.");
  }
  if (typed.errors.empty()) {
    auto created = core::createEvent(pool, ev, now());
    if (created) return redirect("/events/" + urlEncode(created->id) + "?notice=event-created");
    if (created.error() != core::Errc::conflict) return failure(call, created.error());
    typed.errors.emplace("id", "An event with this id exists. Choose another id, or leave it empty.");
  }
  return refusedEventForm(call, typed);
}

Response Console::getEvent(Call& call) { return eventPage(call, http::status::ok, {}); }

Response Console::eventPage(Call& call, http::status status, RefusedEventForms refused) {
  const std::string& id = call.param("id");
  auto ev = core::getEvent(pool, id);
  if (!ev) return failure(call, ev.error());
  pages::EventView view;
  view.event = std::move(*ev);
  view.search = call.search();
  view.page = pageParam(call.rc.request.target());
  view.pageSize = kPageSize;
  auto regs = core::listRegistrations(pool, id, view.search, view.page * kPageSize, kPageSize);
  if (!regs) return failure(call, regs.error());
  view.registrations = std::move(*regs);
  auto counts = core::registrationCounts(pool, id);
  if (!counts) return failure(call, counts.error());
  view.counts = *counts;
  view.now = now();
  auto any = core::eventHasCheckIns(pool, id);
  if (!any) return failure(call, any.error());
  view.hasCheckIns = *any;
  // The cached report the page's script asks for next anyway, so this costs one
  // version query more than the shell alone. Its totals and first page are in
  // the HTML (the selection and its sort order are the cache's, as for the API).
  auto cached = cachedReport(id);
  if (!cached) return failure(call, cached.error());
  view.live = liveStatus((*cached)->report(), now());
  view.report = &(*cached)->report();
  view.firstPageQuery = eventPageFirstQuery();
  view.firstPage = (*cached)->select(view.firstPageQuery);
  view.refusedEdit = refused.edit;
  view.refusedDoor = refused.door;
  view.refusedRegistration = refused.registration;
  view.unknownTab = call.query("tab") == "unknown-devices";
  std::string flashHtml =
      refused.edit != nullptr
          ? pages::flash(pages::FlashKind::error, "The event was not saved. Check the fields marked below.")
      : refused.door != nullptr
          ? pages::flash(pages::FlashKind::error, "Nothing was recorded. Check the fields marked below.")
      : refused.registration != nullptr
          ? pages::flash(pages::FlashKind::error, "The participant was not registered. Check the field marked below.")
          : noticeFor(pages::notices(), call.query("notice"));
  return page(call, status, view.event.name, pages::Nav::events, std::move(flashHtml),
              pages::event(view, call.session->csrfToken));
}

Response Console::postEvent(Call& call) {
  const std::string& id = call.param("id");
  pages::EventForm typed;
  typed.name = call.field("name");
  typed.venue = call.field("venue");
  typed.starts = call.field("starts");
  typed.ends = call.field("ends");
  typed.privateIds = call.field("privateIds") == "1";
  typed.capacity = call.field("capacity");
  typed.closes = call.field("closes");
  core::EventEdit edit;
  edit.name = typed.name;
  edit.venue = typed.venue;
  edit.privateIds = typed.privateIds;  // the form always shows the box: absent = unticked
  core::RegistrationLimits limits;     // the form always shows both fields: empty = none
  typed.errors = checkEventForm(call, edit.name, edit.venue, edit.startsAt, edit.endsAt, limits);
  edit.registration = limits;
  // The event page again (400), its edit form holding what was typed (the create form's mechanism).
  if (!typed.errors.empty()) return eventPage(call, http::status::bad_request, {.edit = &typed});
  auto r = core::updateEvent(pool, id, edit);
  if (!r) return failure(call, r.error());
  return redirect("/events/" + urlEncode(id) + "?notice=event-updated");
}

Response Console::postEventDelete(Call& call) {
  const std::string& id = call.param("id");
  auto r = core::deleteEvent(pool, id, call.field("force") == "1");
  if (!r && r.error() == core::Errc::conflict) {
    return page(call, http::status::conflict, "Not deleted", pages::Nav::events,
                pages::flash(pages::FlashKind::error,
                             "This event has check-ins. Tick \"Also delete the check-ins\" to delete it anyway."),
                "<p><a class=\"btn\" href=\"/events/" + escape(urlEncode(id)) + "\">Back to the event</a></p>");
  }
  if (!r) return failure(call, r.error());
  support::log::info("admin_web.event_deleted", {{"event", id}, {"admin", call.session->adminId}});
  return redirect("/events?notice=event-deleted");
}

Response Console::postRegistration(Call& call) {
  const std::string& id = call.param("id");
  const std::string back = "/events/" + urlEncode(id);
  // A refused email is shown again in its field with the message under it (404
  // for nobody with that email), as the other forms do.
  pages::RegistrationForm typed;
  typed.email = call.field("email");
  if (typed.email.empty() || typed.email.size() > 254) {
    typed.errors.emplace("email", "Enter the participant's email (at most 254 characters).");
    return eventPage(call, http::status::bad_request, {.registration = &typed});
  }
  auto user = core::userIdByEmail(pool, typed.email);
  if (!user && user.error() == core::Errc::user_not_found) {
    typed.errors.emplace("email",
                         "No participant has this email. Create the participant on the Participants page "
                         "first.");
    return eventPage(call, http::status::not_found, {.registration = &typed});
  }
  if (!user) return failure(call, user.error());
  auto r = core::registerForEvent(pool, id, *user, now());
  if (!r) return failure(call, r.error());
  return redirect(back +
                  (*r == core::RegistrationOutcome::created ? "?notice=registered" : "?notice=already-registered"));
}

Response Console::postDoor(Call& call) {
  const std::string& id = call.param("id");
  pages::DoorForm typed;
  typed.email = call.field("email");
  typed.reason = call.field("reason");
  const std::string action = call.field("action");
  if (action != "check_in" && action != "revoke") {
    return page(call, http::status::bad_request, "Not recorded", pages::Nav::events,
                pages::flash(pages::FlashKind::error, "Choose Check in or Revoke check-in."),
                "<p><a class=\"btn\" href=\"/events/" + escape(urlEncode(id)) + "#door\">Back to the event</a></p>");
  }
  const auto kind = action == "revoke" ? core::OverrideAction::revoke : core::OverrideAction::check_in;
  if (typed.email.empty() || typed.email.size() > 254) {
    typed.errors.emplace("email", "Enter the participant's email (at most 254 characters).");
  }
  if (auto why = core::validateOverrideReason(typed.reason)) typed.errors.emplace("reason", std::move(*why));
  if (!typed.errors.empty()) return eventPage(call, http::status::bad_request, {.door = &typed});
  auto r = core::recordOverride(pool, {id, typed.email, kind, call.session->email, typed.reason}, now());
  if (!r && r.error() == core::Errc::user_not_found) {
    typed.errors.emplace("email", "No participant has this email.");
    return eventPage(call, http::status::not_found, {.door = &typed});
  }
  if (!r && r.error() == core::Errc::conflict) {
    typed.errors.emplace("email", kind == core::OverrideAction::check_in
                                      ? "This participant is already checked in."
                                      : "This participant is not checked in, so there is nothing to revoke.");
    return eventPage(call, http::status::conflict, {.door = &typed});
  }
  if (!r) return failure(call, r.error());
  support::log::info("admin_web.check_in_override", {{"event", id},
                                                     {"action", std::string{core::toString(kind)}},
                                                     {"user", r->userId},
                                                     {"admin", call.session->adminId}});
  return redirect(
      "/events/" + urlEncode(id) +
      (kind == core::OverrideAction::revoke ? "?notice=door-revoked#door" : "?notice=door-checked-in#door"));
}

Response Console::postUnregister(Call& call) {
  const std::string& id = call.param("id");
  auto r = core::unregisterFromEvent(pool, id, call.param("userId"));
  if (!r) return failure(call, r.error());
  return redirect("/events/" + urlEncode(id) + "?notice=unregistered");
}

}  // namespace attendance::admin_web
