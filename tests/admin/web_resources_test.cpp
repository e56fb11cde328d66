// The admin console's resources over real sockets and a real PostgreSQL database:
// events, registrations, participants, scanners and assignments, the report API
// against core's own renderers, assets, and text that is not UTF-8.
#include "admin/web_console_test_base.hpp"

namespace attendance::admin_web::testing {
namespace {

// A refused form field: the input holds what was typed (`value`, as escaped in the
// page; nothing typed, no value attribute), is marked invalid and points at its message,
// which follows it right away.
void expectRefusedField(const std::string& body, const std::string& id, const std::string& value,
                        const std::string& message) {
  const std::string markup = (value.empty() ? " " : "value=\"" + value + "\" ") +
                             "aria-invalid=\"true\" aria-describedby=\"" + id +
                             "-error\"><p class=\"field-error\" id=\"" + id + "-error\">" + message + "</p>";
  EXPECT_TRUE(has(body, markup)) << markup << "\n" << body;
}

TEST_F(AdminWebTest, CreatesEditsAndListsEventsWithEscapedNames) {
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto created = b.post("/events", form({{"csrf", csrf},
                                               {"name", "<script>alert(1)</script>"},
                                               {"venue", "\"><img src=x onerror=alert(2)>"},
                                               {"id", "launch-2026"},
                                               {"starts", "2026-10-01T18:00"},
                                               {"ends", "2026-10-01T21:00"},
                                               {"tzOffset", "-120"}}));
  ASSERT_EQ(created.result(), http::status::see_other);
  EXPECT_EQ(created[http::field::location], "/events/launch-2026?notice=event-created");
  // 18:00 at UTC+2 is 16:00 UTC.
  EXPECT_EQ(db.scalar("SELECT to_char(starts_at AT TIME ZONE 'UTC', 'HH24:MI') FROM events"), "16:00");
  for (const std::string path : {"/events", "/events/launch-2026"}) {
    SCOPED_TRACE(path);
    const auto page = b.get(path);
    EXPECT_EQ(page.result(), http::status::ok);
    EXPECT_TRUE(has(page.body(), "&lt;script&gt;alert(1)&lt;/script&gt;")) << "&lt;script&gt;alert(1)&lt;/script&gt;";
    EXPECT_FALSE(has(page.body(), "<script>alert(1)")) << "<script>alert(1)";
    EXPECT_FALSE(has(page.body(), "<img src=x")) << "<img src=x";
  }
  const auto api = b.get("/api/events");
  EXPECT_EQ(api.result(), http::status::ok);
  const auto json = boost::json::parse(api.body());
  EXPECT_EQ(json.at("events").as_array().at(0).at("name").as_string(), "<script>alert(1)</script>");
  EXPECT_EQ(json.at("events").as_array().at(0).at("startsAt").as_string(), "2026-10-01T16:00:00.000Z");

  const auto edited =
      b.post("/events/launch-2026",
             form({{"csrf", csrf}, {"name", "Launch party"}, {"venue", "Roof"}, {"starts", ""}, {"ends", ""}}));
  EXPECT_EQ(edited.result(), http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT name || '|' || venue || '|' || coalesce(starts_at::text, 'none') FROM events"),
            "Launch party|Roof|none");
  const auto bad = b.post(
      "/events", form({{"csrf", csrf}, {"name", "x"}, {"starts", "2026-10-02T10:00"}, {"ends", "2026-10-01T10:00"}}));
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_TRUE(has(bad.body(), "The end must not be before the start.")) << "The end must not be before the start.";
  EXPECT_EQ(b.get("/events/nope").result(), http::status::not_found);
}

// Issue 11 §2: the create and edit forms carry the private-ids checkbox; the event page says so.
TEST_F(AdminWebTest, ThePrivateIdsCheckboxTurnsPrivateIdsOnAndOffAndTheEventPageShowsIt) {
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  EXPECT_TRUE(has(b.get("/events").body(), "name=\"privateIds\"")) << "the create form's checkbox";
  ASSERT_EQ(
      b.post("/events", form({{"csrf", csrf}, {"name", "Private"}, {"id", "ev-p"}, {"privateIds", "1"}})).result(),
      http::status::see_other);
  ASSERT_EQ(b.post("/events", form({{"csrf", csrf}, {"name", "Static"}, {"id", "ev-s"}})).result(),
            http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT string_agg(id || '=' || private_ids, ',' ORDER BY id) FROM events"),
            "ev-p=true,ev-s=false");
  auto page = b.get("/events/ev-p");
  EXPECT_TRUE(has(page.body(), "id=\"event-private-ids\"")) << "the badge";
  EXPECT_TRUE(has(page.body(), "id=\"ed-private-ids\" name=\"privateIds\" value=\"1\" checked")) << "ticked";
  EXPECT_FALSE(has(b.get("/events/ev-s").body(), "id=\"event-private-ids\"")) << "no badge";
  // Edited without the box ticked: off; ticked again: on.
  ASSERT_EQ(
      b.post("/events/ev-p", form({{"csrf", csrf}, {"name", "Private"}, {"venue", ""}, {"starts", ""}, {"ends", ""}}))
          .result(),
      http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT private_ids FROM events WHERE id = 'ev-p'"), "f");
  ASSERT_EQ(
      b.post(
           "/events/ev-s",
           form({{"csrf", csrf}, {"name", "Static"}, {"venue", ""}, {"starts", ""}, {"ends", ""}, {"privateIds", "1"}}))
          .result(),
      http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT private_ids FROM events WHERE id = 'ev-s'"), "t");
}

// Issue 16: a refused create-event form comes back open, holding what was
// typed, with each message next to its field (and nothing created).
TEST_F(AdminWebTest, ARefusedEventFormKeepsWhatWasTypedAndSaysWhyNextToTheField) {
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto res = b.post("/events", form({{"csrf", csrf},
                                           {"name", "Gala <night>"},
                                           {"venue", "Hall B"},
                                           {"starts", "2026-10-02T10:00"},
                                           {"ends", "2026-10-01T10:00"},
                                           {"id", "bad id!"}}));
  EXPECT_EQ(res.result(), http::status::bad_request);
  const std::string& html = res.body();
  EXPECT_TRUE(has(html, "<details class=\"card drawer\" id=\"new-event\" open>")) << html;
  for (const char* kept : {"id=\"ev-name\" name=\"name\" type=\"text\" required maxlength=\"200\" "
                           "value=\"Gala &lt;night&gt;\">",
                           "id=\"ev-venue\" name=\"venue\" type=\"text\" maxlength=\"200\" value=\"Hall B\">",
                           "id=\"ev-starts\" name=\"starts\" type=\"datetime-local\" value=\"2026-10-02T10:00\">"}) {
    EXPECT_TRUE(has(html, kept)) << kept;
  }
  // The refused fields: marked, the message right after the input.
  expectRefusedField(html, "ev-ends", "2026-10-01T10:00", "The end must not be before the start.");
  expectRefusedField(html, "ev-id", "bad id!",
                     "Use 1 to 128 letters, digits, &#39;.&#39;, &#39;_&#39;, &#39;:&#39; or &#39;-&#39;.");
  EXPECT_FALSE(has(html, "ev-name-error")) << "the name was fine";
  EXPECT_TRUE(has(html, "The event was not created. Check the fields marked below.")) << html;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events"), "0");

  // An id that is taken is said at the id, and the rest is kept.
  const auto taken = makeEvent("First");
  const auto again = b.post("/events", form({{"csrf", csrf}, {"name", "Second"}, {"venue", "Roof"}, {"id", taken.id}}));
  EXPECT_EQ(again.result(), http::status::bad_request);
  EXPECT_TRUE(has(again.body(), "value=\"Second\"")) << again.body();
  EXPECT_TRUE(has(again.body(), "value=\"Roof\"")) << again.body();
  expectRefusedField(again.body(), "ev-id", taken.id,
                     "An event with this id exists. Choose another id, or leave it empty.");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events"), "1");
}

// Issue 12: capacity and registration closing time in the create and edit forms;
// the event page counts the registered and the waitlisted (who are not registered).
TEST_F(AdminWebTest, CapacityAndClosingTimeAreSetEditedAndCountedWithTheWaitlist) {
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto bad = b.post("/events", form({{"csrf", csrf},
                                           {"name", "Gala"},
                                           {"id", "ev-c"},
                                           {"capacity", "0"},
                                           {"ends", "2026-10-01T10:00"},
                                           {"closes", "2026-10-02T10:00"}}));
  EXPECT_EQ(bad.result(), http::status::bad_request);
  expectRefusedField(bad.body(), "ev-capacity", "0",
                     "Enter a whole number of seats from 1 to 1000000, or leave it empty (unlimited).");
  expectRefusedField(bad.body(), "ev-closes", "2026-10-02T10:00", "Registration must close before the event ends.");
  ASSERT_EQ(b.post("/events", form({{"csrf", csrf}, {"name", "Gala"}, {"id", "ev-c"}, {"capacity", "1"}})).result(),
            http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT capacity FROM events WHERE id = 'ev-c'"), "1");

  const auto ana = makeUser("ana@example.org", "Ana");
  const auto bo = makeUser("bo@example.org", "Bo");
  const auto now = server.clock.systemTime();
  ASSERT_EQ(core::requestRegistration(server.pool(), "ev-c", ana.id, now)->status,
            core::RegistrationStatus::registered);
  ASSERT_EQ(core::requestRegistration(server.pool(), "ev-c", bo.id, now)->status, core::RegistrationStatus::waitlisted);
  auto page = b.get("/events/ev-c");
  EXPECT_TRUE(has(page.body(), "<span id=\"count-registered\">1 registered of 1 seats</span>")) << page.body();
  EXPECT_TRUE(has(page.body(), "<span id=\"count-waitlisted\">1 on the waitlist</span>"));
  EXPECT_TRUE(has(page.body(), "value=\"1\"")) << "the edit form holds the capacity";

  // Two seats: Bo moves up at once; the closing time is stored.
  ASSERT_EQ(b.post("/events/ev-c", form({{"csrf", csrf},
                                         {"name", "Gala"},
                                         {"venue", ""},
                                         {"starts", ""},
                                         {"ends", ""},
                                         {"capacity", "2"},
                                         {"closes", "2026-10-01T10:00"}}))
                .result(),
            http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM registrations WHERE event_id = 'ev-c'"), "2");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM waitlist"), "0");
  EXPECT_EQ(db.scalar("SELECT to_char(registration_closes_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM events "
                      "WHERE id = 'ev-c'"),
            "2026-10-01 10:00");
  // Emptied: unlimited, open until the event is over.
  ASSERT_EQ(
      b.post("/events/ev-c", form({{"csrf", csrf}, {"name", "Gala"}, {"venue", ""}, {"starts", ""}, {"ends", ""}}))
          .result(),
      http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT coalesce(capacity::text, 'none') || coalesce(registration_closes_at::text, '') FROM "
                      "events WHERE id = 'ev-c'"),
            "none");
}

// Issue 16: the edit form refuses the same way as the create form: the event
// page again (400), the form holding what was typed, each message by its field,
// and nothing saved.
TEST_F(AdminWebTest, ARefusedEventEditKeepsWhatWasTypedAndSaysWhyNextToTheField) {
  const auto event = makeEvent("Launch");
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const std::string path = "/events/" + event.id;
  const auto res = b.post(path, form({{"csrf", csrf},
                                      {"name", "Gala <night>"},
                                      {"venue", "Hall B"},
                                      {"starts", "2026-10-02T10:00"},
                                      {"ends", "2026-10-01T10:00"}}));
  EXPECT_EQ(res.result(), http::status::bad_request);
  const std::string& html = res.body();
  EXPECT_TRUE(has(html, "<h1 id=\"event-name\">Launch</h1>")) << "the event page, with the stored name";
  for (const char* kept : {"id=\"ed-name\" name=\"name\" type=\"text\" required maxlength=\"200\" "
                           "value=\"Gala &lt;night&gt;\">",
                           "id=\"ed-venue\" name=\"venue\" type=\"text\" maxlength=\"200\" value=\"Hall B\">",
                           // As typed, without data-utc: app.js must not replace it with the stored time.
                           "id=\"ed-starts\" name=\"starts\" type=\"datetime-local\" value=\"2026-10-02T10:00\">"}) {
    EXPECT_TRUE(has(html, kept)) << kept << "\n" << html;
  }
  EXPECT_TRUE(has(html, "id=\"ed-ends\" name=\"ends\" type=\"datetime-local\" value=\"2026-10-01T10:00\" "))
      << "as typed, without data-utc";
  expectRefusedField(html, "ed-ends", "2026-10-01T10:00", "The end must not be before the start.");
  EXPECT_FALSE(has(html, "ed-name-error")) << "the name was fine";
  EXPECT_TRUE(has(html, "The event was not saved. Check the fields marked below.")) << html;
  EXPECT_EQ(db.scalar("SELECT name || '|' || venue FROM events"), "Launch|Hall A");

  // An empty name is said at the name; the rest is kept.
  const auto empty = b.post(path, form({{"csrf", csrf}, {"name", ""}, {"venue", "Roof"}}));
  EXPECT_EQ(empty.result(), http::status::bad_request);
  EXPECT_TRUE(has(empty.body(), "value=\"Roof\"")) << empty.body();
  expectRefusedField(empty.body(), "ed-name", "", "The name must be 1 to 200 characters.");
  // Unrefused, the form holds the stored values, the times marked for app.js.
  const auto shown = b.get(path).body();
  EXPECT_TRUE(has(shown, "id=\"ed-name\" name=\"name\" type=\"text\" required maxlength=\"200\" value=\"Launch\">"))
      << shown;
  EXPECT_FALSE(has(shown, "field-error")) << shown;
}

// Issue 16: the new-participant form likewise (the create-event form's mechanism).
TEST_F(AdminWebTest, ARefusedParticipantFormKeepsWhatWasTypedAndSaysWhyNextToTheField) {
  makeUser("taken@example.org", "Taken");
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto bad = b.post("/participants", form({{"csrf", csrf}, {"name", "Ana <x>"}, {"email", "ana at example"}}));
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_TRUE(has(bad.body(), "<details class=\"card drawer\" id=\"new-participant\" open>")) << bad.body();
  EXPECT_TRUE(has(bad.body(),
                  "id=\"p-name\" name=\"name\" type=\"text\" required maxlength=\"200\" "
                  "value=\"Ana &lt;x&gt;\">"))
      << bad.body();
  expectRefusedField(bad.body(), "p-email", "ana at example",
                     "Enter an email like name@example.org (one @, no spaces, at most 254 characters).");
  EXPECT_FALSE(has(bad.body(), "p-name-error")) << "the name was fine";
  EXPECT_TRUE(has(bad.body(), "The participant was not created. Check the fields marked below.")) << bad.body();

  const auto taken = b.post("/participants", form({{"csrf", csrf}, {"name", "Ana"}, {"email", "taken@example.org"}}));
  EXPECT_EQ(taken.result(), http::status::bad_request);
  EXPECT_TRUE(has(taken.body(), "value=\"Ana\"")) << taken.body();
  expectRefusedField(taken.body(), "p-email", "taken@example.org", "A participant with that email already exists.");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users"), "1");
}

TEST_F(AdminWebTest, DeleteIsRefusedOnceCheckInsExistUnlessForced) {
  const auto event = makeEvent("Done");
  const auto user = makeUser("ana@example.org", "Ana");
  ASSERT_TRUE(core::registerForEvent(server.pool(), event.id, user.id, server.clock.systemTime()).has_value());
  ASSERT_TRUE(core::createScanner(server.pool(), "Entrance-Scanner-01", server.clock.systemTime()).has_value());
  ASSERT_TRUE(
      core::assignScanner(server.pool(), "Entrance-Scanner-01", event.id, server.clock.systemTime()).has_value());
  core::IngestRequest req;
  req.eventId = event.id;
  req.scannerId = "Entrance-Scanner-01";
  req.records.push_back(
      {0, user.bleUuid, support::toEpochMillis(server.clock.systemTime() - 90min), "Entrance-Scanner-01"});
  ASSERT_TRUE(core::ingestBatch(server.pool(), req, server.clock.systemTime()).has_value());

  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto page = b.get("/events/" + event.id);
  EXPECT_TRUE(has(page.body(), "Check-ins are stored for this event.")) << "Check-ins are stored for this event.";
  const auto refused = b.post("/events/" + event.id + "/delete", form({{"csrf", csrf}}));
  EXPECT_EQ(refused.result(), http::status::conflict);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events"), "1");
  const auto forced = b.post("/events/" + event.id + "/delete", form({{"csrf", csrf}, {"force", "1"}}));
  EXPECT_EQ(forced.result(), http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events"), "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM check_ins"), "0");
  // Without check-ins no force is needed.
  const auto empty = makeEvent("Empty");
  EXPECT_EQ(b.post("/events/" + empty.id + "/delete", form({{"csrf", csrf}})).result(), http::status::see_other);
}

TEST_F(AdminWebTest, RegistrationsCanBeAddedSearchedAndRemoved) {
  const auto event = makeEvent("Meetup");
  const auto ana = makeUser("ana@example.org", "<b>Ana</b>");
  makeUser("bo@example.org", "Bo");
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const std::string base = "/events/" + event.id;
  EXPECT_EQ(
      b.post(base + "/registrations", form({{"csrf", csrf}, {"email", "ANA@example.org"}}))[http::field::location],
      base + "?notice=registered");
  EXPECT_EQ(
      b.post(base + "/registrations", form({{"csrf", csrf}, {"email", "ana@example.org"}}))[http::field::location],
      base + "?notice=already-registered");
  EXPECT_EQ(b.post(base + "/registrations", form({{"csrf", csrf}, {"email", "zed@example.org"}})).result(),
            http::status::not_found);
  EXPECT_EQ(b.post(base + "/registrations", form({{"csrf", csrf}, {"email", "bo@example.org"}})).result(),
            http::status::see_other);
  const auto all = b.get(base);
  EXPECT_TRUE(has(all.body(), "&lt;b&gt;Ana&lt;/b&gt;")) << "&lt;b&gt;Ana&lt;/b&gt;";
  EXPECT_TRUE(has(all.body(), "bo@example.org")) << "bo@example.org";
  const auto found = b.get(base + "?q=bo%40");
  EXPECT_TRUE(has(found.body(), "bo@example.org")) << "bo@example.org";
  EXPECT_FALSE(has(found.body(), "ana@example.org")) << "ana@example.org";
  EXPECT_EQ(b.post(base + "/registrations/" + ana.id + "/delete", form({{"csrf", csrf}})).result(),
            http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM registrations"), "1");
}

// Issue 16: a refused registration keeps the email in its field with the message under it.
TEST_F(AdminWebTest, ARefusedRegistrationKeepsTheEmailAndSaysWhyNextToTheField) {
  const auto event = makeEvent("Meetup");
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto res =
      b.post("/events/" + event.id + "/registrations", form({{"csrf", csrf}, {"email", "zed<@example.org"}}));
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_TRUE(has(res.body(), "<h1 id=\"event-name\">Meetup</h1>")) << res.body();
  EXPECT_TRUE(has(res.body(),
                  "value=\"zed&lt;@example.org\" aria-invalid=\"true\" aria-describedby=\"reg-email-error\"><p "
                  "class=\"field-error\" id=\"reg-email-error\">No participant has this email. Create the participant "
                  "on the Participants page first.</p>"))
      << res.body();
  EXPECT_TRUE(has(res.body(), "The participant was not registered. Check the field marked below.")) << res.body();
  const auto empty = b.post("/events/" + event.id + "/registrations", form({{"csrf", csrf}, {"email", ""}}));
  EXPECT_EQ(empty.result(), http::status::bad_request);
  EXPECT_TRUE(has(empty.body(), "id=\"reg-email-error\">Enter the participant&#39;s email")) << empty.body();
  EXPECT_EQ(db.scalar("SELECT count(*) FROM registrations"), "0");
}

// Issue 16: door staff check in by hand and revoke; each is in the audit trail
// (who, when, why) and the participants' table marks the row as manual; a
// refused door form keeps what was typed with the message by its field.
TEST_F(AdminWebTest, DoorFormChecksInAndRevokesWithAnAuditTrail) {
  const auto event = makeEvent("Meetup");
  const auto ana = makeUser("ana@example.org", "Ana");
  ASSERT_TRUE(core::registerForEvent(server.pool(), event.id, ana.id, server.clock.systemTime()).has_value());
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const std::string path = "/events/" + event.id;
  const auto shown = b.get(path).body();
  EXPECT_TRUE(has(shown, "<form method=\"post\" action=\"" + path + "/door\">")) << shown;
  EXPECT_TRUE(has(shown, "Nobody has been checked in or revoked by hand.")) << shown;

  // Without the CSRF token nothing is recorded.
  EXPECT_EQ(
      b.post(path + "/door", form({{"email", "ana@example.org"}, {"reason", "x"}, {"action", "check_in"}})).result(),
      http::status::forbidden);

  // Refused: no reason (400), nobody with that email (404), not checked in (409); each keeps the input.
  const auto noReason = b.post(
      path + "/door", form({{"csrf", csrf}, {"email", "ana@example.org"}, {"reason", " "}, {"action", "check_in"}}));
  EXPECT_EQ(noReason.result(), http::status::bad_request);
  EXPECT_TRUE(has(noReason.body(), "value=\"ana@example.org\">")) << noReason.body();
  EXPECT_TRUE(has(noReason.body(),
                  "aria-describedby=\"door-reason-error\"><p class=\"field-error\" id=\"door-reason-error\">Give a "
                  "reason (it is kept in the audit trail).</p>"))
      << noReason.body();
  const auto nobody =
      b.post(path + "/door",
             form({{"csrf", csrf}, {"email", "zed@example.org"}, {"reason", "lost <phone>"}, {"action", "check_in"}}));
  EXPECT_EQ(nobody.result(), http::status::not_found);
  EXPECT_TRUE(has(nobody.body(), "value=\"lost &lt;phone&gt;\">")) << nobody.body();
  EXPECT_TRUE(has(nobody.body(), "id=\"door-email-error\">No participant has this email.</p>")) << nobody.body();
  const auto notIn = b.post(
      path + "/door", form({{"csrf", csrf}, {"email", "ana@example.org"}, {"reason", "x"}, {"action", "revoke"}}));
  EXPECT_EQ(notIn.result(), http::status::conflict);
  EXPECT_TRUE(has(notIn.body(), "This participant is not checked in, so there is nothing to revoke.")) << notIn.body();
  EXPECT_EQ(db.scalar("SELECT count(*) FROM check_in_overrides"), "0");

  const auto in = b.post(
      path + "/door",
      form({{"csrf", csrf}, {"email", "ANA@example.org"}, {"reason", "phone battery dead"}, {"action", "check_in"}}));
  EXPECT_EQ(in.result(), http::status::see_other);
  EXPECT_EQ(in[http::field::location], path + "?notice=door-checked-in#door");
  const auto twice =
      b.post(path + "/door",
             form({{"csrf", csrf}, {"email", "ana@example.org"}, {"reason", "again"}, {"action", "check_in"}}));
  EXPECT_EQ(twice.result(), http::status::conflict);
  EXPECT_TRUE(has(twice.body(), "This participant is already checked in.")) << twice.body();

  const auto after = b.get(path + "?notice=door-checked-in").body();
  EXPECT_TRUE(has(after, "Checked in by hand. It is in the audit trail below.")) << after;
  EXPECT_TRUE(has(after,
                  "<span class=\"badge badge-ok\">attended</span> <span class=\"badge badge-warn\" "
                  "data-source=\"manual\""))
      << after;
  EXPECT_TRUE(has(after,
                  "<td>Ana <span class=\"muted small\">ana@example.org</span></td><td><span class=\"badge "
                  "badge-warn\">checked in</span></td><td>organizer@example.org</td><td>phone battery "
                  "dead</td>"))
      << after;

  ASSERT_EQ(
      b.post(path + "/door",
             form({{"csrf", csrf}, {"email", "ana@example.org"}, {"reason", "wrong person"}, {"action", "revoke"}}))
          .result(),
      http::status::see_other);
  const auto revoked = b.get(path).body();
  EXPECT_TRUE(
      has(revoked, "<span class=\"badge\">no-show</span> <span class=\"badge badge-warn\" data-source=\"manual\""))
      << revoked;
  // Newest first.
  EXPECT_LT(revoked.find("wrong person"), revoked.find("phone battery dead"));
  EXPECT_EQ(db.scalar("SELECT string_agg(action || ':' || admin_email, ',' ORDER BY id) FROM check_in_overrides"),
            "check_in:organizer@example.org,revoke:organizer@example.org");

  // The report API and its CSV say the same.
  const auto api = b.get("/api/events/" + event.id + "/report").body();
  EXPECT_TRUE(has(api, "\"source\":\"manual\"")) << api;
  EXPECT_TRUE(has(api, "\"revoked\":1")) << api;
  const auto csv = b.get(path + "/report.csv").body();
  EXPECT_TRUE(has(csv, ",manual,")) << csv;
  EXPECT_TRUE(has(csv, ",organizer@example.org,wrong person\r\n")) << csv;
}

TEST_F(AdminWebTest, ParticipantsListSearchPagingDisableAndNewBleUuid) {
  for (int i = 0; i < 55; ++i) {
    makeUser("p" + std::to_string(100 + i) + "@example.org", "Person " + std::to_string(100 + i));
  }
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto first = b.get("/participants");
  EXPECT_TRUE(has(first.body(), "1–50 of 55")) << "1–50 of 55";
  EXPECT_TRUE(has(first.body(), "p100@example.org")) << "p100@example.org";
  EXPECT_FALSE(has(first.body(), "p154@example.org")) << "p154@example.org";
  const auto second = b.get("/participants?page=1");
  EXPECT_TRUE(has(second.body(), "51–55 of 55")) << "51–55 of 55";
  EXPECT_TRUE(has(second.body(), "p154@example.org")) << "p154@example.org";
  const auto search = b.get("/api/participants?q=p12&limit=5");
  const auto json = boost::json::parse(search.body());
  EXPECT_EQ(json.at("total").as_int64(), 10);
  EXPECT_EQ(json.at("participants").as_array().size(), 5U);
  // A LIKE wildcard in the search is a literal character.
  EXPECT_EQ(boost::json::parse(b.get("/api/participants?q=%25").body()).at("total").as_int64(), 0);

  const auto created =
      b.post("/participants", form({{"csrf", csrf}, {"name", "<script>x</script>"}, {"email", "new@example.org"}}));
  EXPECT_EQ(created.result(), http::status::see_other);
  EXPECT_TRUE(has(b.get("/participants?q=new%40").body(), "&lt;script&gt;x&lt;/script&gt;"))
      << "&lt;script&gt;x&lt;/script&gt;";
  EXPECT_EQ(b.post("/participants", form({{"csrf", csrf}, {"name", "Dup"}, {"email", "new@example.org"}})).result(),
            http::status::bad_request);

  const std::string id = db.scalar("SELECT id FROM users WHERE email = 'new@example.org'");
  const std::string before = db.scalar("SELECT ble_uuid FROM users WHERE id = '" + id + "'");
  EXPECT_EQ(b.post("/participants/" + id + "/regenerate-ble-uuid", form({{"csrf", csrf}})).result(),
            http::status::see_other);
  EXPECT_NE(db.scalar("SELECT ble_uuid FROM users WHERE id = '" + id + "'"), before);
  EXPECT_EQ(b.post("/participants/" + id + "/disable", form({{"csrf", csrf}})).result(), http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT disabled FROM users WHERE id = '" + id + "'"), "t");
  EXPECT_EQ(b.post("/participants/" + id + "/enable", form({{"csrf", csrf}})).result(), http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT disabled FROM users WHERE id = '" + id + "'"), "f");
}

TEST_F(AdminWebTest, ScannerKeyIsShownOnceAndWorksUntilRevoked) {
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  const auto created = b.post("/scanners", form({{"csrf", csrf}, {"scannerId", "Entrance-Scanner-01"}}));
  ASSERT_EQ(created.result(), http::status::created);
  const std::string marker = "<code id=\"api-key\">";
  const auto at = created.body().find(marker);
  ASSERT_NE(at, std::string::npos);
  const std::string key =
      created.body().substr(at + marker.size(), created.body().find('<', at + marker.size()) - at - marker.size());
  EXPECT_TRUE(has(created.body(), "data-copy=\"api-key\"")) << "data-copy=\"api-key\"";
  auto who = core::authenticateScanner(server.pool(), key);
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(*who, "Entrance-Scanner-01");
  const auto list = b.get("/scanners");
  EXPECT_FALSE(has(list.body(), key)) << key;
  EXPECT_TRUE(has(list.body(), "Entrance-Scanner-01")) << "Entrance-Scanner-01";
  EXPECT_TRUE(has(b.get("/api/scanners").body(), "\"revokedAt\":null")) << "\"revokedAt\":null";
  EXPECT_EQ(b.post("/scanners", form({{"csrf", csrf}, {"scannerId", "Entrance-Scanner-01"}})).result(),
            http::status::conflict);
  EXPECT_EQ(b.post("/scanners", form({{"csrf", csrf}, {"scannerId", "bad id!"}})).result(), http::status::bad_request);
  EXPECT_EQ(b.post("/scanners/Entrance-Scanner-01/revoke", form({{"csrf", csrf}})).result(), http::status::see_other);
  EXPECT_FALSE(core::authenticateScanner(server.pool(), key).has_value());
}

TEST_F(AdminWebTest, ScannersAreAssignedToEventsAndUnassignedThroughTheForms) {
  const auto event = makeEvent("Meetup <b>");
  const auto other = makeEvent("Other");
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  ASSERT_EQ(b.post("/scanners", form({{"csrf", csrf}, {"scannerId", "Entrance-Scanner-01"}})).result(),
            http::status::created);
  // Every scanner row offers the events it is not assigned to.
  auto page = b.get("/scanners");
  EXPECT_TRUE(has(page.body(), "action=\"/scanners/Entrance-Scanner-01/assignments\"")) << page.body();
  EXPECT_TRUE(has(page.body(), "<option value=\"" + event.id + "\">")) << page.body();
  EXPECT_TRUE(has(page.body(), "Meetup &lt;b&gt;")) << "the event's name, escaped";
  EXPECT_TRUE(has(page.body(), "Not assigned to any event")) << "Not assigned to any event";

  const std::string assign = "/scanners/Entrance-Scanner-01/assignments";
  auto res = b.post(assign, form({{"csrf", csrf}, {"eventId", event.id}}));
  EXPECT_EQ(res.result(), http::status::see_other);
  EXPECT_EQ(res[http::field::location], "/scanners?notice=scanner-assigned");
  EXPECT_TRUE(*core::isAssigned(server.pool(), "Entrance-Scanner-01", event.id));
  EXPECT_FALSE(*core::isAssigned(server.pool(), "Entrance-Scanner-01", other.id));
  EXPECT_EQ(b.post(assign, form({{"csrf", csrf}, {"eventId", event.id}}))[http::field::location],
            "/scanners?notice=already-assigned");
  EXPECT_EQ(b.post(assign, form({{"csrf", csrf}, {"eventId", "no-such-event"}})).result(), http::status::not_found);
  EXPECT_EQ(b.post("/scanners/ghost/assignments", form({{"csrf", csrf}, {"eventId", event.id}})).result(),
            http::status::not_found);

  page = b.get("/scanners?notice=scanner-assigned");
  EXPECT_TRUE(has(page.body(), "Scanner assigned")) << "the notice";
  const std::string unassign = "/scanners/Entrance-Scanner-01/assignments/" + event.id + "/delete";
  EXPECT_TRUE(has(page.body(), "action=\"" + unassign + "\"")) << page.body();
  EXPECT_TRUE(has(b.get("/api/scanners").body(), "\"events\":[\"" + event.id + "\"]")) << b.get("/api/scanners").body();

  res = b.post(unassign, form({{"csrf", csrf}}));
  EXPECT_EQ(res.result(), http::status::see_other);
  EXPECT_EQ(res[http::field::location], "/scanners?notice=scanner-unassigned");
  EXPECT_FALSE(*core::isAssigned(server.pool(), "Entrance-Scanner-01", event.id));
  // Without the CSRF token nothing changes.
  EXPECT_EQ(b.post(assign, form({{"eventId", event.id}})).result(), http::status::forbidden);
  EXPECT_FALSE(*core::isAssigned(server.pool(), "Entrance-Scanner-01", event.id));
}

TEST_F(AdminWebTest, ReportJsonAndCsvAreCoresRenderings) {
  const auto event = makeEvent("Conference");
  const auto ana = makeUser("ana@example.org", "Ana \"<script>\"");
  const auto bo = makeUser("bo@example.org", "Bo, Jr.");
  const auto walk = makeUser("walk@example.org", "Walker");
  ASSERT_TRUE(core::registerForEvent(server.pool(), event.id, ana.id, server.clock.systemTime()).has_value());
  ASSERT_TRUE(core::registerForEvent(server.pool(), event.id, bo.id, server.clock.systemTime()).has_value());
  Browser b = signedIn();

  // Before any sync: "not synced", distinct from "synced, nobody came".
  const auto before = boost::json::parse(b.get("/api/events/" + event.id + "/report").body());
  auto report = core::buildReport(server.pool(), event.id, server.clock.systemTime());
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->synced);
  EXPECT_EQ(before, boost::json::parse(core::renderReportJson(*report)));

  ASSERT_TRUE(core::createScanner(server.pool(), "S1", server.clock.systemTime()).has_value());
  ASSERT_TRUE(core::assignScanner(server.pool(), "S1", event.id, server.clock.systemTime()).has_value());
  core::IngestRequest req;
  req.eventId = event.id;
  req.scannerId = "S1";
  const auto t0 = support::toEpochMillis(server.clock.systemTime() - 100min);
  req.records.push_back({0, ana.bleUuid, t0, "S1"});
  req.records.push_back({1, ana.bleUuid, t0 + 60'000, "S1"});
  req.records.push_back({2, walk.bleUuid, t0 + 120'000, "S1"});
  ASSERT_TRUE(core::ingestBatch(server.pool(), req, server.clock.systemTime()).has_value());

  const auto res = b.get("/api/events/" + event.id + "/report");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_THAT(std::string(res[http::field::content_type]), HasSubstr("application/json"));
  EXPECT_EQ(std::string(res[http::field::cache_control]), "no-store");
  report = core::buildReport(server.pool(), event.id, server.clock.systemTime());
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(res.body(), core::renderReportJson(*report));
  EXPECT_TRUE(report->synced);
  EXPECT_EQ(report->attended, 1);
  EXPECT_EQ(report->walkIns, 1);
  EXPECT_EQ(report->noShows, 1);

  const auto csv = b.get("/events/" + event.id + "/report.csv");
  EXPECT_EQ(csv.result(), http::status::ok);
  EXPECT_EQ(std::string(csv[http::field::content_type]), "text/csv; charset=utf-8");
  EXPECT_EQ(std::string(csv[http::field::content_disposition]),
            "attachment; filename=\"attendance-" + event.id + ".csv\"");
  EXPECT_EQ(csv.body(), "\xEF\xBB\xBF" + core::renderReportCsv(*report));
  EXPECT_TRUE(has(csv.body(), "\r\n")) << "\r\n";
  EXPECT_TRUE(has(csv.body(), "\"Bo, Jr.\"")) << "\"Bo, Jr.\"";
  EXPECT_TRUE(has(csv.body(), "\"Ana \"\"<script>\"\"\"")) << "\"Ana \"\"<script>\"\"\"";

  EXPECT_EQ(b.get("/api/events/nope/report").result(), http::status::not_found);
  EXPECT_EQ(b.get("/events/nope/report.csv").result(), http::status::not_found);
  const auto page = b.get("/events/" + event.id);
  EXPECT_TRUE(has(page.body(), "data-report-url=\"/api/events/" + event.id + "/report\""))
      << "data-report-url=\"/api/events/" + event.id + "/report\"";
  EXPECT_TRUE(has(page.body(), "Fetch Attendance Data")) << "Fetch Attendance Data";
  EXPECT_TRUE(has(page.body(), "Download CSV")) << "Download CSV";
}

TEST_F(AdminWebTest, AssetsAreCacheableWithEtags) {
  Browser b = signedIn();
  const auto js = b.get("/assets/app.js");
  ASSERT_EQ(js.result(), http::status::ok);
  EXPECT_EQ(std::string(js[http::field::content_type]), "text/javascript; charset=utf-8");
  EXPECT_THAT(std::string(js[http::field::cache_control]), HasSubstr("immutable"));
  const std::string etag(js[http::field::etag]);
  EXPECT_EQ(b.get("/assets/app.js", {{"If-None-Match", etag}}).result(), http::status::not_modified);
}

// Issue 9: text that is not UTF-8 used to reach PostgreSQL, which refuses it
// ("invalid byte sequence for encoding UTF8") and the console answered 500.
// It is a 400 naming the parameter or field, decided before any query runs.
TEST_F(AdminWebTest, QueryParametersThatAreNotUtf8AreA400NamingTheParameter) {
  const auto event = makeEvent("Meetup");
  Browser b = signedIn();
  const std::vector<std::string> lists = {"/participants", "/api/participants", "/events/" + event.id,
                                          "/api/events/" + event.id + "/report"};
  // A lone byte, a sequence cut short, a surrogate, an overlong '/', a code point past U+10FFFF.
  const std::vector<std::string> values = {"%FF", "abc%C3", "%ED%A0%80", "%C0%AF", "%F4%90%80%80"};
  for (const auto& list : lists) {
    for (const auto& value : values) {
      SCOPED_TRACE(list + "?q=" + value);
      const auto res = b.get(list + "?q=" + value);
      EXPECT_EQ(res.result(), http::status::bad_request);
      EXPECT_TRUE(has(res.body(), "parameter q is not valid UTF-8")) << res.body();
    }
  }
  // Other parameters too, and the valid text next to them still works.
  EXPECT_EQ(b.get("/participants?page=%FF").result(), http::status::bad_request);
  EXPECT_EQ(b.get("/events?notice=%FE").result(), http::status::bad_request);
  EXPECT_EQ(b.get("/participants?q=%C3%A9").result(), http::status::ok);
}

TEST_F(AdminWebTest, PathParametersThatAreNotUtf8AreA400NamingTheParameter) {
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  for (const std::string target :
       {"/events/%FF", "/events/%FF/report.csv", "/api/events/%FF/report", "/events/ev%ED%A0%80"}) {
    SCOPED_TRACE(target);
    const auto res = b.get(target);
    EXPECT_EQ(res.result(), http::status::bad_request);
    EXPECT_TRUE(has(res.body(), "path parameter id is not valid UTF-8")) << res.body();
  }
  for (const std::string target : {"/events/%FF", "/events/%FF/delete", "/events/%FF/registrations",
                                   "/participants/%FF/disable", "/scanners/%FF/revoke"}) {
    SCOPED_TRACE(target);
    const auto res = b.post(target, form({{"csrf", csrf}, {"name", "x"}, {"email", "x@example.org"}}));
    EXPECT_EQ(res.result(), http::status::bad_request);
    EXPECT_TRUE(has(res.body(), "path parameter id is not valid UTF-8")) << res.body();
  }
  const auto res = b.post("/events/ev-1/registrations/%C3/delete", form({{"csrf", csrf}}));
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_TRUE(has(res.body(), "path parameter userId is not valid UTF-8")) << res.body();
}

TEST_F(AdminWebTest, FormFieldsThatAreNotUtf8AreA400NamingTheField) {
  const auto event = makeEvent("Meetup");
  makeUser("ana@example.org", "Ana");
  const std::string invalid = "\xFF";  // form() percent-encodes it: %FF
  {                                    // The sign-in form, before any session exists.
    Browser anon{server.port()};
    const std::string loginCsrf = csrfField(anon.get("/login").body());
    const auto res =
        anon.post("/login", form({{"csrf", loginCsrf}, {"email", "a" + invalid}, {"password", kPassword}}));
    EXPECT_EQ(res.result(), http::status::bad_request);
    EXPECT_TRUE(has(res.body(), "field email is not valid UTF-8")) << res.body();
  }
  Browser b = signedIn();
  const std::string csrf = b.csrf();
  struct Case {
    std::string target;
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"/events", form({{"csrf", csrf}, {"name", invalid}, {"venue", "Hall"}}), "name"},
      {"/events", form({{"csrf", csrf}, {"name", "Party"}, {"venue", "Hall \xC3"}}), "venue"},
      {"/events/" + event.id, form({{"csrf", csrf}, {"name", "Party \xED\xA0\x80"}, {"venue", ""}}), "name"},
      {"/events/" + event.id + "/registrations", form({{"csrf", csrf}, {"email", "ana@example.org" + invalid}}),
       "email"},
      {"/participants", form({{"csrf", csrf}, {"name", "Zo\xC3"}, {"email", "zoe@example.org"}}), "name"},
      {"/participants", form({{"csrf", csrf}, {"name", "Zoe"}, {"email", "zo\xC0\xAF@example.org"}}), "email"},
      {"/scanners", form({{"csrf", csrf}, {"scannerId", "door" + invalid}}), "scannerId"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target + " " + c.field);
    const auto res = b.post(c.target, c.body);
    EXPECT_EQ(res.result(), http::status::bad_request);
    EXPECT_TRUE(has(res.body(), "field " + c.field + " is not valid UTF-8")) << res.body();
  }
  // A field name that is not UTF-8 is refused without being echoed.
  const auto res = b.post("/participants", "csrf=" + csrf + "&%FF=1&name=Zoe&email=zoe%40example.org");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_TRUE(has(res.body(), "a field name is not valid UTF-8")) << res.body();
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users"), "1");
  EXPECT_EQ(db.scalar("SELECT name FROM events"), "Meetup");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM scanners"), "0");
}

// Searches are cut to 200 bytes; the cut used to land inside a character.
TEST_F(AdminWebTest, ASearchCutAtItsLimitNeverSplitsACharacter) {
  const auto event = makeEvent("Meetup");
  std::string search = "a";
  for (int i = 0; i < 150; ++i) search += "\xC3\xA9";  // 'é' past the limit; byte 200 is inside one
  const std::string q = "?q=" + urlEncode(search);
  Browser b = signedIn();
  const std::vector<std::string> lists = {"/participants", "/api/participants", "/events/" + event.id};
  for (const auto& list : lists) {
    SCOPED_TRACE(list);
    EXPECT_EQ(b.get(list + q).result(), http::status::ok);
  }
  // The sign-in form cuts the email at 254 bytes to key its attempt counter.
  std::string email = "a";
  for (int i = 0; i < 200; ++i) email += "\xC3\xA9";
  Browser other{server.port()};
  EXPECT_EQ(other.login(email, kPassword).result(), http::status::unauthorized);
}

}  // namespace
}  // namespace attendance::admin_web::testing
