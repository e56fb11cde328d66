// The admin console over real sockets and a real PostgreSQL database: every
// route's access rule, sign-in failures and limits, sessions, CSRF.
#include "admin/web_console_test_base.hpp"
#include "web/responses.hpp"

namespace attendance::admin_web::testing {
namespace {

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

// The cookie's flags, the CSP and the sign-in limits are the shared web security
// suite's (tests/support/web_security.hpp, web_security_site.cpp), run against
// the participant pages too.
TEST_F(AdminWebTest, SignInOpensTheConsoleAndStoresTheSessionHashed) {
  Browser b{server.port()};
  const auto page = b.get("/login");
  EXPECT_EQ(page.result(), http::status::ok);
  EXPECT_TRUE(has(page.body(), "Sign in")) << "Sign in";
  const auto res = b.post(
      "/login", form({{"csrf", csrfField(page.body())}, {"email", "ORGANIZER@example.org"}, {"password", kPassword}}));
  ASSERT_EQ(res.result(), http::status::see_other);
  EXPECT_EQ(res[http::field::location], "/events");
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

// Every form refuses a missing or wrong token (the shared suite); a script may send it as a header.
TEST_F(AdminWebTest, ScriptsMaySendTheCsrfTokenAsAHeader) {
  Browser b = signedIn();
  EXPECT_EQ(b.post("/logout", "", {{"X-CSRF-Token", "wrong"}}).result(), http::status::forbidden);
  EXPECT_EQ(b.get("/events").result(), http::status::ok);
  const auto res = b.post("/logout", "", {{"X-CSRF-Token", b.csrf()}});
  EXPECT_EQ(res.result(), http::status::see_other);
  EXPECT_EQ(res[http::field::location], "/login");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM admin_sessions"), "0") << "the session row is gone";
}

TEST_F(AdminWebTest, SessionsExpire) {
  Browser b = signedIn();
  server.clock.advance(12h + 1s);
  EXPECT_EQ(b.get("/events").result(), http::status::see_other);
}

}  // namespace
}  // namespace attendance::admin_web::testing
