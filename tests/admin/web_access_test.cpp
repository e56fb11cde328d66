// The admin console over real sockets and a real PostgreSQL database: every
// route's access rule, sign-in failures and limits, sessions, CSRF.
#include "admin/web_console_test_base.hpp"
#include "web/responses.hpp"

namespace attendance::admin_web::testing {
namespace {

// Every route of the console, with a concrete path.
struct RouteCase {
  http::verb verb;
  std::string target;
};
std::vector<RouteCase> protectedRoutes() {
  return {
      {http::verb::get, "/"},
      {http::verb::get, "/events"},
      {http::verb::post, "/events"},
      {http::verb::get, "/events/ev-1"},
      {http::verb::post, "/events/ev-1"},
      {http::verb::post, "/events/ev-1/delete"},
      {http::verb::post, "/events/ev-1/registrations"},
      {http::verb::post, "/events/ev-1/door"},
      {http::verb::post, "/events/ev-1/registrations/00000000-0000-4000-8000-000000000000/delete"},
      {http::verb::get, "/events/ev-1/report.csv"},
      {http::verb::get, "/participants"},
      {http::verb::post, "/participants"},
      {http::verb::post, "/participants/00000000-0000-4000-8000-000000000000/disable"},
      {http::verb::post, "/participants/00000000-0000-4000-8000-000000000000/enable"},
      {http::verb::post, "/participants/00000000-0000-4000-8000-000000000000/regenerate-ble-uuid"},
      {http::verb::get, "/scanners"},
      {http::verb::post, "/scanners"},
      {http::verb::post, "/scanners/s1/revoke"},
      {http::verb::post, "/scanners/s1/assignments"},
      {http::verb::post, "/scanners/s1/assignments/ev-1/delete"},
      {http::verb::post, "/logout"},
      {http::verb::get, "/api/events"},
      {http::verb::get, "/api/events/ev-1/report"},
      {http::verb::get, "/api/participants"},
      {http::verb::get, "/api/scanners"},
  };
}

TEST_F(AdminWebTest, NothingButLoginAndHealthIsReachableWithoutASession) {
  makeEvent("Secret event");
  Browser anon{server.port()};
  for (const auto& r : protectedRoutes()) {
    SCOPED_TRACE(r.target);
    const auto res = anon.send(r.verb, r.target, "csrf=x", {});
    if (r.target.starts_with("/api/")) {
      EXPECT_EQ(res.result(), http::status::unauthorized);
      EXPECT_TRUE(has(res.body(), "\"error\"")) << "\"error\"";
    } else {
      EXPECT_EQ(res.result(), http::status::see_other);
      // A page (not the default landing) is asked for again after sign-in; a form post is not.
      const bool comeBack = r.verb == http::verb::get && r.target != "/" && r.target != "/events";
      EXPECT_EQ(res[http::field::location], comeBack ? "/login?next=" + urlEncode(r.target) : "/login");
    }
    EXPECT_FALSE(has(res.body(), "Secret event")) << "Secret event";
  }
  EXPECT_EQ(anon.get("/login").result(), http::status::ok);
  EXPECT_EQ(anon.get("/healthz").result(), http::status::ok);
  EXPECT_EQ(anon.get("/assets/app.css").result(), http::status::ok);
  EXPECT_EQ(anon.get("/assets/app.js").result(), http::status::see_other);
  EXPECT_EQ(anon.get("/assets/layout.html").result(), http::status::not_found);
  // A made-up session cookie is no session.
  anon.cookies["attendance_session"] = "forged";
  EXPECT_EQ(anon.get("/events").result(), http::status::see_other);
}

TEST_F(AdminWebTest, SignInSetsAStrictHttpOnlyCookieAndOpensTheConsole) {
  Browser b{server.port()};
  const auto page = b.get("/login");
  EXPECT_EQ(page.result(), http::status::ok);
  EXPECT_TRUE(has(page.body(), "Sign in")) << "Sign in";
  EXPECT_THAT(std::string(page["Content-Security-Policy"]), HasSubstr("script-src 'self'"));
  const auto res = b.post(
      "/login", form({{"csrf", csrfField(page.body())}, {"email", "ORGANIZER@example.org"}, {"password", kPassword}}));
  ASSERT_EQ(res.result(), http::status::see_other);
  EXPECT_EQ(res[http::field::location], "/events");
  std::string sessionCookie;
  for (const auto& f : res.base()) {
    if (f.name() == http::field::set_cookie && f.value().starts_with("attendance_session=")) sessionCookie = f.value();
  }
  EXPECT_THAT(sessionCookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(sessionCookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(sessionCookie, HasSubstr("Path=/"));
  EXPECT_THAT(sessionCookie, Not(HasSubstr("Secure")));
  const auto events = b.get("/events");
  EXPECT_EQ(events.result(), http::status::ok);
  EXPECT_TRUE(has(events.body(), kEmail)) << kEmail;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM admin_sessions"), "1");
  // Stored hashed: the cookie value is not in the table.
  EXPECT_EQ(
      db.scalar("SELECT count(*) FROM admin_sessions WHERE token_hash = '" + b.cookies["attendance_session"] + "'"),
      "0");
}

// Issue 16: after sign-in the admin lands on the page they asked for.
TEST_F(AdminWebTest, SignInLandsOnThePageAskedFor) {
  const auto ev = makeEvent("Gala");
  Browser b{server.port()};
  const std::string asked = "/events/" + ev.id + "?q=ana&page=0";
  const auto bounce = b.get(asked);
  ASSERT_EQ(bounce.result(), http::status::see_other);
  const std::string signIn{bounce[http::field::location]};
  EXPECT_EQ(signIn, "/login?next=" + urlEncode(asked));
  const auto form1 = b.get(signIn);
  ASSERT_EQ(form1.result(), http::status::ok);
  const std::string nextField = "<input type=\"hidden\" name=\"next\" value=\"" + escape(asked) + "\">";
  EXPECT_TRUE(has(form1.body(), nextField)) << form1.body();
  // A wrong password first: the form still knows where to go.
  const auto wrong = b.post(
      "/login", form({{"csrf", csrfField(form1.body())}, {"email", kEmail}, {"password", "nope"}, {"next", asked}}));
  EXPECT_EQ(wrong.result(), http::status::unauthorized);
  EXPECT_TRUE(has(wrong.body(), nextField)) << wrong.body();
  const auto res = b.post(
      "/login", form({{"csrf", csrfField(wrong.body())}, {"email", kEmail}, {"password", kPassword}, {"next", asked}}));
  ASSERT_EQ(res.result(), http::status::see_other);
  EXPECT_EQ(res[http::field::location], asked);
  const auto there = b.get(asked);
  EXPECT_EQ(there.result(), http::status::ok);
  EXPECT_TRUE(has(there.body(), "Gala")) << "Gala";
  // Already signed in, the sign-in link goes straight there.
  EXPECT_EQ(b.get(signIn)[http::field::location], asked);
}

// Only a path on this site is followed after sign-in: anything that a browser
// could read as another site, or that would split the Location header, lands
// on /events instead.
TEST_F(AdminWebTest, SignInFollowsOnlyAPathOnThisSite) {
  const std::vector<std::string> refused = {
      "//evil.example/",
      "/\\evil.example/",
      "\\\\evil.example",
      "https://evil.example/events",
      "http:/evil.example",
      "javascript:alert(1)",
      "evil.example/events",
      "/events\r\nSet-Cookie: x=1",
      "/events\tx",
      std::string("/a\0b", 4),
      "/caf\xC3\xA9",
      "/login",
      "/login?next=//evil.example",
      "/ events",
      " /events",
  };
  for (const std::string& next : refused) {
    SCOPED_TRACE(next);
    Browser b{server.port()};
    const auto page = b.get("/login?next=" + urlEncode(next));
    ASSERT_EQ(page.result(), http::status::ok);
    EXPECT_FALSE(has(page.body(), "name=\"next\"")) << "no next field";
    const auto res = b.post(
        "/login", form({{"csrf", csrfField(page.body())}, {"email", kEmail}, {"password", kPassword}, {"next", next}}));
    ASSERT_EQ(res.result(), http::status::see_other);
    EXPECT_EQ(res[http::field::location], "/events");
    EXPECT_EQ(b.get("/login?next=" + urlEncode(next))[http::field::location], "/events");
  }
}

TEST(SafeNextPath, AcceptsOnlyAPathOnThisSite) {
  for (const char* ok : {"/", "/events", "/events/ev-1?q=ana%20b&page=2", "/participants#x", "/events/a%2F%2Fb"}) {
    EXPECT_EQ(safeNextPath(ok), std::optional<std::string>(ok)) << ok;
  }
  for (const char* bad : {"", "//evil.example", "/\\evil.example", "/a\\b", "https://evil.example", "evil", "/a b",
                          "/a\x7f", "/a\n", "/login", "/login?x=1", "/logout"}) {
    EXPECT_EQ(safeNextPath(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(safeNextPath("/" + std::string(2000, 'a')), std::nullopt);
}

TEST_F(AdminWebTest, SecureCookiesUseTheHostPrefix) {
  TestDatabase otherDb;
  WebOptions o = WebOptions::forTests();
  o.secureCookies = true;
  TestServer tls{otherDb, o};
  core::AdminAuthConfig s;
  s.opsLimit = 1;
  s.memLimit = 8192;
  ASSERT_TRUE(core::createAdmin(tls.pool(), kEmail, kPassword, s, tls.clock.systemTime()).has_value());
  Browser b{tls.port()};
  const auto res = b.login(kEmail, kPassword);
  ASSERT_EQ(res.result(), http::status::see_other);
  bool found = false;
  for (const auto& f : res.base()) {
    if (f.name() == http::field::set_cookie && f.value().starts_with("__Host-attendance_session=")) {
      found = true;
      EXPECT_THAT(std::string(f.value()), HasSubstr("; Secure"));
      EXPECT_THAT(std::string(f.value()), HasSubstr("Path=/"));
      EXPECT_THAT(std::string(f.value()), Not(HasSubstr("Domain")));
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(b.get("/events").result(), http::status::ok);
}

TEST_F(AdminWebTest, WrongPasswordAndUnknownEmailGetTheSameAnswer) {
  Browser b{server.port()};
  const auto wrong = b.login(kEmail, "not the password");
  EXPECT_EQ(wrong.result(), http::status::unauthorized);
  EXPECT_TRUE(has(wrong.body(), "Wrong email or password.")) << "Wrong email or password.";
  EXPECT_FALSE(b.cookies.contains("attendance_session"));
  const auto unknown = b.login("nobody@example.org", "not the password");
  EXPECT_EQ(unknown.result(), http::status::unauthorized);
  EXPECT_TRUE(has(unknown.body(), "Wrong email or password.")) << "Wrong email or password.";
  EXPECT_EQ(b.get("/events").result(), http::status::see_other);
}

TEST_F(AdminWebTest, SignInWithoutTheFormsCsrfTokenIsRefused) {
  Browser b{server.port()};
  (void)b.get("/login");
  const auto res = b.post("/login", form({{"email", kEmail}, {"password", kPassword}}));
  EXPECT_EQ(res.result(), http::status::forbidden);
  EXPECT_FALSE(b.cookies.contains("attendance_session"));
  // A token from another browser's form does not fit this browser's cookie.
  Browser other{server.port()};
  const std::string foreign = csrfField(other.get("/login").body());
  EXPECT_EQ(b.post("/login", form({{"csrf", foreign}, {"email", kEmail}, {"password", kPassword}})).result(),
            http::status::forbidden);
}

TEST_F(AdminWebTest, SignInsAreLimitedPerAccount) {
  Browser b{server.port()};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.login(kEmail, "wrong password!").result(), http::status::unauthorized);
  // Even the right password is refused while limited, and says when to retry.
  const auto limited = b.login(kEmail, kPassword);
  EXPECT_EQ(limited.result(), http::status::too_many_requests);
  EXPECT_TRUE(has(limited.body(), "Too many failed sign-ins")) << "Too many failed sign-ins";
  const int retry = std::stoi(std::string(limited[http::field::retry_after]));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 15 * 60);
  EXPECT_FALSE(b.cookies.contains("attendance_session"));
  // Another account from another address is not affected... (same address here, below its limit)
  server.clock.advance(std::chrono::seconds{retry} + 1s);
  EXPECT_EQ(b.login(kEmail, kPassword).result(), http::status::see_other);
}

TEST_F(AdminWebTest, SignInsAreLimitedPerAddress) {
  Browser b{server.port()};
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(b.login("guess" + std::to_string(i) + "@example.org", "wrong password!").result(),
              http::status::unauthorized);
  }
  const auto limited = b.login(kEmail, kPassword);
  EXPECT_EQ(limited.result(), http::status::too_many_requests);
  EXPECT_FALSE(limited[http::field::retry_after].empty());
}

// Attack (found by bench/backend/load.sh under-attack, issue 9 §3): a burst of
// sign-ins at the real Argon2id cost, as §1 did to the backend. Before, they were
// hashed on the console's database pool: 32 at a time kept report reads waiting
// 4-6 s (p50) and the server held a 64 MiB hash per database worker; in this test
// (32 sign-ins, the defaults) the read was still unanswered at the client's 5 s
// deadline. Now they hash on a pool of their own: past its queue a sign-in is 429
// at once, and a read sent while the queue is full is answered before it drains.
TEST(AdminWebSignInBurst, SignInsPastTheHashingQueueGet429AndReadsDoNotWaitBehindThem) {
  TestDatabase db;
  WebOptions options = WebOptions::forTests();
  options.adminOpsLimit = WebOptions{}.adminOpsLimit;  // the real cost: libsodium INTERACTIVE, 64 MiB
  options.adminMemLimit = WebOptions{}.adminMemLimit;
  options.maxFailuresPerAddress = 1000;  // every sign-in here comes from 127.0.0.1
  options.passwordThreads = 1;
  options.maxPendingPasswords = 2;
  TestServer server{db, options};
  core::AdminAuthConfig cheap;
  cheap.opsLimit = 1;
  cheap.memLimit = 8192;
  ASSERT_TRUE(core::createAdmin(server.pool(), kEmail, kPassword, cheap, server.clock.systemTime()));
  Browser reader{server.port()};
  ASSERT_EQ(reader.login(kEmail, kPassword).result(), http::status::see_other);

  constexpr int kSignIns = 12;
  struct Answer {
    unsigned status;
    std::string retryAfter;
    std::chrono::steady_clock::time_point at;
  };
  std::promise<void> refusedOnce;
  std::once_flag refusal;
  std::vector<std::future<Answer>> burst;
  for (int i = 0; i < kSignIns; ++i) {
    burst.push_back(std::async(std::launch::async, [&, i] {
      Browser b{server.port()};
      const auto res = b.login("burst" + std::to_string(i) + "@example.org", "wrong password!");
      Answer a{res.result_int(), std::string{res[http::field::retry_after]}, std::chrono::steady_clock::now()};
      if (a.status == 429) std::call_once(refusal, [&] { refusedOnce.set_value(); });
      return a;
    }));
  }
  // A refusal means the queue is full: at least two hashes are still to come.
  const bool queueFull = refusedOnce.get_future().wait_for(10s) == std::future_status::ready;
  const auto read = reader.get("/api/events");
  const auto readDone = std::chrono::steady_clock::now();
  EXPECT_EQ(read.result(), http::status::ok);

  int refused = 0;
  auto lastHashed = std::chrono::steady_clock::time_point{};
  for (auto& f : burst) {
    const Answer a = f.get();
    if (a.status == 429) {
      ++refused;
      EXPECT_EQ(a.retryAfter, "1");
    } else {
      EXPECT_EQ(a.status, 401U);
      lastHashed = std::max(lastHashed, a.at);
    }
  }
  ASSERT_TRUE(queueFull) << "no sign-in was refused: all " << kSignIns << " were queued for hashing";
  // One hashing and two queued at most; the rest were told to come back.
  EXPECT_GE(refused, kSignIns - 3);
  EXPECT_LT(readDone, lastHashed) << "the read waited for the burst's password hashing";
}

TEST_F(AdminWebTest, EveryStateChangingRouteRefusesAMissingOrWrongCsrfToken) {
  const auto event = makeEvent("Keep me");
  Browser b = signedIn();
  for (const auto& r : protectedRoutes()) {
    if (r.verb != http::verb::post) continue;
    SCOPED_TRACE(r.target);
    const std::string target = r.target == "/events/ev-1/delete" ? "/events/" + event.id + "/delete" : r.target;
    EXPECT_EQ(b.post(target, form({{"name", "x"}, {"force", "1"}})).result(), http::status::forbidden);
    EXPECT_EQ(b.post(target, form({{"csrf", "wrong"}, {"name", "x"}})).result(), http::status::forbidden);
    // A cross-site JSON post cannot supply it either.
    EXPECT_EQ(b.post(target, "{}", {{"Content-Type", "application/json"}}).result(), http::status::forbidden);
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM events"), "1");
  EXPECT_EQ(b.get("/events").result(), http::status::ok);  // still signed in: logout was refused too
  // The header works for scripts.
  EXPECT_EQ(b.post("/logout", "", {{"X-CSRF-Token", b.csrf()}}).result(), http::status::see_other);
}

TEST_F(AdminWebTest, LogoutEndsTheSession) {
  Browser b = signedIn();
  const std::string cookie = b.cookies["attendance_session"];
  const auto res = b.post("/logout", form({{"csrf", b.csrf()}}));
  EXPECT_EQ(res.result(), http::status::see_other);
  EXPECT_EQ(res[http::field::location], "/login");
  Browser replay{server.port()};
  replay.cookies["attendance_session"] = cookie;
  EXPECT_EQ(replay.get("/events").result(), http::status::see_other);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM admin_sessions"), "0");
}

TEST_F(AdminWebTest, SessionsExpire) {
  Browser b = signedIn();
  server.clock.advance(12h + 1s);
  EXPECT_EQ(b.get("/events").result(), http::status::see_other);
}

}  // namespace
}  // namespace attendance::admin_web::testing
