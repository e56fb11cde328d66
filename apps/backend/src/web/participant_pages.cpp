#include "web/participant_pages.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <attendance/core/report.hpp>

namespace attendance::backend::web::pages {

namespace {

using admin_web::escape;
using admin_web::formField;
using admin_web::urlEncode;

std::string h(std::string_view s) { return escape(s); }

std::string csrfField(std::string_view csrf) {
  return fmt::format("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", h(csrf));
}

std::string whenText(const core::Event& e) {
  if (!e.startsAt) return "<span class=\"muted\">No date</span>";
  std::string out = timeText(*e.startsAt);
  if (e.endsAt) out += " – " + timeText(*e.endsAt);
  return out;
}

std::string eventTitle(const core::Event& e) {
  std::string out = fmt::format("<strong>{}</strong>", h(e.name));
  if (!e.venue.empty()) out += fmt::format("<span class=\"muted\"> · {}</span>", h(e.venue));
  return out;
}

std::string postButton(std::string_view action, std::string_view csrf, std::string_view label, std::string_view cls) {
  return fmt::format(
      "<form class=\"inline\" method=\"post\" action=\"{}\">{}<button class=\"btn {}\" type=\"submit\">{}</button>"
      "</form>",
      h(action), csrfField(csrf), cls, label);
}

// The bleUuid as Eddystone-UID namespace (10 bytes) and instance (6 bytes), hex.
std::pair<std::string, std::string> eddystone(const support::Uuid& id) {
  std::string hex;
  for (char c : id.toString()) {
    if (c != '-') hex += c;
  }
  return {hex.substr(0, 20), hex.substr(20)};
}

std::string eventPath(const core::Event& e) { return "/events/" + urlEncode(e.id); }

// What a participant can do about an event, as a badge and a button (the same
// words in the lists and on the event page).
std::string registrationControls(const core::UpcomingEvent& u, TimePoint now, std::string_view csrf) {
  const std::string base = eventPath(u.event);
  if (u.status == core::RegistrationStatus::registered) {
    return "<span class=\"badge badge-ok\">Registered</span>";
  }
  if (u.status == core::RegistrationStatus::waitlisted) {
    return fmt::format("<span class=\"badge badge-wait\">Waitlisted #{}</span>", u.waitlistPosition) +
           postButton(base + "/unregister", csrf, "Leave the waitlist", "btn-ghost");
  }
  const core::SeatInfo seats = core::seatInfo(u.event, u.registeredCount, now);
  switch (seats.availability) {
    case core::Availability::closed: return "<span class=\"badge badge-closed\">Registration closed</span>";
    case core::Availability::waitlist:
      return "<span class=\"badge badge-wait\">Full: waitlist</span>" +
             postButton(base + "/register", csrf, "Join the waitlist", "btn-primary");
    case core::Availability::seats_left:
      return fmt::format("<span class=\"badge\">{} seat{} left</span>", seats.seatsLeft,
                         seats.seatsLeft == 1 ? "" : "s") +
             postButton(base + "/register", csrf, "Register", "btn-primary");
    case core::Availability::open: break;
  }
  return postButton(base + "/register", csrf, "Register", "btn-primary");
}

std::string closesText(const core::Event& e, TimePoint now) {
  const auto deadline = core::registrationDeadline(e);
  if (!deadline) return {};
  return fmt::format("<div class=\"muted closes\">Registration {} {}</div>", *deadline <= now ? "closed" : "closes",
                     timeText(*deadline));
}

}  // namespace

std::string registrationClosedText(const core::Event& e) {
  const auto deadline = core::registrationDeadline(e);
  if (!deadline) return "Registration for this event is closed.";
  const std::string iso = core::formatIsoUtc(*deadline);
  return fmt::format("Registration for {} closed at {} {} UTC.", e.name, iso.substr(0, 10), iso.substr(11, 5));
}

std::string timeText(TimePoint t) {
  const std::string iso = core::formatIsoUtc(t);
  return fmt::format("<time datetime=\"{}\">{} {} UTC</time>", iso, iso.substr(0, 10), iso.substr(11, 5));
}

std::string layout(std::string_view title, std::string_view displayName, std::string_view csrf,
                   std::string_view flashHtml, std::string_view content) {
  std::string who;
  if (!csrf.empty()) {
    who = fmt::format(
        "<div class=\"who\"><a href=\"/account\">{}</a><form class=\"inline\" method=\"post\" action=\"/signout\">{}"
        "<button class=\"btn btn-ghost\" type=\"submit\">Sign out</button></form></div>",
        h(displayName), csrfField(csrf));
  }
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} · Attendance</title>\n"
      "<link rel=\"stylesheet\" href=\"/assets/participant.css\">\n</head>\n<body>\n"
      "<header class=\"topbar\"><a class=\"brand\" href=\"/\">Attendance</a>{}</header>\n"
      "<main id=\"main\">\n{}{}</main>\n</body>\n</html>\n",
      h(title), who, flashHtml, content);
}

std::span<const admin_web::Notice> notices() {
  static constexpr admin_web::Notice kNotices[] = {
      {"welcome", FlashKind::ok, "Welcome! Your account is ready."},
      {"registered", FlashKind::ok, "You are registered."},
      {"waitlisted", FlashKind::ok, "The event is full: you are on the waitlist. You get a seat when one frees up."},
      {"unregistered", FlashKind::ok, "Your registration was cancelled."},
      {"left-waitlist", FlashKind::ok, "You left the waitlist."},
      {"signed-out", FlashKind::ok, "You are signed out."},
      {"deleted", FlashKind::ok, "Your account and everything linked to it were deleted."},
  };
  return kNotices;
}

std::string signIn(std::string_view formCsrf, const AccountForm& typed) {
  return fmt::format(
      "<section class=\"card narrow\"><h1>Sign in</h1>"
      "<form method=\"post\" action=\"/signin\" novalidate>{}{}{}"
      "<button class=\"btn btn-primary\" type=\"submit\">Sign in</button></form>"
      "<p>New here? <a href=\"/signup\">Create an account</a></p></section>",
      csrfField(formCsrf),
      formField("email", "email", "Email", "type=\"email\" autocomplete=\"username\" required", typed.email,
                &typed.errors),
      formField("password", "password", "Password", "type=\"password\" autocomplete=\"current-password\" required", {},
                &typed.errors));
}

std::string signUp(std::string_view formCsrf, const AccountForm& typed) {
  return fmt::format(
      "<section class=\"card narrow\"><h1>Create an account</h1>"
      "<form method=\"post\" action=\"/signup\" novalidate>{}{}{}{}"
      "<button class=\"btn btn-primary\" type=\"submit\">Create account</button></form>"
      "<p>Have an account? <a href=\"/signin\">Sign in</a></p></section>",
      csrfField(formCsrf),
      formField("displayName", "displayName", "Your name",
                "type=\"text\" autocomplete=\"name\" maxlength=\"200\" required", typed.displayName, &typed.errors),
      formField("email", "email", "Email", "type=\"email\" autocomplete=\"username\" required", typed.email,
                &typed.errors),
      formField("password", "password", "Password (at least 8 characters)",
                "type=\"password\" autocomplete=\"new-password\" minlength=\"8\" required", {}, &typed.errors));
}

std::string home(const HomeView& v, std::string_view csrf) {
  const core::User& user = *v.user;
  const std::string id = user.bleUuid.toString();
  const auto [ns, instance] = eddystone(user.bleUuid);

  std::string mine;
  for (const auto& m : v.mine) {
    std::string status;
    if (m.checkedInAt) {
      status = "<span class=\"badge badge-ok\">Checked in at " + timeText(*m.checkedInAt) +
               (m.manual ? " (at the door)" : "") + "</span>";
    } else if (m.revoked) {
      status = "<span class=\"badge\">Not checked in (revoked at the door)</span>";
    } else if (m.synced) {
      status = "<span class=\"badge\">Not checked in</span>";
    } else {
      status = "<span class=\"badge\">No check-ins synced yet</span>";
    }
    const bool over = m.event.endsAt ? *m.event.endsAt < v.now : false;
    mine += fmt::format(
        "<li class=\"event\" data-event=\"{}\"><div>{}</div><div class=\"muted\">{}</div><div>{}</div>"
        "<a class=\"confirm-link\" href=\"{}\">Show my confirmation</a>{}</li>",
        h(m.event.id), eventTitle(m.event), whenText(m.event), status, h(eventPath(m.event)),
        over || m.checkedInAt
            ? std::string{}
            : postButton("/events/" + urlEncode(m.event.id) + "/unregister", csrf, "Cancel registration", "btn-ghost"));
  }
  // Waitlist places are theirs too (the lists come from one snapshot each, so an
  // event promoted in between shows once, in the newer list).
  for (const auto& u : v.upcoming) {
    if (u.status != core::RegistrationStatus::waitlisted) continue;
    mine += fmt::format(
        "<li class=\"event\" data-event=\"{}\"><div><a href=\"{}\">{}</a></div><div class=\"muted\">{}</div>"
        "<div>{}</div></li>",
        h(u.event.id), h(eventPath(u.event)), eventTitle(u.event), whenText(u.event),
        registrationControls(u, v.now, csrf));
  }
  if (mine.empty()) mine = "<li class=\"empty\">You are not registered for any event yet.</li>";

  std::string upcoming;
  for (const auto& u : v.upcoming) {
    upcoming += fmt::format(
        "<li class=\"event\" data-event=\"{}\"><div><a href=\"{}\">{}</a></div><div class=\"muted\">{}</div>{}"
        "<div class=\"controls\">{}</div></li>",
        h(u.event.id), h(eventPath(u.event)), eventTitle(u.event), whenText(u.event), closesText(u.event, v.now),
        registrationControls(u, v.now, csrf));
  }
  if (upcoming.empty()) upcoming = "<li class=\"empty\">No upcoming events.</li>";

  return fmt::format(
      "<h1>Hello, {name}</h1>"
      "<section class=\"card\" aria-labelledby=\"id-h\"><h2 id=\"id-h\">Your check-in id</h2>"
      "<p>Show this at the door, or let your phone send it.</p>"
      "<div class=\"id-box\">{qr}<code id=\"ble-uuid\">{id}</code></div>"
      "<details><summary>How to send it from your phone</summary>"
      "<p>The scanner at the door hears a Bluetooth beacon carrying this id. Until the attendance app is in your "
      "store, a beacon app can send it:</p><ul>"
      "<li><strong>iPhone</strong>: an iBeacon with proximity UUID <code>{id}</code>, major 0, minor 0, "
      "measured power −59. iPhones send beacons only while the app is open: keep it on screen at the door.</li>"
      "<li><strong>Android</strong>: Eddystone-UID with namespace <code>{ns}</code> and instance "
      "<code>{instance}</code> (or the iBeacon above), no device name.</li></ul>"
      "<p class=\"muted\">The details for app builders are in the project's docs/participant-apps.md.</p>"
      "</details></section>"
      "<section class=\"card\" id=\"my-events\" aria-labelledby=\"mine-h\"><h2 id=\"mine-h\">My events</h2>"
      "<ul class=\"events\">{mine}</ul></section>"
      "<section class=\"card\" id=\"upcoming\" aria-labelledby=\"up-h\"><h2 id=\"up-h\">Upcoming events</h2>"
      "<ul class=\"events\">{upcoming}</ul></section>"
      "<section class=\"card\" aria-labelledby=\"data-h\"><h2 id=\"data-h\">Your data</h2>"
      "<p>Everything stored about you, check-in times included, as one file.</p>"
      "<p><a class=\"btn\" id=\"export\" href=\"/me/export.json\" download>Download my data (JSON)</a> "
      "<a class=\"btn btn-ghost\" href=\"/account\">Delete my account…</a></p></section>",
      fmt::arg("name", h(user.displayName)), fmt::arg("qr", v.qrSvg), fmt::arg("id", h(id)), fmt::arg("ns", ns),
      fmt::arg("instance", instance), fmt::arg("mine", mine), fmt::arg("upcoming", upcoming));
}

std::string eventPage(const EventPageView& v, std::string_view csrf) {
  const core::UpcomingEvent& u = v.event;
  const core::Event& e = u.event;
  std::string status;
  if (u.status == core::RegistrationStatus::registered) {
    // The confirmation to show at the door: who, what, the status, and the id the scanner hears.
    status = fmt::format(
        "<section class=\"card confirmation\" id=\"confirmation\" aria-labelledby=\"conf-h\">"
        "<h2 id=\"conf-h\">Registration confirmed</h2><dl>"
        "<dt>Name</dt><dd id=\"conf-name\">{}</dd><dt>Event</dt><dd id=\"conf-event\">{}</dd>"
        "<dt>When</dt><dd>{}</dd><dt>Status</dt><dd id=\"conf-status\"><span class=\"badge badge-ok\">Registered"
        "</span></dd></dl><p>Show this at the door, or let your phone send your id.</p>"
        "<div class=\"id-box\">{}<code id=\"conf-id\">{}</code></div>{}</section>",
        h(v.user->displayName), h(e.name), whenText(e), v.qrSvg, h(v.user->bleUuid.toString()),
        e.endsAt && *e.endsAt < v.now
            ? std::string{}
            : postButton(eventPath(e) + "/unregister", csrf, "Cancel registration", "btn-ghost"));
  } else if (u.status == core::RegistrationStatus::waitlisted) {
    status = fmt::format(
        "<section class=\"card\" id=\"status\" aria-labelledby=\"st-h\"><h2 id=\"st-h\">On the waitlist</h2>"
        "<p>You are number {} on the waitlist. When a registered participant cancels, the first on the waitlist "
        "gets the seat: this page then shows your confirmation.</p>{}</section>",
        u.waitlistPosition, registrationControls(u, v.now, csrf));
  } else {
    status = fmt::format(
        "<section class=\"card\" id=\"status\" aria-labelledby=\"st-h\"><h2 id=\"st-h\">Registration</h2>"
        "<p>{}</p>{}</section>",
        core::registrationOpen(e, v.now) ? "You are not registered for this event." : h(registrationClosedText(e)),
        registrationControls(u, v.now, csrf));
  }
  std::string seats;
  if (e.capacity) {
    seats =
        fmt::format("<dt>Seats</dt><dd>{} of {} taken{}</dd>", std::min<std::int64_t>(u.registeredCount, *e.capacity),
                    *e.capacity, u.waitlistCount > 0 ? fmt::format(", {} waiting", u.waitlistCount) : "");
  }
  const auto deadline = core::registrationDeadline(e);
  return fmt::format(
      "<p><a href=\"/\">← Your events</a></p><section class=\"card\" aria-labelledby=\"ev-h\">"
      "<h1 id=\"ev-h\">{}</h1><dl><dt>When</dt><dd>{}</dd>{}{}<dt>Registration</dt><dd>{}</dd></dl></section>{}",
      h(e.name), whenText(e), e.venue.empty() ? std::string{} : "<dt>Venue</dt><dd>" + h(e.venue) + "</dd>", seats,
      deadline ? std::string{core::registrationOpen(e, v.now) ? "Closes " : "Closed "} + timeText(*deadline)
               : std::string{"Open"},
      status);
}

std::string account(const core::User& user, std::string_view csrf, const admin_web::FieldErrors* errors) {
  return fmt::format(
      "<section class=\"card narrow\"><h1>Your account</h1><dl><dt>Name</dt><dd>{}</dd><dt>Email</dt><dd>{}</dd>"
      "<dt>Check-in id</dt><dd><code>{}</code></dd><dt>Created</dt><dd>{}</dd></dl>"
      "<p><a class=\"btn\" href=\"/me/export.json\" download>Download my data (JSON)</a></p></section>"
      "<section class=\"card narrow danger\" aria-labelledby=\"del-h\"><h2 id=\"del-h\">Delete my account</h2>"
      "<p>This deletes your account, your registrations and your sign-in history at once. Check-ins already "
      "recorded stay only as anonymous counts in the organizers' reports: nothing links them to you any more. "
      "This cannot be undone.</p>"
      "<form method=\"post\" action=\"/account/delete\" novalidate>{}{}"
      "<button class=\"btn btn-danger\" type=\"submit\">Delete my account</button></form></section>",
      h(user.displayName), h(user.email), h(user.bleUuid.toString()), timeText(user.createdAt), csrfField(csrf),
      formField("confirm-password", "password", "Your password, to confirm",
                "type=\"password\" autocomplete=\"current-password\" required", {}, errors));
}

std::string errorContent(std::string_view title, std::string_view message) {
  return fmt::format("<section class=\"card narrow\"><h1>{}</h1><p>{}</p><p><a href=\"/\">Back</a></p></section>",
                     h(title), h(message));
}

std::string_view stylesheet() {
  // Mobile first: one column; wider screens only get more margin.
  return R"css(*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1d21;background:#f4f5f7}
a{color:#0b57d0}
.topbar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;padding:.75rem 1rem;background:#fff;border-bottom:1px solid #dde1e6}
.brand{font-weight:700;text-decoration:none;color:#1a1d21}
.who{display:flex;align-items:center;gap:.5rem;min-width:0}
.who a{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:12rem}
main{max-width:44rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:0 0 .75rem}
.card{background:#fff;border:1px solid #dde1e6;border-radius:.75rem;padding:1rem;margin:0 0 1rem}
.narrow{max-width:28rem;margin-left:auto;margin-right:auto}
.danger{border-color:#e6b3b3}
.field{margin:0 0 .75rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
input[type=email],input[type=password],input[type=text]{width:100%;font:inherit;padding:.6rem .7rem;border:1px solid #b9c0c8;border-radius:.5rem}
.field.invalid input{border-color:#b3261e}
.field-error{color:#b3261e;margin:.25rem 0 0}
.btn{display:inline-block;font:inherit;font-weight:600;padding:.55rem 1rem;min-height:44px;border-radius:.5rem;border:1px solid #b9c0c8;background:#fff;color:#1a1d21;text-decoration:none;cursor:pointer}
.btn-primary{background:#0b57d0;border-color:#0b57d0;color:#fff}
.btn-danger{background:#b3261e;border-color:#b3261e;color:#fff}
.btn-ghost{background:transparent}
form.inline{display:inline}
.alert{padding:.75rem 1rem;border-radius:.5rem;margin:0 0 1rem}
.alert-ok{background:#e6f4ea;color:#137333}
.alert-error{background:#fce8e6;color:#b3261e}
.muted{color:#5f6872}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;background:#eceff1;font-size:.9rem}
.badge-ok{background:#e6f4ea;color:#137333}
.badge-wait{background:#fef7e0;color:#8a5300}
.badge-closed{background:#eceff1;color:#5f6872}
.controls{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.confirmation{border-color:#137333}
.events{list-style:none;margin:0;padding:0}
.events li{padding:.75rem 0;border-top:1px solid #eceff1;display:grid;gap:.35rem}
.events li:first-child{border-top:0}
.events li form,.events li .badge{justify-self:start}
.empty{color:#5f6872}
.id-box{display:flex;flex-direction:column;align-items:center;gap:.5rem;margin:0 0 .75rem}
.qr{width:min(16rem,100%);height:auto;image-rendering:pixelated}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
#ble-uuid{font-size:1rem;text-align:center}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dd{margin:0;overflow-wrap:anywhere}
details summary{cursor:pointer;font-weight:600}
@media (min-width:48rem){main{padding:2rem 1rem}.events li{grid-template-columns:1fr auto;align-items:center}.events li>div:first-child{grid-column:1}}
)css";
}

}  // namespace attendance::backend::web::pages
