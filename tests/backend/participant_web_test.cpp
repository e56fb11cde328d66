// The participant web app (docs/participant-web.md) against a real PostgreSQL
// over real sockets: sign-up, the sign-up form's token, the sign-in limit shared
// with the JSON API, "my events" after a sync, the export of everything stored
// and the deletion of an account, on the pages and through the JSON API. The
// security the admin console has is the shared suite's (participant_web_security_site.cpp).
#include <gtest/gtest.h>

#include <map>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <attendance/core/core.hpp>

#include "backend/backend_test_base.hpp"
#include "support/admin_form.hpp"
#include "support/test_client.hpp"
#include "support/web_security.hpp"

namespace core = attendance::core;
namespace hs = attendance::http_server;
namespace json = boost::json;
using attendance::testing::Client;
using attendance::testing::ClientResponse;
using attendance::testing::number;
using attendance::testing::web_security::formBody;
using attendance::testing::web_security::WebBrowser;
using namespace std::chrono_literals;

namespace {

using namespace attendance::testing::backend_test;

// A browser's cookie jar and forms (the security suite's WebBrowser), remembering the csrf field of
// the last page that had one.
class Browser {
public:
  explicit Browser(std::uint16_t port) : web_(port) {}

  ClientResponse get(const std::string& path) { return remember(web_.get(path)); }

  // POSTs the form; a "csrf" field is sent only when given.
  ClientResponse post(const std::string& path, const std::map<std::string, std::string>& fields) {
    return remember(web_.post(path, formBody({fields.begin(), fields.end()})));
  }

  // The value of the hidden csrf field of the last page that had one.
  [[nodiscard]] const std::string& csrf() const { return csrf_; }
  [[nodiscard]] std::string cookie(const std::string& name) const {
    auto it = web_.cookies.find(name);
    return it == web_.cookies.end() ? std::string{} : it->second;
  }
  // The Set-Cookie values of the last response.
  [[nodiscard]] const std::vector<std::string>& setCookies() const { return web_.setCookies; }

private:
  ClientResponse remember(ClientResponse res) {
    if (auto token = attendance::testing::csrfField(res.body()); !token.empty()) csrf_ = std::move(token);
    return res;
  }

  WebBrowser web_;
  std::string csrf_;
};

class ParticipantWebTest : public BackendTest {
protected:
  // After one participant who had been seen deleted their account: the report of kEvent counts them
  // only in erasedIds, and none of `traces` is in its JSON, CSV, unknown-devices CSV, table or the roster.
  void expectOnlyAnAnonymousCount(const core::EventReport& before, const std::vector<std::string>& traces) {
    core::EventReport after;
    withPool([&](core::ConnectionPool& pool) {
      after = core::buildReport(pool, kEvent, std::chrono::system_clock::now()).value();
    });
    EXPECT_EQ(after.registered, before.registered - 1);
    EXPECT_EQ(after.attended, before.attended - 1);
    EXPECT_EQ(after.unknownDevices, before.unknownDevices) << "not an unknown device either";
    EXPECT_EQ(after.erasedIds, 1);
    EXPECT_NE(core::renderReportJson(after).find("\"erasedIds\":1"), std::string::npos);
    const auto roster =
        Client{backend->port}.request(request("GET", fmt::format("/api/events/{}/roster", kEvent), {}, apiKey));
    ASSERT_EQ(roster.result_int(), 200) << roster.body();
    for (const std::string& rendered :
         {core::renderReportJson(after), core::renderReportCsv(after), core::renderUnknownDevicesCsv(after),
          core::renderReportTable(after), roster.body()}) {
      for (const auto& trace : traces)
        EXPECT_EQ(rendered.find(trace), std::string::npos) << trace << " in " << rendered;
    }
  }

  // Signs up through the form; returns the new user's id.
  std::string signUp(Browser& b, const std::string& email, const std::string& password = "correct horse") {
    EXPECT_EQ(b.get("/signup").result_int(), 200);
    auto res =
        b.post("/signup", {{"csrf", b.csrf()}, {"displayName", "Carol <b>"}, {"email", email}, {"password", password}});
    EXPECT_EQ(res.result_int(), 303) << res.body();
    EXPECT_EQ(res[hs::http::field::location], "/?notice=welcome");
    return db->scalar("SELECT id::text FROM users WHERE email = '" + email + "'");
  }
};

TEST_F(ParticipantWebTest, SignUpSignsInWithAHardenedCookieAndShowsTheIdAsTextAndQrCode) {
  Browser b{backend->port};
  auto res = b.get("/");
  EXPECT_EQ(res.result_int(), 303) << "a stranger is sent to sign in";
  EXPECT_EQ(res[hs::http::field::location], "/signin");

  const std::string userId = signUp(b, "carol@example.com");
  ASSERT_FALSE(userId.empty());
  const std::string sessionCookie = b.setCookies().at(0);
  EXPECT_TRUE(sessionCookie.starts_with("attendance_participant=atp_")) << sessionCookie;
  EXPECT_NE(sessionCookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(sessionCookie.find("; SameSite=Lax"), std::string::npos);
  EXPECT_EQ(sessionCookie.find("Secure"), std::string::npos) << "no Secure without --secure-cookies";

  res = b.get("/?notice=welcome");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const std::string bleUuid = db->scalar("SELECT ble_uuid::text FROM users WHERE id = '" + userId + "'");
  EXPECT_NE(res.body().find("<code id=\"ble-uuid\">" + bleUuid + "</code>"), std::string::npos);
  EXPECT_NE(res.body().find("<svg class=\"qr\""), std::string::npos);
  EXPECT_NE(res.body().find("Carol &lt;b&gt;"), std::string::npos) << "the name is escaped";
  EXPECT_EQ(res.body().find("Carol <b>"), std::string::npos);
  EXPECT_NE(res.body().find("Welcome!"), std::string::npos);
  // The CSP and the other headers, CSRF, escaping, sign-in limits and the sign-out are the shared web
  // security suite's, run against these pages and the admin console (participant_web_security_site.cpp).

  // The JSON API knows the same account.
  auto me = Client{backend->port}.request(request("GET", "/api/me", {}, b.cookie("attendance_participant")));
  ASSERT_EQ(me.result_int(), 200);
  EXPECT_EQ(parseObject(me.body()).at("bleUuid").as_string(), bleUuid);

  // Signing out ends the session itself, not only the cookie.
  const std::string token = b.cookie("attendance_participant");
  res = b.post("/signout", {{"csrf", b.csrf()}});
  EXPECT_EQ(res.result_int(), 303);
  EXPECT_EQ(Client{backend->port}.request(request("GET", "/api/me", {}, token)).result_int(), 401);
}

TEST_F(ParticipantWebTest, TheSignUpFormNeedsItsTokenAndTheSignedInFormsWorkWithTheirs) {
  Browser b{backend->port};
  ASSERT_EQ(b.get("/signup").result_int(), 200);
  // No token, then a wrong one: no account.
  auto res = b.post("/signup", {{"displayName", "Mallory"}, {"email", "m@example.com"}, {"password", "12345678"}});
  EXPECT_EQ(res.result_int(), 403);
  res = b.post(
      "/signup",
      {{"csrf", "x" + b.csrf()}, {"displayName", "Mallory"}, {"email", "m@example.com"}, {"password", "12345678"}});
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_EQ(number(*db, "SELECT count(*) FROM users WHERE email = 'm@example.com'"), 0);

  // The signed-in forms' refusals are the shared suite's (participant_web_security_site.cpp).
  const std::string userId = signUp(b, "carol@example.com");
  ASSERT_EQ(b.get("/").result_int(), 200);
  const std::string csrf = b.csrf();
  const std::string registered = "SELECT count(*) FROM registrations WHERE user_id = '" + userId + "'";
  res = b.post(fmt::format("/events/{}/register", kEvent), {{"csrf", csrf}});
  EXPECT_EQ(res.result_int(), 303) << res.body();
  EXPECT_EQ(number(*db, registered), 1);
  res = b.post(fmt::format("/events/{}/unregister", kEvent), {{"csrf", csrf}});
  EXPECT_EQ(res.result_int(), 303);
  EXPECT_EQ(number(*db, registered), 0);

  // Another content type is refused before its body is read.
  Client c{backend->port};
  const std::string body = "{\"csrf\":\"" + csrf + "\"}";
  auto json =
      c.request(fmt::format("POST /events/{}/register HTTP/1.1\r\nHost: test\r\nCookie: attendance_participant={}\r\n"
                            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                            kEvent, b.cookie("attendance_participant"), body.size(), body));
  EXPECT_EQ(json.result_int(), 415);
}

TEST_F(ParticipantWebTest, TheSignInLimitIsTheJsonApisOne) {
  Browser b{backend->port};
  signUp(b, "carol@example.com");
  ASSERT_EQ(b.get("/").result_int(), 200);
  ASSERT_EQ(b.post("/signout", {{"csrf", b.csrf()}}).result_int(), 303);
  ASSERT_EQ(b.get("/signin").result_int(), 200);
  // Four wrong passwords on the page, the fifth through the API: one count.
  for (int i = 0; i < 4; ++i) {
    auto res = b.post("/signin", {{"csrf", b.csrf()}, {"email", "carol@example.com"}, {"password", "wrong-pass"}});
    EXPECT_EQ(res.result_int(), 401) << res.body();
    EXPECT_NE(res.body().find("Wrong email or password."), std::string::npos);
    EXPECT_NE(res.body().find("value=\"carol@example.com\""), std::string::npos) << "the email is kept";
  }
  auto api = Client{backend->port}.request(
      request("POST", "/api/sessions", R"({"email":"carol@example.com","password":"wrong-pass"})"));
  EXPECT_EQ(api.result_int(), 401);
  auto res = b.post("/signin", {{"csrf", b.csrf()}, {"email", "carol@example.com"}, {"password", "correct horse"}});
  EXPECT_EQ(res.result_int(), 429) << "even the right password waits";
  EXPECT_FALSE(res[hs::http::field::retry_after].empty());
  EXPECT_NE(res.body().find("Too many failed sign-ins."), std::string::npos);
  EXPECT_TRUE(b.cookie("attendance_participant").empty());

  backend->clock.advance(16min);
  res = b.post("/signin", {{"csrf", b.csrf()}, {"email", "carol@example.com"}, {"password", "correct horse"}});
  EXPECT_EQ(res.result_int(), 303) << res.body();
  EXPECT_FALSE(b.cookie("attendance_participant").empty());
}

TEST_F(ParticipantWebTest, MyEventsShowsTheCheckInAfterASyncAndTheExportHoldsWhatIsStored) {
  Browser b{backend->port};
  const std::string userId = signUp(b, "carol@example.com");
  ASSERT_EQ(b.get("/").result_int(), 200);
  ASSERT_EQ(b.post(fmt::format("/events/{}/register", kEvent), {{"csrf", b.csrf()}}).result_int(), 303);
  auto res = b.get("/");
  EXPECT_NE(res.body().find("No check-ins synced yet"), std::string::npos);

  const std::string bleUuid = db->scalar("SELECT ble_uuid::text FROM users WHERE id = '" + userId + "'");
  const auto t = nowMs() - 60'000;
  auto synced = Client{backend->port}.request(request("POST", "/batchCheckIn", batch({record(bleUuid, t)}), apiKey));
  ASSERT_EQ(synced.result_int(), 200) << synced.body();
  const std::string iso = core::formatIsoUtc(std::chrono::system_clock::time_point{std::chrono::milliseconds{t}});
  res = b.get("/");
  EXPECT_NE(res.body().find(fmt::format("Checked in at <time datetime=\"{}\">{} {} UTC</time>", iso, iso.substr(0, 10),
                                        iso.substr(11, 5))),
            std::string::npos)
      << res.body();

  res = b.get("/me/export.json");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[hs::http::field::content_disposition], "attachment; filename=\"attendance-my-data.json\"");
  EXPECT_FALSE(res["Content-Security-Policy"].empty());
  const auto doc = json::parse(res.body()).as_object();
  const auto& account = doc.at("account").as_object();
  EXPECT_EQ(account.at("userId").as_string(), userId);
  EXPECT_EQ(account.at("email").as_string(), "carol@example.com");
  EXPECT_EQ(account.at("displayName").as_string(), "Carol <b>");
  EXPECT_EQ(account.at("bleUuid").as_string(), bleUuid);
  EXPECT_FALSE(account.contains("passwordHash"));
  ASSERT_EQ(doc.at("registrations").as_array().size(), 1U);
  EXPECT_EQ(doc.at("registrations").as_array()[0].at("eventId").as_string(), kEvent);
  ASSERT_EQ(doc.at("checkIns").as_array().size(), 1U);
  const auto& checkIn = doc.at("checkIns").as_array()[0].as_object();
  EXPECT_EQ(checkIn.at("checkInTime").as_string(), iso);
  EXPECT_EQ(checkIn.at("scannerId").as_string(), kScanner);
  EXPECT_EQ(checkIn.at("bleUuid").as_string(), bleUuid);
  EXPECT_TRUE(checkIn.at("syncedAt").is_string());
  EXPECT_EQ(doc.at("sessions").as_array().size(), 1U);
  EXPECT_TRUE(doc.at("signInAttempts").as_array().empty()) << "sign-up is no sign-in attempt";
  // Another participant's data is not in it.
  EXPECT_EQ(res.body().find(aliceUuid), std::string::npos);

  // Door staff revoke the check-in, then check them in by hand: the page follows the report's rule
  // (the latest override), and the export lists both with who and why.
  withPool([&](core::ConnectionPool& pool) {
    ASSERT_TRUE(core::recordOverride(
        pool, {kEvent, "carol@example.com", core::OverrideAction::revoke, "door@example.org", "a friend's phone"},
        std::chrono::system_clock::now()));
  });
  res = b.get("/");
  EXPECT_NE(res.body().find("Not checked in (revoked at the door)"), std::string::npos) << res.body();
  withPool([&](core::ConnectionPool& pool) {
    ASSERT_TRUE(core::recordOverride(
        pool, {kEvent, "carol@example.com", core::OverrideAction::check_in, "door@example.org", "showed the QR code"},
        std::chrono::system_clock::now() + 1s));
  });
  res = b.get("/");
  EXPECT_NE(res.body().find(fmt::format("{} {} UTC</time> (at the door)", iso.substr(0, 10), iso.substr(11, 5))),
            std::string::npos)
      << "the scanner's time, decided by hand";
  const auto overrides = json::parse(b.get("/me/export.json").body()).as_object().at("checkInOverrides").as_array();
  ASSERT_EQ(overrides.size(), 2U);
  EXPECT_EQ(overrides[0].at("action").as_string(), "revoke");
  EXPECT_EQ(overrides[0].at("reason").as_string(), "a friend's phone");
  EXPECT_EQ(overrides[1].at("action").as_string(), "check_in");
  EXPECT_EQ(overrides[1].at("by").as_string(), "door@example.org");
}

// A stolen session must not become a password oracle: wrong passwords given to delete the account (the
// page or DELETE /api/me) are failed sign-ins of the account, under the same limit (issue 12).
TEST_F(ParticipantWebTest, WrongPasswordsToDeleteCountAsFailedSignInsAndAreLimited) {
  Browser b{backend->port};
  const std::string userId = signUp(b, "carol@example.com");
  ASSERT_EQ(b.get("/account").result_int(), 200);
  const std::string token = b.cookie("attendance_participant");
  const auto apiDelete = [&](std::string_view password) {
    return Client{backend->port}.request(
        request("DELETE", "/api/me", fmt::format(R"({{"password":"{}"}})", password), token));
  };
  // Three wrong guesses on the page, one through the API, one at the sign-in form: the fifth failure.
  for (int i = 0; i < 3; ++i) {
    auto res = b.post("/account/delete", {{"csrf", b.csrf()}, {"password", fmt::format("guess-{}", i)}});
    EXPECT_EQ(res.result_int(), 401) << res.body();
  }
  EXPECT_EQ(apiDelete("guess-3").result_int(), 401);
  EXPECT_EQ(Client{backend->port}
                .request(request("POST", "/api/sessions", R"({"email":"carol@example.com","password":"guess-4"})"))
                .result_int(),
            401);
  // Now even the right password is refused, on both, and nothing is deleted.
  auto res = b.post("/account/delete", {{"csrf", b.csrf()}, {"password", "correct horse"}});
  EXPECT_EQ(res.result_int(), 429) << res.body();
  EXPECT_FALSE(res[hs::http::field::retry_after].empty());
  EXPECT_NE(res.body().find("Too many wrong passwords. Nothing was deleted."), std::string::npos) << res.body();
  res = apiDelete("correct horse");
  EXPECT_EQ(res.result_int(), 429) << res.body();
  EXPECT_FALSE(res[hs::http::field::retry_after].empty());
  EXPECT_EQ(number(*db, "SELECT count(*) FROM users WHERE id = '" + userId + "'"), 1);
  EXPECT_EQ(number(*db,
                   "SELECT count(*) FROM participant_login_attempts WHERE email = 'carol@example.com' AND NOT "
                   "succeeded"),
            5);
  // After the window the owner can delete it.
  backend->clock.advance(16min);
  res = apiDelete("correct horse");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(number(*db, "SELECT count(*) FROM users WHERE id = '" + userId + "'"), 0);
}

TEST_F(ParticipantWebTest, DeletingTheAccountNeedsThePasswordAndLeavesOnlyAnAnonymousCountInTheReport) {
  Browser b{backend->port};
  const std::string userId = signUp(b, "carol@example.com");
  ASSERT_EQ(b.get("/").result_int(), 200);
  ASSERT_EQ(b.post(fmt::format("/events/{}/register", kEvent), {{"csrf", b.csrf()}}).result_int(), 303);
  const std::string bleUuid = db->scalar("SELECT ble_uuid::text FROM users WHERE id = '" + userId + "'");
  const auto t = nowMs() - 60'000;
  ASSERT_EQ(Client{backend->port}
                .request(request("POST", "/batchCheckIn", batch({record(bleUuid, t), record(aliceUuid, t)}), apiKey))
                .result_int(),
            200);
  core::EventReport before;
  withPool([&](core::ConnectionPool& pool) {
    before = core::buildReport(pool, kEvent, std::chrono::system_clock::now()).value();
  });
  EXPECT_EQ(before.attended, 2);

  ASSERT_EQ(b.get("/account").result_int(), 200);
  auto res = b.post("/account/delete", {{"csrf", b.csrf()}, {"password", "not my password"}});
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_NE(res.body().find("That is not your password. Nothing was deleted."), std::string::npos);
  EXPECT_EQ(number(*db, "SELECT count(*) FROM users WHERE id = '" + userId + "'"), 1);

  res = b.post("/account/delete", {{"csrf", b.csrf()}, {"password", "correct horse"}});
  EXPECT_EQ(res.result_int(), 303) << res.body();
  EXPECT_EQ(res[hs::http::field::location], "/signin?notice=deleted");
  EXPECT_TRUE(b.cookie("attendance_participant").empty());
  EXPECT_EQ(number(*db, "SELECT count(*) FROM users WHERE id = '" + userId + "'"), 0);
  EXPECT_EQ(number(*db, "SELECT count(*) FROM registrations WHERE user_id = '" + userId + "'"), 0);
  EXPECT_EQ(number(*db, "SELECT count(*) FROM participant_sessions WHERE user_id = '" + userId + "'"), 0);
  EXPECT_EQ(number(*db, "SELECT count(*) FROM participant_login_attempts WHERE email = 'carol@example.com'"), 0);
  EXPECT_EQ(b.get("/").result_int(), 303) << "signed out";

  // The report: they are gone from the participants; their sighting stays, linked to no one, and is
  // only counted: no id of theirs in any rendering of the report, nor in the scanners' roster (ADR 0076).
  expectOnlyAnAnonymousCount(before, {userId, bleUuid, "carol@example.com", "Carol"});
  EXPECT_EQ(number(*db, "SELECT count(*) FROM check_ins WHERE ble_uuid = '" + bleUuid + "'"), 1);
  // Their phone, still advertising the id, is seen again: counted among the erased, still shown nowhere.
  ASSERT_EQ(Client{backend->port}
                .request(request("POST", "/batchCheckIn", batch({record(bleUuid, t + 5000)}), apiKey))
                .result_int(),
            200);
  expectOnlyAnAnonymousCount(before, {userId, bleUuid, "carol@example.com", "Carol"});
}

// Issue 12: the JSON API's data rights are the page's, through the same core calls.
TEST_F(ParticipantWebTest, TheApiExportIsThePagesDocument) {
  Browser b{backend->port};
  const std::string userId = signUp(b, "carol@example.com");
  ASSERT_EQ(b.get("/").result_int(), 200);
  ASSERT_EQ(b.post(fmt::format("/events/{}/register", kEvent), {{"csrf", b.csrf()}}).result_int(), 303);
  const std::string token = b.cookie("attendance_participant");
  const auto api = Client{backend->port}.request(request("GET", "/api/me/export", {}, token));
  ASSERT_EQ(api.result_int(), 200) << api.body();
  EXPECT_EQ(api[hs::http::field::cache_control], "no-store");
  const auto page = b.get("/me/export.json");
  ASSERT_EQ(page.result_int(), 200);
  EXPECT_EQ(api.body(), page.body()) << "one document";
  EXPECT_EQ(json::parse(api.body()).at("account").at("userId").as_string(), userId);
  // Without a session: the API's 401, and nobody's data.
  const auto anon = Client{backend->port}.request(request("GET", "/api/me/export"));
  EXPECT_EQ(anon.result_int(), 401);
  EXPECT_EQ(anon.body().find("carol"), std::string::npos);
}

TEST_F(ParticipantWebTest, TheApiErasureNeedsThePasswordAndIsThePages) {
  Browser b{backend->port};
  const std::string userId = signUp(b, "carol@example.com");
  ASSERT_EQ(b.get("/").result_int(), 200);
  ASSERT_EQ(b.post(fmt::format("/events/{}/register", kEvent), {{"csrf", b.csrf()}}).result_int(), 303);
  const std::string token = b.cookie("attendance_participant");
  const std::string userRow = "SELECT count(*) FROM users WHERE id = '" + userId + "'";
  auto del = [&](std::string_view body, std::string_view contentType = "application/json") {
    return Client{backend->port}.request(request("DELETE", "/api/me", body, token, contentType));
  };
  // The session token alone erases nothing (ADR 0076).
  auto res = del({});
  EXPECT_EQ(res.result_int(), 415) << res.body();
  res = del("{}");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(parseObject(res.body()).at("error").as_string(), "\"password\" must be a string") << res.body();
  res = del(R"({"password":"not my password"})");
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_NE(res.body().find("nothing was deleted"), std::string::npos) << res.body();
  res = del("password=correct+horse", "application/x-www-form-urlencoded");
  EXPECT_EQ(res.result_int(), 415);
  EXPECT_EQ(Client{backend->port}.request(request("DELETE", "/api/me", R"({"password":"correct horse"})")).result_int(),
            401)
      << "no token";
  EXPECT_EQ(number(*db, userRow), 1);

  res = del(R"({"password":"correct horse"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("userId").as_string(), userId);
  EXPECT_EQ(number(*db, userRow), 0);
  EXPECT_EQ(number(*db, "SELECT count(*) FROM registrations WHERE user_id = '" + userId + "'"), 0);
  EXPECT_EQ(number(*db, "SELECT count(*) FROM participant_sessions WHERE user_id = '" + userId + "'"), 0);
  // Its session went with it, on the API and on the pages.
  EXPECT_EQ(Client{backend->port}.request(request("GET", "/api/me", {}, token)).result_int(), 401);
  EXPECT_EQ(b.get("/").result_int(), 303);
  EXPECT_EQ(del(R"({"password":"correct horse"})").result_int(), 401);
}

TEST_F(ParticipantWebTest, RefusedSignUpKeepsWhatWasTypedWithTheApisMessageAtItsField) {
  Browser b{backend->port};
  ASSERT_EQ(b.get("/signup").result_int(), 200);
  auto res = b.post("/signup",
                    {{"csrf", b.csrf()}, {"displayName", "Dan"}, {"email", "dan@example.com"}, {"password", "short"}});
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_NE(res.body().find("password must be 8-1024 bytes"), std::string::npos) << res.body();
  EXPECT_NE(res.body().find("value=\"dan@example.com\""), std::string::npos);
  res = b.post("/signup", {{"csrf", b.csrf()},
                           {"displayName", "Alice again"},
                           {"email", "ALICE@example.com"},
                           {"password", "long enough"}});
  EXPECT_EQ(res.result_int(), 409);
  EXPECT_NE(res.body().find("A participant with this email already exists."), std::string::npos);
}

}  // namespace

namespace {

// Issue 12 on the pages: a full event offers the waitlist, "my events" shows the
// place, a freed seat turns it into the confirmation to show at the door, and a
// closed registration is refused with its reason.
TEST_F(ParticipantWebTest, FullEventWaitlistConfirmationAndClosedRegistration) {
  withPool([](core::ConnectionPool& pool) {
    auto ev = core::getEvent(pool, kEvent).value();
    core::EventEdit edit{ev.name, ev.venue, ev.startsAt, ev.endsAt};
    edit.registration = core::RegistrationLimits{1, std::nullopt};  // alice (the seed) has the seat
    ASSERT_TRUE(core::updateEvent(pool, kEvent, edit));
  });
  Browser b{backend->port};
  const std::string userId = signUp(b, "carol@example.com");
  auto res = b.get("/");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("Full: waitlist"), std::string::npos);
  EXPECT_NE(res.body().find("Join the waitlist"), std::string::npos);

  res = b.post(std::string{"/events/"} + kEvent + "/register", {{"csrf", b.csrf()}});
  EXPECT_EQ(res.result_int(), 303);
  EXPECT_EQ(res[hs::http::field::location], "/?notice=waitlisted#my-events");
  res = b.get("/?notice=waitlisted");
  EXPECT_NE(res.body().find("you are on the waitlist"), std::string::npos);
  EXPECT_NE(res.body().find("Waitlisted #1"), std::string::npos);
  res = b.get(std::string{"/events/"} + kEvent);
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("You are number 1 on the waitlist"), std::string::npos);
  EXPECT_EQ(res.body().find("id=\"confirmation\""), std::string::npos);
  // The export shows the place.
  res = b.get("/me/export.json");
  const auto place = json::parse(res.body()).at("waitlist").as_array().at(0).as_object();
  EXPECT_EQ(place.at("eventId").as_string(), kEvent);
  EXPECT_EQ(place.at("position").as_int64(), 1);

  // Alice's seat frees up: carol is promoted and her page is the door confirmation.
  const std::string alice = db->scalar("SELECT id::text FROM users WHERE email = 'alice@example.com'");
  withPool([&](core::ConnectionPool& pool) {
    ASSERT_EQ(core::cancelRegistration(pool, kEvent, alice)->promoted.size(), 1U);
  });
  res = b.get(std::string{"/events/"} + kEvent);
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("id=\"confirmation\""), std::string::npos);
  EXPECT_NE(res.body().find("<dd id=\"conf-name\">Carol &lt;b&gt;</dd>"), std::string::npos);
  EXPECT_NE(res.body().find("<dd id=\"conf-event\">Demo event</dd>"), std::string::npos);
  EXPECT_NE(res.body().find("<svg"), std::string::npos) << "the id's QR code";
  const std::string bleUuid = db->scalar("SELECT ble_uuid::text FROM users WHERE id = '" + userId + "'");
  EXPECT_NE(res.body().find("<code id=\"conf-id\">" + bleUuid + "</code>"), std::string::npos);

  // Closed: a newcomer is refused with the reason, on the page and by status.
  withPool([&](core::ConnectionPool& pool) {
    auto ev = core::getEvent(pool, kEvent).value();
    core::EventEdit edit{ev.name, ev.venue, ev.startsAt, ev.endsAt};
    edit.registration = core::RegistrationLimits{std::nullopt, backend->clock.systemTime() - 1min};
    ASSERT_TRUE(core::updateEvent(pool, kEvent, edit));
  });
  Browser late{backend->port};
  signUp(late, "dave@example.com");
  res = late.get("/");
  EXPECT_NE(res.body().find("Registration closed"), std::string::npos);
  res = late.post(std::string{"/events/"} + kEvent + "/register", {{"csrf", late.csrf()}});
  EXPECT_EQ(res.result_int(), 409);
  EXPECT_NE(res.body().find("Registration for Demo event closed at "), std::string::npos) << res.body();
}

}  // namespace
