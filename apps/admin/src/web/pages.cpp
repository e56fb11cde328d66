#include "pages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <attendance/core/check_in_overrides.hpp>
#include <attendance/core/report.hpp>

#include "assets.hpp"
#include "html.hpp"

namespace attendance::admin_web::pages {

namespace {

std::string_view tpl(std::string_view name) {
  // Templates are embedded; a missing one fails every test that renders it.
  const assets::Asset* a = assets::find(name);
  if (a == nullptr) throw std::logic_error("missing template " + std::string(name));
  return a->body;
}

std::string h(std::string_view s) { return escape(s); }

std::string csrfField(std::string_view csrf) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + h(csrf) + "\">";
}

// datetime-local value in UTC; app.js rewrites it to local time, and on submit
// sends the instant each typed local time means (startsUtc/endsUtc) computed
// with that date's own UTC offset. Without JavaScript the fields are UTC.
std::string dateInputValue(const std::optional<TimePoint>& t) {
  if (!t) return {};
  return core::formatIsoUtc(*t).substr(0, 16);
}

std::string pager(std::string_view base, std::string_view search, std::int64_t page, std::int64_t pageSize,
                  std::int64_t total) {
  const std::int64_t pages = std::max<std::int64_t>(1, (total + pageSize - 1) / pageSize);
  const std::int64_t first = total == 0 ? 0 : page * pageSize + 1;
  const std::int64_t last = std::min(total, (page + 1) * pageSize);
  std::string q = search.empty() ? std::string{} : "&q=" + urlEncode(search);
  std::string out =
      fmt::format("<div class=\"pager\"><span>{}–{} of {}</span><span class=\"row\">", first, last, total);
  if (page > 0) {
    out += fmt::format("<a class=\"btn btn-sm\" href=\"{}?page={}{}\">← Previous</a>", h(base), page - 1, h(q));
  }
  if (page + 1 < pages) {
    out += fmt::format("<a class=\"btn btn-sm\" href=\"{}?page={}{}\">Next →</a>", h(base), page + 1, h(q));
  }
  out += "</span></div>";
  return out;
}

std::string navLink(std::string_view href, std::string_view label, bool current) {
  return fmt::format("<a href=\"{}\"{}>{}</a>", href, current ? " aria-current=\"page\"" : "", label);
}

// 12345 -> "12,345", as app.js's Intl.NumberFormat shows it in English.
std::string count(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// One decimal, without a trailing ".0": 0.5 -> "50%", 2/3 -> "66.7%" (as app.js).
std::string percent(double rate) {
  const double tenths = std::round(rate * 1000.0);
  if (std::fmod(tenths, 10.0) == 0.0) return fmt::format("{}%", static_cast<std::int64_t>(tenths / 10.0));
  return fmt::format("{:.1f}%", tenths / 10.0);
}

// A report time to the second, in UTC; app.js shows the browser's local time.
std::string reportTime(const std::optional<TimePoint>& t) {
  if (!t) return "<td class=\"muted\">—</td>";
  const std::string iso = core::formatIsoUtc(*t);
  return fmt::format("<td class=\"nowrap\"><time datetime=\"{}\">{} {} UTC</time></td>", iso, iso.substr(0, 10),
                     iso.substr(11, 8));
}

std::string stat(std::string_view label, const std::string& value, bool accent = false) {
  return fmt::format("<div class=\"stat\"><div class=\"stat-label\">{}</div><div class=\"stat-value{}\">{}</div></div>",
                     label, accent ? " accent" : "", value);
}

// Under the last-sync table (app.js keeps it: it only replaces the rows).
constexpr std::string_view kScannerNote =
    "<p class=\"card-note muted small\" id=\"scanner-note\">Distinct: the check-ins stored from this scanner, each "
    "once. Resent: records it had sent before (a retry, a restarted upload), stored once already. Refused: records "
    "refused as invalid (a clock that was not set, a time outside the event), never stored.</p>";

// The ids the scanners saw that no participant has (now or before a new
// bleUuid), apart from the participants: by first seen, the first
// kUnknownDevicesShown of them, all of them in their own CSV.
std::string unknownDevices(const core::EventReport& r, const std::string& id, bool open) {
  std::string out = fmt::format(
      "<section class=\"card flush\" aria-labelledby=\"unknown-h\" id=\"unknown-devices\"{}><div "
      "class=\"card-head\"><h2 id=\"unknown-h\">Unknown devices</h2><a class=\"btn btn-sm\" "
      "id=\"unknown-csv\" href=\"/events/{}/unknown-devices.csv\" download>Download CSV</a></div>"
      "<p class=\"card-note muted small\">Ids the scanners saw that belong to no participant, not even as an "
      "earlier bleUuid: a phone of someone who has not signed up, or another app's beacon. They are counted apart "
      "and are not in the participants' table.</p>",
      open ? "" : " hidden", id);
  if (r.unknown.empty()) {
    out += "<div class=\"empty\" id=\"no-unknown\">No unknown devices were seen.</div></section>";
    return out;
  }
  out +=
      "<div class=\"table-wrap\"><table id=\"unknown-table\"><thead><tr><th scope=\"col\">Device id "
      "(bleUuid)</th><th scope=\"col\">First seen</th><th scope=\"col\">Last seen</th><th "
      "scope=\"col\">Scanners</th><th scope=\"col\" class=\"num\">Sightings</th></tr></thead><tbody>";
  const std::size_t shown = std::min(r.unknown.size(), kUnknownDevicesShown);
  for (std::size_t i = 0; i < shown; ++i) {
    const core::UnknownDeviceRow& u = r.unknown[i];
    std::string scanners;
    for (const std::string& s : u.seen.scanners) scanners += (scanners.empty() ? "" : ", ") + s;
    out +=
        fmt::format("<tr><td><code>{}</code></td>{}{}<td>{}</td><td class=\"num\">{}</td></tr>", u.bleUuid.toString(),
                    reportTime(u.seen.firstSeen), reportTime(u.seen.lastSeen), h(scanners), count(u.seen.count));
  }
  out += fmt::format(
      "</tbody></table></div><div class=\"pager\"><span id=\"unknown-info\">1–{} of {}</span>{}</div></section>",
      count(static_cast<std::int64_t>(shown)), count(static_cast<std::int64_t>(r.unknown.size())),
      shown < r.unknown.size() ? " <span class=\"muted small\">The rest are in the CSV.</span>" : "");
  return out;
}

// A row door staff decided (source "manual"): a second badge after the status,
// as app.js draws it ("manual" for a check-in by hand, "revoked").
std::string manualBadge(const core::ParticipantRow& p) {
  if (!p.manual) return {};
  const bool revoked = p.manual->action == core::OverrideAction::revoke;
  return fmt::format(" <span class=\"badge badge-warn\" data-source=\"manual\" title=\"{} by {} at {} UTC\">{}</span>",
                     revoked ? "Revoked" : "Checked in by hand", h(p.manual->by),
                     core::formatIsoUtc(p.manual->at).substr(0, 16), revoked ? "revoked" : "manual");
}

// The synced report as app.js renders it (its totals, last sync per scanner and
// the participant table's first page), so it is all there without JavaScript;
// app.js then takes these elements over and adds the chart and the controls.
std::string syncedReport(const EventView& v, const std::string& id) {
  const core::EventReport& r = *v.report;
  std::string out = "<div class=\"stats\" id=\"totals\">";
  out += stat("Registered", count(r.registered)) + stat("Attended", count(r.attended), true) +
         stat("No-shows", count(r.noShows)) + stat("Walk-ins", count(r.walkIns)) +
         stat("Unknown devices", count(r.unknownDevices)) + stat("Attendance rate", percent(r.attendanceRate));
  out += "</div>";
  out +=
      "<section class=\"card flush\" aria-labelledby=\"scanners-h\"><div class=\"card-head\"><h2 "
      "id=\"scanners-h\">Last sync per scanner</h2></div><div class=\"table-wrap\"><table id=\"scanner-table\">"
      "<thead><tr><th>Scanner</th><th>Last sync</th><th class=\"num\">Records received</th><th "
      "class=\"num\">Distinct</th><th class=\"num\">Resent</th><th class=\"num\">Refused</th></tr></thead><tbody>";
  for (const core::ScannerRow& s : r.scanners) {
    // Each receipt counted its duplicates and refusals when it was stored
    // (core's recordsResent, recordsRefused); stored rows are distinct by key.
    out += fmt::format(
        "<tr><td><code>{}</code></td>{}<td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        h(s.scannerId), s.lastSyncAt ? reportTime(s.lastSyncAt) : std::string("<td>never</td>"),
        count(s.recordsReceived), count(s.recordsStored), count(s.recordsResent), count(s.recordsRefused));
  }
  out += "</tbody></table></div>" + std::string(kScannerNote) + "</section>";

  // Two tabs: the participants, and the ids no participant has. Plain links
  // (?tab=unknown-devices), so they work without JavaScript; app.js switches
  // them in place.
  out += fmt::format(
      "<nav class=\"tabs\" id=\"report-tabs\" aria-label=\"Report tables\">"
      "<a href=\"/events/{0}#participants\" data-tab=\"participants\"{1}>Participants <span "
      "class=\"badge\">{2}</span></a>"
      "<a href=\"/events/{0}?tab=unknown-devices#unknown-devices\" data-tab=\"unknown-devices\"{3}>Unknown devices "
      "<span class=\"badge\" id=\"unknown-count\">{4}</span></a></nav>",
      id, v.unknownTab ? "" : " aria-current=\"true\"", count(static_cast<std::int64_t>(r.participants.size())),
      v.unknownTab ? " aria-current=\"true\"" : "", count(r.unknownDevices));

  const core::ReportQuery& q = v.firstPageQuery;
  out += fmt::format(
      "<section class=\"card flush\" aria-labelledby=\"people-h\" id=\"participants\"{}><div "
      "class=\"card-head\"><h2 id=\"people-h\">Participants</h2></div><div class=\"table-wrap\">",
      v.unknownTab ? " hidden" : "");
  if (v.firstPage.rows.empty()) {
    out += "<div class=\"empty\" id=\"no-match\">No participants match.</div>";
  } else {
    out += fmt::format("<table id=\"participant-table\" data-total=\"{}\" data-offset=\"{}\"><thead><tr>",
                       v.firstPage.total, q.offset);
    static constexpr std::pair<core::ReportSort, std::string_view> kColumns[] = {
        {core::ReportSort::name, "Name"},           {core::ReportSort::email, "Email"},
        {core::ReportSort::status, "Status"},       {core::ReportSort::first_seen, "First seen"},
        {core::ReportSort::last_seen, "Last seen"}, {core::ReportSort::scanners, "Scanners"}};
    for (const auto& [sort, label] : kColumns) {
      out += fmt::format(
          "<th scope=\"col\"{}>{}</th>",
          sort == q.sort ? (q.descending ? " aria-sort=\"descending\"" : " aria-sort=\"ascending\"") : "", label);
    }
    out += "</tr></thead><tbody>";
    for (const std::uint32_t i : v.firstPage.rows) {
      const core::ParticipantRow& p = r.participants.at(i);
      const std::string_view status = core::toString(p.status);
      const char* badge = p.status == core::ParticipantStatus::attended  ? "badge badge-ok"
                          : p.status == core::ParticipantStatus::walk_in ? "badge badge-accent"
                                                                         : "badge";
      std::string scanners;
      for (const std::string& s : p.seen.scanners) scanners += (scanners.empty() ? "" : ", ") + s;
      out += fmt::format("<tr><td>{}</td><td>{}</td><td><span class=\"{}\">{}</span>{}</td>{}{}<td>{}</td></tr>",
                         h(p.displayName), h(p.email), badge, status, manualBadge(p), reportTime(p.seen.firstSeen),
                         reportTime(p.seen.lastSeen), h(scanners));
    }
    out += "</tbody></table>";
  }
  const std::size_t shown = v.firstPage.rows.size();
  out += fmt::format(
      "</div><div class=\"pager\"><span id=\"page-info\">{}–{} of {}</span><span class=\"row\">{}</span></div>"
      "</section>",
      count(shown == 0 ? 0 : static_cast<std::int64_t>(q.offset) + 1),
      count(static_cast<std::int64_t>(q.offset + shown)), count(static_cast<std::int64_t>(v.firstPage.total)),
      shown < v.firstPage.total
          ? fmt::format("<a class=\"btn btn-sm\" href=\"/events/{}/report.csv\" download>Every row (CSV)</a>", id)
          : std::string{});
  out += unknownDevices(r, id, v.unknownTab);
  return out;
}

}  // namespace

std::string timeTag(const std::optional<TimePoint>& t, std::string_view empty) {
  if (!t) return "<span class=\"muted\">" + h(empty) + "</span>";
  const std::string iso = core::formatIsoUtc(*t);
  return fmt::format("<time datetime=\"{}\" data-local>{} {} UTC</time>", iso, iso.substr(0, 10), iso.substr(11, 5));
}

std::span<const Notice> notices() {
  static constexpr Notice kNotices[] = {
      {"event-created", FlashKind::ok, "Event created."},
      {"event-updated", FlashKind::ok, "Event updated."},
      {"event-deleted", FlashKind::ok, "Event deleted."},
      {"registered", FlashKind::ok, "Participant registered."},
      {"already-registered", FlashKind::warn, "That participant is already registered."},
      {"unregistered", FlashKind::ok, "Registration removed."},
      {"no-such-user", FlashKind::error, "No participant has that email. Create the participant first."},
      {"door-checked-in", FlashKind::ok, "Checked in by hand. It is in the audit trail below."},
      {"door-revoked", FlashKind::ok, "Check-in revoked. It is in the audit trail below."},
      {"participant-created", FlashKind::ok, "Participant created."},
      {"participant-disabled", FlashKind::ok, "Participant disabled: they can no longer sign in."},
      {"participant-enabled", FlashKind::ok, "Participant enabled."},
      {"ble-regenerated", FlashKind::ok, "New bleUuid generated. Earlier check-ins still count for this participant."},
      {"scanner-revoked", FlashKind::ok, "Scanner revoked: its API key no longer works."},
      {"scanner-assigned", FlashKind::ok, "Scanner assigned: it may now sync into that event."},
      {"already-assigned", FlashKind::ok, "The scanner was already assigned to that event."},
      {"scanner-unassigned", FlashKind::ok, "Assignment removed: the scanner's next sync into that event is refused."},
  };
  return kNotices;
}

std::string layout(const Frame& f, std::string_view content) {
  std::string nav = navLink("/events", "Events", f.nav == Nav::events) +
                    navLink("/participants", "Participants", f.nav == Nav::participants) +
                    navLink("/scanners", "Scanners", f.nav == Nav::scanners);
  return renderTemplate(tpl("layout.html"), {{"title", f.title},
                                             {"assetVersion", assets::version()},
                                             {"nav", nav},
                                             {"adminEmail", f.adminEmail},
                                             {"csrf", f.csrf},
                                             {"flash", f.flashHtml},
                                             {"content", content}});
}

std::string login(std::string_view csrf, std::string_view email, std::string_view flashHtml, std::string_view next) {
  const std::string nextField =
      next.empty() ? std::string{} : "<input type=\"hidden\" name=\"next\" value=\"" + h(next) + "\">";
  return renderTemplate(tpl("login.html"), {{"assetVersion", assets::version()},
                                            {"csrf", csrf},
                                            {"email", email},
                                            {"flash", flashHtml},
                                            {"nextField", nextField}});
}

namespace {

// The private-ids checkbox of the create and edit forms (issue 11 §2).
std::string privateIdsField(std::string_view inputId, bool checked) {
  return fmt::format(
      "<div class=\"field\"><label class=\"check\"><input type=\"checkbox\" id=\"{}\" name=\"privateIds\" "
      "value=\"1\"{}> Private rotating ids</label><p class=\"hint\">Participants' phones broadcast an id that "
      "changes every 15 minutes; the backend tells whose it is, and a replayed id is refused.</p></div>",
      inputId, checked ? " checked" : "");
}

// Capacity and registration closing time, in the create and edit forms (issue 12).
std::string registrationFields(std::string_view prefix, std::string_view capacity, std::string_view closes,
                               const std::string& closesAttrs, const FieldErrors* errors) {
  return formField(fmt::format("{}-capacity", prefix), "capacity",
                   "Capacity <span class=\"hint\">seats; empty = unlimited. When full, participants join a "
                   "waitlist</span>",
                   "type=\"number\" min=\"1\" max=\"1000000\" step=\"1\" inputmode=\"numeric\"", capacity, errors) +
         formField(fmt::format("{}-closes", prefix), "closes",
                   "Registration closes <span class=\"hint\" data-tz-name>UTC</span> <span class=\"hint\">empty = "
                   "when the event is over</span>",
                   closesAttrs, closes, errors);
}

}  // namespace

std::string events(const std::vector<core::EventSummary>& list, TimePoint now, std::string_view csrf,
                   const EventForm* refused) {
  std::string upcoming;
  std::string past;
  for (const auto& e : list) {
    const bool isPast = e.endsAt ? *e.endsAt < now : (e.startsAt && *e.startsAt + std::chrono::hours{24} < now);
    std::string status =
        e.synced ? "<span class=\"badge badge-ok\">Synced</span>" : "<span class=\"badge\">Not synced</span>";
    std::string row = fmt::format(
        "<tr><td><a href=\"/events/{}\"><strong>{}</strong></a><div class=\"muted small\">{}</div></td>"
        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
        h(urlEncode(e.id)), h(e.name), h(e.venue.empty() ? std::string_view{"No venue"} : std::string_view{e.venue}),
        timeTag(e.startsAt, "No date"), e.registered, e.synced ? std::to_string(e.attended) : "—", status);
    (isPast ? past : upcoming) += row;
  }
  auto table = [](std::string_view id, std::string_view title, const std::string& rows, std::string_view empty) {
    std::string out = fmt::format(
        "<section class=\"card flush\" aria-labelledby=\"{0}-h\"><div class=\"card-head\"><h2 "
        "id=\"{0}-h\">{1}</h2></div>",
        id, title);
    if (rows.empty()) {
      out += fmt::format("<div class=\"empty\">{}</div>", empty);
    } else {
      out += fmt::format(
          "<div class=\"table-wrap\"><table id=\"{}-table\"><thead><tr><th scope=\"col\">Event</th><th "
          "scope=\"col\">Starts</th>"
          "<th scope=\"col\" class=\"num\">Registered</th><th scope=\"col\" class=\"num\">Attended</th>"
          "<th scope=\"col\">Attendance data</th></tr></thead><tbody>{}</tbody></table></div>",
          id, rows);
    }
    out += "</section>";
    return out;
  };
  std::string out =
      "<div class=\"page-head\"><div><h1>Events</h1><p class=\"muted\">Create events, register participants and read "
      "the attendance report after the scanners sync.</p></div></div>";
  const EventForm none;
  const EventForm& typed = refused != nullptr ? *refused : none;
  const FieldErrors* errors = refused != nullptr ? &refused->errors : nullptr;
  out += fmt::format(
      "<details class=\"card drawer\" id=\"new-event\"{}><summary class=\"btn btn-primary\">+ New event</summary>",
      refused != nullptr ? " open" : "");
  out += "<form method=\"post\" action=\"/events\">" + csrfField(csrf) +
         "<input type=\"hidden\" name=\"startsUtc\" data-utc-for=\"ev-starts\">"
         "<input type=\"hidden\" name=\"endsUtc\" data-utc-for=\"ev-ends\">"
         "<input type=\"hidden\" name=\"closesUtc\" data-utc-for=\"ev-closes\">"
         "<div class=\"form-grid\">";
  out += formField("ev-name", "name", "Name", "type=\"text\" required maxlength=\"200\"", typed.name, errors);
  out += formField("ev-venue", "venue", "Venue", "type=\"text\" maxlength=\"200\"", typed.venue, errors);
  out += formField("ev-starts", "starts", "Starts <span class=\"hint\" data-tz-name>UTC</span>",
                   "type=\"datetime-local\"", typed.starts, errors);
  out += formField("ev-ends", "ends", "Ends <span class=\"hint\" data-tz-name>UTC</span>", "type=\"datetime-local\"",
                   typed.ends, errors);
  out += formField("ev-id", "id", "Event id <span class=\"hint\">optional; letters, digits, . _ : -</span>",
                   "type=\"text\" maxlength=\"128\" pattern=\"[A-Za-z0-9._:\\-]{1,128}\"", typed.id, errors);
  out += registrationFields("ev", typed.capacity, typed.closes, "type=\"datetime-local\"", errors);
  out += "</div>" + privateIdsField("ev-private-ids", typed.privateIds);
  out += "<button class=\"btn btn-primary\" type=\"submit\">Create event</button></form></details>";
  out += table("upcoming", "Upcoming and current", upcoming, "No upcoming events. Create one to get started.");
  out += table("past", "Past", past, "No past events yet.");
  return out;
}

namespace {

// The door: check a participant in by hand or revoke a check-in, with a reason
// (a plain form, so it works without JavaScript; a refused one keeps what was
// typed with the message by its field), then the audit trail: who, when, why.
std::string door(const EventView& v, const std::string& id, std::string_view csrf) {
  const DoorForm* typed = v.refusedDoor;
  const FieldErrors* errors = typed != nullptr ? &typed->errors : nullptr;
  std::string out = fmt::format(
      "<section class=\"card\" aria-labelledby=\"door-h\" id=\"door\"><h2 id=\"door-h\">At the door</h2>"
      "<p class=\"muted small\">Check in someone the scanners missed, or revoke a check-in. Both need a reason and "
      "are kept in the audit trail below with your name; the report shows these rows as manual.</p>{}"
      "<form method=\"post\" action=\"/events/{}/door\">{}<div class=\"form-grid\">",
      typed != nullptr ? "<p class=\"alert alert-error\" role=\"alert\">Nothing was recorded. Check the fields marked "
                         "below.</p>"
                       : "",
      id, csrfField(csrf));
  out += formField("door-email", "email", "Participant email",
                   "type=\"email\" required maxlength=\"254\" placeholder=\"participant@example.org\"",
                   typed != nullptr ? typed->email : std::string{}, errors);
  out +=
      formField("door-reason", "reason", "Reason <span class=\"hint\">kept in the audit trail</span>",
                fmt::format("type=\"text\" required maxlength=\"{}\" placeholder=\"e.g. their phone is switched off\"",
                            core::kMaxOverrideReasonChars),
                typed != nullptr ? typed->reason : std::string{}, errors);
  out +=
      "</div><div class=\"row\"><button class=\"btn btn-primary\" type=\"submit\" name=\"action\" "
      "value=\"check_in\">Check in</button><button class=\"btn btn-danger\" type=\"submit\" name=\"action\" "
      "value=\"revoke\">Revoke check-in</button></div></form></section>";

  static const std::vector<core::OverrideEntry> kNone;
  const std::vector<core::OverrideEntry>& audit = v.report != nullptr ? v.report->audit : kNone;
  out += fmt::format(
      "<section class=\"card flush\" aria-labelledby=\"audit-h\" id=\"audit\"><div class=\"card-head\"><h2 "
      "id=\"audit-h\">Manual check-ins and revocations <span class=\"badge\" id=\"audit-count\">{}</span></h2></div>",
      count(static_cast<std::int64_t>(audit.size())));
  if (audit.empty()) {
    out += "<div class=\"empty\" id=\"no-audit\">Nobody has been checked in or revoked by hand.</div></section>";
    return out;
  }
  out +=
      "<div class=\"table-wrap\"><table id=\"audit-table\"><thead><tr><th scope=\"col\">When</th><th "
      "scope=\"col\">Participant</th><th scope=\"col\">Action</th><th scope=\"col\">By</th><th "
      "scope=\"col\">Reason</th></tr></thead><tbody>";
  const std::size_t shown = std::min(audit.size(), kAuditShown);
  for (std::size_t k = 0; k < shown; ++k) {
    const core::OverrideEntry& o = audit[audit.size() - 1 - k];  // newest first
    const bool revoke = o.action == core::OverrideAction::revoke;
    out += fmt::format(
        "<tr>{}<td>{} <span class=\"muted small\">{}</span></td><td><span class=\"badge {}\">{}</span></td><td>{}</td>"
        "<td>{}</td></tr>",
        reportTime(o.at), h(o.displayName), h(o.email), revoke ? "badge-danger" : "badge-warn",
        revoke ? "revoked" : "checked in", h(o.adminEmail), h(o.reason));
  }
  out += "</tbody></table></div>";
  if (shown < audit.size()) {
    out += fmt::format(
        "<div class=\"pager\"><span class=\"muted small\">The latest {} of {}; all of them are in the "
        "report's JSON.</span></div>",
        count(static_cast<std::int64_t>(shown)), count(static_cast<std::int64_t>(audit.size())));
  }
  out += "</section>";
  return out;
}

}  // namespace

std::string event(const EventView& v, std::string_view csrf) {
  const core::Event& e = v.event;
  const std::string id = h(urlEncode(e.id));
  std::string out = fmt::format(
      "<div class=\"page-head\"><div><div class=\"crumbs\"><a href=\"/events\">Events</a> / <code>{}</code></div>"
      "<h1 id=\"event-name\">{}</h1><p class=\"muted\">{} · {} → {}{}</p></div></div>",
      h(e.id), h(e.name), h(e.venue.empty() ? std::string_view{"No venue"} : std::string_view{e.venue}),
      timeTag(e.startsAt, "no start"), timeTag(e.endsAt, "no end"),
      e.privateIds ? " · <span class=\"badge\" id=\"event-private-ids\">Private ids</span>" : "");
  // Who has a seat and who waits: only the registered are on the scanners' roster and in the report.
  out += fmt::format(
      "<p class=\"muted\" id=\"registration-counts\"><span id=\"count-registered\">{} registered{}</span> · "
      "<span id=\"count-waitlisted\">{} on the waitlist</span> · Registration {}</p>",
      v.counts.registered, e.capacity ? fmt::format(" of {} seats", *e.capacity) : std::string{}, v.counts.waitlisted,
      core::registrationDeadline(e)
          ? (core::registrationOpen(e, v.now) ? "closes " : "closed ") + timeTag(core::registrationDeadline(e), "")
          : std::string{"open (no closing time)"});

  // The report: the state (not synced, or each scanner's last upload), the
  // totals and the table's first page are rendered here, so they are there
  // without JavaScript; app.js takes them over, keeps them current from
  // /api/events/{id}/report and /live, and adds the chart and the controls.
  out += fmt::format(
      "<section class=\"stack\" id=\"report\" data-report-url=\"/api/events/{0}/report\" "
      "data-live-url=\"/api/events/{0}/live\" data-live=\"{1}\" data-sort=\"{2}\" data-dir=\"{3}\" "
      "aria-labelledby=\"report-h\">"
      "<div class=\"card-head\"><h2 id=\"report-h\">Attendance report</h2><div class=\"report-status\">"
      "<span class=\"muted small\" id=\"fetched-at\" aria-live=\"polite\"></span>"
      "<a class=\"btn\" id=\"download-csv\" href=\"/events/{0}/report.csv\" download>Download CSV</a>"
      "<button class=\"btn btn-primary\" type=\"button\" id=\"fetch-report\">Fetch Attendance "
      "Data</button></div></div>",
      id, v.live.live ? "true" : "false", core::toString(v.firstPageQuery.sort),
      v.firstPageQuery.descending ? "desc" : "asc");
  out += "<ul class=\"live-list\" id=\"live-scanners\">";
  for (const ScannerLive& s : v.live.scanners) {
    out += fmt::format(
        "<li data-scanner=\"{0}\" data-live=\"{1}\"><code>{0}</code> <span class=\"live-text{2}\">{3}</span></li>",
        h(s.scannerId), s.live ? "true" : "false", s.live ? " live" : "", h(describeUpload(s)));
  }
  out += "</ul>";
  // Manual check-ins are data too: the report shows them before any scanner synced.
  const bool manualData = v.report != nullptr && !v.report->audit.empty();
  if ((v.live.synced || manualData) && v.report != nullptr) {
    out += "<div id=\"report-body\">" + syncedReport(v, id) + "</div></section>";
  } else if (v.live.synced) {
    out += "<div id=\"report-body\"><div class=\"card empty\">Loading the report…</div></div></section>";
  } else {
    std::string registered;
    if (v.report != nullptr) {
      registered = fmt::format("<strong id=\"registered-count\">{}</strong> participant{} registered. ",
                               count(v.report->registered), v.report->registered == 1 ? " is" : "s are");
    }
    out += fmt::format(
        "<div id=\"report-body\"><div class=\"card not-synced\" id=\"not-synced\"><p class=\"big\">"
        "Attendance data has not been synced.</p><p class=\"muted\">{}Run attendance-sync on the scanner after the "
        "event (or attendance-sync --follow beside it), then fetch the data here.</p></div></div></section>",
        registered);
  }

  out += door(v, id, csrf);

  // Registrations.
  out += "<section class=\"card flush\" aria-labelledby=\"reg-h\" id=\"registrations\">";
  out += fmt::format("<div class=\"card-head\"><h2 id=\"reg-h\">Registrations <span class=\"badge\">{}</span></h2>",
                     v.registrations.total);
  out += fmt::format(
      "<form class=\"search\" method=\"get\" action=\"/events/{}\" role=\"search\"><input type=\"search\" name=\"q\" "
      "value=\"{}\" placeholder=\"Search name or email\" aria-label=\"Search registrations\"><button class=\"btn\" "
      "type=\"submit\">Search</button></form></div>",
      id, h(v.search));
  // A refused email stays in the field with the message under it (formField).
  out += fmt::format("<form class=\"toolbar toolbar-form\" method=\"post\" action=\"/events/{}/registrations\">{}", id,
                     csrfField(csrf));
  out += formField("reg-email", "email", "Participant email",
                   "type=\"email\" required maxlength=\"254\" placeholder=\"participant@example.org\" class=\"w-md\"",
                   v.refusedRegistration != nullptr ? v.refusedRegistration->email : std::string{},
                   v.refusedRegistration != nullptr ? &v.refusedRegistration->errors : nullptr);
  out += "<button class=\"btn btn-primary\" type=\"submit\">Register participant</button></form>";
  if (v.registrations.rows.empty()) {
    out += v.search.empty() ? "<div class=\"empty\">Nobody is registered yet.</div>"
                            : "<div class=\"empty\">No registration matches.</div>";
  } else {
    out +=
        "<div class=\"table-wrap\"><table id=\"registration-table\"><thead><tr><th scope=\"col\">Name</th>"
        "<th scope=\"col\">Email</th><th scope=\"col\">Registered</th><th scope=\"col\"><span class=\"sr-only\">"
        "Actions</span></th></tr></thead><tbody>";
    for (const auto& p : v.registrations.rows) {
      out += fmt::format(
          "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"num\"><form class=\"inline\" method=\"post\" "
          "action=\"/events/{}/registrations/{}/delete\" data-confirm=\"Remove this registration?\">{}"
          "<button class=\"btn btn-sm btn-danger\" type=\"submit\">Remove</button></form></td></tr>",
          h(p.displayName), p.disabled ? " <span class=\"badge badge-danger\">disabled</span>" : "", h(p.email),
          timeTag(p.registeredAt), id, h(urlEncode(p.id)), csrfField(csrf));
    }
    out += "</tbody></table></div>";
  }
  out += pager("/events/" + urlEncode(e.id), v.search, v.page, v.pageSize, v.registrations.total);
  out += "</section>";

  // Edit and delete. A refused edit shows what was typed (the datetime-local
  // values as the browser sent them, so app.js leaves them alone) with each
  // message by its field, as the create form does.
  out += "<div class=\"grid grid-2\">";
  const EventForm* typed = v.refusedEdit;
  const FieldErrors* errors = typed != nullptr ? &typed->errors : nullptr;
  const auto timeInput = [&](const std::optional<TimePoint>& stored) {
    if (typed != nullptr || !stored) return std::string{"type=\"datetime-local\""};
    return fmt::format("type=\"datetime-local\" data-utc=\"{}\"", core::formatIsoUtc(*stored));
  };
  out += fmt::format(
      "<section class=\"card\" aria-labelledby=\"edit-h\" id=\"edit-event\"><h2 id=\"edit-h\">Details</h2>{}"
      "<form method=\"post\" action=\"/events/{}\">{}<input type=\"hidden\" name=\"startsUtc\" "
      "data-utc-for=\"ed-starts\"><input type=\"hidden\" name=\"endsUtc\" data-utc-for=\"ed-ends\">"
      "<input type=\"hidden\" name=\"closesUtc\" data-utc-for=\"ed-closes\">",
      typed != nullptr ? "<p class=\"alert alert-error\" role=\"alert\">Not saved. Check the fields marked below.</p>"
                       : "",
      id, csrfField(csrf));
  out += formField("ed-name", "name", "Name", "type=\"text\" required maxlength=\"200\"",
                   typed != nullptr ? typed->name : e.name, errors);
  out += formField("ed-venue", "venue", "Venue", "type=\"text\" maxlength=\"200\"",
                   typed != nullptr ? typed->venue : e.venue, errors);
  out += "<div class=\"form-grid\">";
  out += formField("ed-starts", "starts", "Starts <span class=\"hint\" data-tz-name>UTC</span>", timeInput(e.startsAt),
                   typed != nullptr ? typed->starts : dateInputValue(e.startsAt), errors);
  out += formField("ed-ends", "ends", "Ends <span class=\"hint\" data-tz-name>UTC</span>", timeInput(e.endsAt),
                   typed != nullptr ? typed->ends : dateInputValue(e.endsAt), errors);
  out += registrationFields("ed",
                            typed != nullptr ? typed->capacity
                            : e.capacity     ? std::to_string(*e.capacity)
                                             : std::string{},
                            typed != nullptr ? typed->closes : dateInputValue(e.registrationClosesAt),
                            timeInput(e.registrationClosesAt), errors);
  out += "</div>" + privateIdsField("ed-private-ids", typed != nullptr ? typed->privateIds : e.privateIds);
  out += "<button class=\"btn\" type=\"submit\">Save changes</button></form></section>";
  out += fmt::format(
      "<section class=\"card danger-zone\" aria-labelledby=\"del-h\"><h2 id=\"del-h\">Delete event</h2>"
      "<p class=\"muted\">Deleting removes the event, its registrations and its sync receipts.</p>{}"
      "<form method=\"post\" action=\"/events/{}/delete\" data-confirm=\"Delete this event? This cannot be "
      "undone.\">{}{}"
      "<button class=\"btn btn-danger\" type=\"submit\">Delete event</button></form></section>",
      v.hasCheckIns ? std::string("<p class=\"alert alert-warn\">Check-ins are stored for this event. Deleting is "
                                  "refused unless you also delete them.</p>")
                    : std::string{},
      id, csrfField(csrf),
      v.hasCheckIns ? "<div class=\"field\"><label class=\"check\"><input type=\"checkbox\" name=\"force\" "
                      "value=\"1\"> Also delete the check-ins</label></div>"
                    : "");
  out += "</div>";
  return out;
}

std::string participants(const ParticipantsView& v, std::string_view csrf) {
  std::string out =
      "<div class=\"page-head\"><div><h1>Participants</h1><p class=\"muted\">Everyone who can be registered for an "
      "event. Participants usually sign up in the mobile app.</p></div></div>";
  const ParticipantForm none;
  const ParticipantForm& typed = v.refused != nullptr ? *v.refused : none;
  const FieldErrors* errors = v.refused != nullptr ? &v.refused->errors : nullptr;
  out += fmt::format(
      "<details class=\"card drawer\" id=\"new-participant\"{}><summary class=\"btn btn-primary\">+ New "
      "participant</summary>",
      v.refused != nullptr ? " open" : "");
  out += "<form method=\"post\" action=\"/participants\">" + csrfField(csrf) + "<div class=\"form-grid\">";
  out += formField("p-name", "name", "Name", "type=\"text\" required maxlength=\"200\"", typed.name, errors);
  out += formField("p-email", "email", "Email", "type=\"email\" required maxlength=\"254\"", typed.email, errors);
  out += "</div><button class=\"btn btn-primary\" type=\"submit\">Create participant</button></form></details>";
  out += "<section class=\"card flush\" aria-labelledby=\"people-h\">";
  out += fmt::format(
      "<div class=\"card-head\"><h2 id=\"people-h\">All participants <span class=\"badge\">{}</span></h2><form "
      "class=\"search\" method=\"get\" action=\"/participants\" role=\"search\"><input type=\"search\" name=\"q\" "
      "value=\"{}\" placeholder=\"Search name or email\" aria-label=\"Search participants\"><button class=\"btn\" "
      "type=\"submit\">Search</button></form></div>",
      v.page.total, h(v.search));
  if (v.page.rows.empty()) {
    out += "<div class=\"empty\">No participants found.</div>";
  } else {
    out +=
        "<div class=\"table-wrap\"><table id=\"participant-list\"><thead><tr><th scope=\"col\">Name</th><th "
        "scope=\"col\">Email</th><th scope=\"col\">bleUuid</th><th scope=\"col\">Status</th><th scope=\"col\">"
        "<span class=\"sr-only\">Actions</span></th></tr></thead><tbody>";
    for (const auto& p : v.page.rows) {
      const std::string pid = h(urlEncode(p.id));
      out += fmt::format(
          "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\"><div class=\"row\">"
          "<form class=\"inline\" method=\"post\" action=\"/participants/{}/regenerate-ble-uuid\" "
          "data-confirm=\"Generate a new bleUuid? The participant's app must fetch it again.\">{}<button class=\"btn "
          "btn-sm\" type=\"submit\">New bleUuid</button></form>"
          "<form class=\"inline\" method=\"post\" action=\"/participants/{}/{}\">{}<button class=\"btn btn-sm{}\" "
          "type=\"submit\">{}</button></form></div></td></tr>",
          h(p.displayName), h(p.email), h(p.bleUuid),
          p.disabled ? "<span class=\"badge badge-danger\">Disabled</span>"
                     : "<span class=\"badge badge-ok\">Active</span>",
          pid, csrfField(csrf), pid, p.disabled ? "enable" : "disable", csrfField(csrf),
          p.disabled ? "" : " btn-danger", p.disabled ? "Enable" : "Disable");
    }
    out += "</tbody></table></div>";
  }
  out += pager("/participants", v.search, v.pageNo, v.pageSize, v.page.total);
  out += "</section>";
  return out;
}

namespace {

// A scanner's events, each with an unassign button, and a form to assign it to one more.
std::string assignmentsCell(const core::ScannerInfo& s, std::size_t row,
                            const std::vector<const core::Event*>& assigned, const std::vector<core::Event>& events,
                            std::string_view csrf) {
  const std::string base = "/scanners/" + h(urlEncode(s.scannerId)) + "/assignments";
  std::string out;
  if (assigned.empty()) {
    out += "<span class=\"muted\">Not assigned to any event</span>";
  } else {
    out += "<ul class=\"plain\">";
    for (const core::Event* e : assigned) {
      out += fmt::format("<li><code>{}</code> {}", h(e->id), h(e->name));
      if (!s.revokedAt) {
        out += fmt::format(
            " <form class=\"inline\" method=\"post\" action=\"{}/{}/delete\">{}<button class=\"btn btn-sm\" "
            "type=\"submit\">Unassign</button></form>",
            base, h(urlEncode(e->id)), csrfField(csrf));
      }
      out += "</li>";
    }
    out += "</ul>";
  }
  if (s.revokedAt || assigned.size() == events.size()) return out;
  out += fmt::format(
      "<form class=\"row\" method=\"post\" action=\"{}\">{}<label class=\"sr-only\" "
      "for=\"assign-{}\">Event</label><select id=\"assign-{}\" name=\"eventId\" required>",
      base, csrfField(csrf), row, row);
  for (const auto& e : events) {
    if (std::find(assigned.begin(), assigned.end(), &e) != assigned.end()) continue;
    out += fmt::format("<option value=\"{}\">{} ({})</option>", h(e.id), h(e.name), h(e.id));
  }
  out += "</select><button class=\"btn btn-sm\" type=\"submit\">Assign</button></form>";
  return out;
}

}  // namespace

std::string scanners(const ScannersView& view, std::string_view csrf,
                     const std::optional<core::CreatedScanner>& created) {
  const auto& list = view.scanners;
  std::string out =
      "<div class=\"page-head\"><div><h1>Scanners</h1><p class=\"muted\">Each scanner device uploads its log with its "
      "own API key, into the events it is assigned to. Revoke a key when a device is lost.</p></div></div>";
  if (created) {
    out += fmt::format(
        "<section class=\"card\" id=\"new-key\" aria-labelledby=\"key-h\"><h2 id=\"key-h\">API key for "
        "<code>{}</code></h2>"
        "<p class=\"alert alert-warn\">Copy this key now and store it on the scanner. It is shown only once; only a "
        "hash is kept.</p><div class=\"secret\"><code id=\"api-key\">{}</code><button class=\"btn btn-sm\" "
        "type=\"button\" data-copy=\"api-key\">Copy</button></div></section>",
        h(created->scannerId), h(created->apiKey));
  }
  out += "<section class=\"card\" aria-labelledby=\"new-scanner-h\"><h2 id=\"new-scanner-h\">Add a scanner</h2>";
  out += "<form class=\"row\" method=\"post\" action=\"/scanners\">" + csrfField(csrf) +
         "<label class=\"sr-only\" for=\"scanner-id\">Scanner id</label><input id=\"scanner-id\" name=\"scannerId\" "
         "type=\"text\" required maxlength=\"128\" pattern=\"[A-Za-z0-9._:\\-]{1,128}\" "
         "placeholder=\"Entrance-Scanner-01\" "
         "class=\"w-md\"><button class=\"btn btn-primary\" type=\"submit\">Create scanner</button></form></section>";
  out +=
      "<section class=\"card flush\" aria-labelledby=\"scanners-list-h\"><div class=\"card-head\"><h2 "
      "id=\"scanners-list-h\">All scanners</h2></div>";
  if (list.empty()) {
    out += "<div class=\"empty\">No scanners yet.</div>";
  } else {
    out +=
        "<div class=\"table-wrap\"><table id=\"scanner-list\"><thead><tr><th scope=\"col\">Scanner</th><th "
        "scope=\"col\">Key</th><th scope=\"col\">Created</th><th scope=\"col\">Last sync</th><th scope=\"col\" "
        "class=\"num\">Records</th><th scope=\"col\">Status</th><th scope=\"col\">Events</th><th scope=\"col\">"
        "<span class=\"sr-only\">Actions</span></th></tr></thead><tbody>";
    std::map<std::string_view, const core::Event*> eventById;
    for (const auto& e : view.events) eventById.emplace(e.id, &e);
    std::map<std::string_view, std::vector<const core::Event*>> assignedTo;  // scannerId -> its events
    for (const auto& a : view.assignments) {
      if (auto it = eventById.find(a.eventId); it != eventById.end()) assignedTo[a.scannerId].push_back(it->second);
    }
    std::size_t row = 0;
    for (const auto& s : list) {
      const auto& assigned = assignedTo[s.scannerId];
      out += fmt::format(
          "<tr><td><code>{}</code></td><td><code>{}…</code></td><td>{}</td><td>{}</td><td class=\"num\">{}"
          "</td><td>{}</td><td>{}</td><td class=\"num\">",
          h(s.scannerId), h(s.keyPrefix), timeTag(s.createdAt), timeTag(s.lastSyncAt, "never"), s.recordsReceived,
          s.revokedAt ? "<span class=\"badge badge-danger\">Revoked</span>"
                      : "<span class=\"badge badge-ok\">Active</span>",
          assignmentsCell(s, row++, assigned, view.events, csrf));
      if (!s.revokedAt) {
        out += fmt::format(
            "<form class=\"inline\" method=\"post\" action=\"/scanners/{}/revoke\" data-confirm=\"Revoke this "
            "scanner's key? Its next sync will be refused.\">{}<button class=\"btn btn-sm btn-danger\" "
            "type=\"submit\">Revoke</button></form>",
            h(urlEncode(s.scannerId)), csrfField(csrf));
      }
      out += "</td></tr>";
    }
    out += "</tbody></table></div>";
  }
  out += "</section>";
  return out;
}

std::string errorContent(std::string_view title, std::string_view message) {
  return fmt::format(
      "<div class=\"card empty\"><h1>{}</h1><p>{}</p><p><a class=\"btn\" href=\"/events\">Back to "
      "events</a></p></div>",
      h(title), h(message));
}

}  // namespace attendance::admin_web::pages
