// The web security suite (web_security.hpp): what the admin console's tests
// checked of it, asked of every server with signed-in pages over HTTP only:
// cookie flags, CSRF on every state-changing form, the sign-in form's own
// token, per-account and per-address sign-in limits, escaping of stored text in
// every page, the CSP and no inline script, no session fixation, sign-out that
// ends the session on the server, and 4xx (never 500) for hostile form bodies.
#include "support/web_security.hpp"

#include <gmock/gmock.h>

#include <cctype>
#include <regex>

#include <fmt/format.h>

#include "support/admin_form.hpp"

namespace attendance::testing::web_security {

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string percentEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The Set-Cookie value of cookie `name` in the last response, or "".
std::string setCookieOf(const WebBrowser& b, const std::string& name) {
  for (const auto& line : b.setCookies) {
    if (line.starts_with(name + "=")) return line;
  }
  return {};
}

}  // namespace

std::string formBody(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += percentEncode(k) + "=" + percentEncode(v);
  }
  return out;
}

ClientResponse WebBrowser::send(const std::string& method, const std::string& target, const std::string& body,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string r = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", method, target, port_);
  std::string jar;
  for (const auto& [k, v] : cookies) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
  if (!jar.empty()) r += "Cookie: " + jar + "\r\n";
  for (const auto& [k, v] : headers) r += k + ": " + v + "\r\n";
  if (method == "POST" || !body.empty()) r += fmt::format("Content-Length: {}\r\n", body.size());
  r += "\r\n" + body;
  Client c{port_};
  ClientResponse res = c.request(r);
  setCookies.clear();
  for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
    const std::string line{it->value()};
    setCookies.push_back(line);
    const auto eq = line.find('=');
    const auto semi = line.find(';');
    const std::string name = line.substr(0, eq);
    const std::string value = line.substr(eq + 1, semi - eq - 1);
    if (value.empty() || has(line, "Max-Age=0")) {
      cookies.erase(name);
    } else {
      cookies[name] = value;
    }
  }
  return res;
}

ClientResponse WebSecurity::signIn(WebBrowser& b, const std::string& email, const std::string& password) {
  const auto form = b.get(site->traits().signIn);
  EXPECT_EQ(form.result_int(), 200);
  return b.post(site->traits().signIn,
                formBody({{"csrf", csrfField(form.body())}, {"email", email}, {"password", password}}));
}

WebBrowser WebSecurity::signedIn() {
  WebBrowser b{site->port()};
  const auto res = signIn(b, site->traits().email, site->traits().password);
  EXPECT_EQ(res.result_int(), 303) << res.body();
  return b;
}

std::string WebSecurity::csrf(WebBrowser& b) { return csrfField(b.get(site->traits().home).body()); }

TEST_P(WebSecurity, SignInSetsAnHttpOnlySameSiteSessionCookieAndOnlyTlsMakesItSecure) {
  WebBrowser b{site->port()};
  const auto res = signIn(b, site->traits().email, site->traits().password);
  ASSERT_EQ(res.result_int(), 303) << res.body();
  const std::string cookie = setCookieOf(b, sessionCookie());
  ASSERT_FALSE(cookie.empty()) << "no " << sessionCookie() << " cookie";
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=" + site->traits().sameSite));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, Not(HasSubstr("Domain")));
  EXPECT_THAT(cookie, Not(HasSubstr("Secure"))) << "plain HTTP without the TLS option";
  EXPECT_EQ(b.get(site->traits().home).result_int(), 200);

  // Behind TLS (the secure-cookies option): every cookie is Secure with the __Host- prefix.
  const auto tls = GetParam().make({.secureCookies = true});
  WebBrowser t{tls->port()};
  const auto form = t.get(tls->traits().signIn);
  ASSERT_EQ(form.result_int(), 200);
  ASSERT_FALSE(t.setCookies.empty()) << "the sign-in form's token cookie";
  for (const auto& line : t.setCookies) {
    EXPECT_TRUE(line.starts_with("__Host-")) << line;
    EXPECT_THAT(line, HasSubstr("; Secure"));
    EXPECT_THAT(line, HasSubstr("; HttpOnly"));
  }
  const auto in = t.post(tls->traits().signIn, formBody({{"csrf", csrfField(form.body())},
                                                         {"email", tls->traits().email},
                                                         {"password", tls->traits().password}}));
  ASSERT_EQ(in.result_int(), 303) << in.body();
  const std::string secure = setCookieOf(t, "__Host-" + sessionCookie());
  ASSERT_FALSE(secure.empty()) << "no __Host-" << sessionCookie() << " cookie";
  EXPECT_THAT(secure, HasSubstr("; Secure"));
  EXPECT_THAT(secure, HasSubstr("; HttpOnly"));
  EXPECT_THAT(secure, HasSubstr("; Path=/"));
  EXPECT_THAT(secure, Not(HasSubstr("Domain")));
  EXPECT_EQ(t.get(tls->traits().home).result_int(), 200);
}

TEST_P(WebSecurity, EveryPageHasTheCspAndNoInlineScript) {
  std::vector<std::string> pages = site->plantHostileText("Ana Lima", "ana.lima@example.org");
  WebBrowser b = signedIn();
  pages.push_back(site->traits().home);
  WebBrowser anon{site->port()};
  std::vector<std::pair<WebBrowser*, std::string>> visits{{&anon, site->traits().signIn}};
  for (const auto& p : pages) visits.emplace_back(&b, p);
  // A <script> element without src, an on…= handler attribute, a javascript: URL.
  static const std::regex kInline{R"re(<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|javascript:)re", std::regex::icase};
  for (const auto& [browser, page] : visits) {
    SCOPED_TRACE(page);
    const auto res = browser->get(page);
    ASSERT_EQ(res.result_int(), 200);
    const std::string csp{res["Content-Security-Policy"]};
    EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
    EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
    EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
    EXPECT_THAT(csp, Not(HasSubstr("unsafe-inline")));
    EXPECT_THAT(csp, Not(HasSubstr("unsafe-eval")));
    EXPECT_EQ(res["X-Frame-Options"], "DENY");
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(res[http::field::cache_control], "no-store");
    std::smatch m;
    EXPECT_FALSE(std::regex_search(res.body(), m, kInline)) << "inline script: " << m.str(0);
  }
}

TEST_P(WebSecurity, StoredTextIsEscapedInEveryPage) {
  const std::string name = "<script>alert(1)</script><img src=x onerror=alert(2)> \"quoted\" 'single'";
  const std::string email = "\"'><svg/onload=alert(3)>@evil.example";
  const std::vector<std::string> pages = site->plantHostileText(name, email);
  ASSERT_FALSE(pages.empty());
  WebBrowser b = signedIn();
  for (const auto& page : pages) {
    SCOPED_TRACE(page);
    const auto res = b.get(page);
    ASSERT_EQ(res.result_int(), 200);
    const std::string& html = res.body();
    EXPECT_FALSE(has(html, "<script>alert")) << "<script>alert";
    EXPECT_FALSE(has(html, "<img src=x")) << "<img src=x";
    EXPECT_FALSE(has(html, "<svg/onload")) << "<svg/onload";
    EXPECT_FALSE(has(html, "\"quoted\"")) << "a raw double quote from stored text";
    EXPECT_TRUE(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;") || has(html, "&lt;svg/onload=alert(3)&gt;"))
        << "the page shows neither planted text";
  }
}

TEST_P(WebSecurity, EveryStateChangingFormRefusesAMissingOrWrongTokenAndChangesNothing) {
  WebBrowser b = signedIn();
  const std::string token = csrf(b);
  ASSERT_FALSE(token.empty());
  WebBrowser other = signedIn();  // another session of the same account
  const std::string othersToken = csrf(other);
  ASSERT_NE(othersToken, token) << "a token per session";
  const auto forms = site->forms();
  ASSERT_FALSE(forms.empty());
  const std::string before = site->state();
  for (const auto& f : forms) {
    SCOPED_TRACE(f.target);
    EXPECT_EQ(b.post(f.target, formBody(f.fields)).result_int(), 403) << "no token";
    for (const std::string& wrong : {std::string{"wrong"}, othersToken, token.substr(1), std::string{}}) {
      auto fields = f.fields;
      fields.emplace_back("csrf", wrong);
      EXPECT_EQ(b.post(f.target, formBody(fields)).result_int(), 403) << "token " << wrong;
    }
    // A cross-site post of another type cannot carry it either: refused before or after the body.
    const int json = b.post(f.target, "{\"csrf\":\"" + token + "\"}", "application/json").result_int();
    EXPECT_TRUE(json == 403 || json == 415) << json;
  }
  EXPECT_EQ(site->state(), before);
  EXPECT_EQ(b.get(site->traits().home).result_int(), 200) << "still signed in: the sign-out was refused too";
  // With its token the sign-out works: the refusals were the token's.
  EXPECT_EQ(b.post(site->traits().signOut, formBody({{"csrf", token}})).result_int(), 303);
  EXPECT_EQ(b.get(site->traits().home).result_int(), 303);
}

TEST_P(WebSecurity, TheSignInFormNeedsItsOwnToken) {
  WebBrowser b{site->port()};
  ASSERT_EQ(b.get(site->traits().signIn).result_int(), 200);
  const auto credentials = std::vector<std::pair<std::string, std::string>>{{"email", site->traits().email},
                                                                            {"password", site->traits().password}};
  EXPECT_EQ(b.post(site->traits().signIn, formBody(credentials)).result_int(), 403);
  // A token from another browser's form does not fit this browser's cookie.
  WebBrowser other{site->port()};
  auto fields = credentials;
  fields.emplace_back("csrf", csrfField(other.get(site->traits().signIn).body()));
  EXPECT_EQ(b.post(site->traits().signIn, formBody(fields)).result_int(), 403);
  EXPECT_FALSE(b.cookies.contains(sessionCookie()));
  EXPECT_EQ(b.get(site->traits().home).result_int(), 303);
}

TEST_P(WebSecurity, WrongPasswordAndUnknownEmailGetTheSameAnswer) {
  WebBrowser b{site->port()};
  const auto wrong = signIn(b, site->traits().email, "not the password");
  EXPECT_EQ(wrong.result_int(), 401);
  EXPECT_TRUE(has(wrong.body(), "Wrong email or password.")) << wrong.body();
  const auto unknown = signIn(b, "nobody@example.org", "not the password");
  EXPECT_EQ(unknown.result_int(), 401);
  EXPECT_TRUE(has(unknown.body(), "Wrong email or password.")) << unknown.body();
  EXPECT_FALSE(b.cookies.contains(sessionCookie()));
  EXPECT_EQ(b.get(site->traits().home).result_int(), 303);
}

TEST_P(WebSecurity, SignInsAreLimitedPerAccount) {
  WebBrowser b{site->port()};
  for (int i = 0; i < site->traits().failuresPerAccount; ++i) {
    EXPECT_EQ(signIn(b, site->traits().email, "wrong password!").result_int(), 401);
  }
  // Even the right password is refused while limited, and says when to retry.
  const auto limited = signIn(b, site->traits().email, site->traits().password);
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_TRUE(has(limited.body(), "Too many failed sign-ins")) << limited.body();
  const std::string retryAfter{limited[http::field::retry_after]};
  ASSERT_FALSE(retryAfter.empty());
  const int retry = std::stoi(retryAfter);
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 15 * 60);
  EXPECT_FALSE(b.cookies.contains(sessionCookie()));
  site->advanceClock(std::chrono::seconds{retry + 1});
  EXPECT_EQ(signIn(b, site->traits().email, site->traits().password).result_int(), 303);
}

TEST_P(WebSecurity, SignInsAreLimitedPerAddress) {
  WebBrowser b{site->port()};
  for (int i = 0; i < site->traits().failuresPerAddress; ++i) {
    EXPECT_EQ(signIn(b, "guess" + std::to_string(i) + "@example.org", "wrong password!").result_int(), 401);
  }
  const auto limited = signIn(b, site->traits().email, site->traits().password);
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_FALSE(limited[http::field::retry_after].empty());
  EXPECT_FALSE(b.cookies.contains(sessionCookie()));
}

// Session fixation: a session id an attacker planted before sign-in must not
// become the victim's session. Every sign-in gets a token of its own.
TEST_P(WebSecurity, SignInNeverAdoptsASessionIdFromBeforeIt) {
  const std::string planted = "planted-by-an-attacker-0123456789abcdef";
  WebBrowser b{site->port()};
  b.cookies[sessionCookie()] = planted;
  EXPECT_EQ(b.get(site->traits().home).result_int(), 303) << "a made-up cookie is no session";
  const auto form = b.get(site->traits().signIn);
  const auto before = b.cookies;  // what the browser held before signing in (the form's token included)
  const auto res = b.post(site->traits().signIn, formBody({{"csrf", csrfField(form.body())},
                                                           {"email", site->traits().email},
                                                           {"password", site->traits().password}}));
  ASSERT_EQ(res.result_int(), 303) << res.body();
  const std::string session = b.cookies[sessionCookie()];
  ASSERT_FALSE(session.empty());
  for (const auto& [name, value] : before) EXPECT_NE(session, value) << "the session took cookie " << name;
  WebBrowser replay{site->port()};
  replay.cookies[sessionCookie()] = planted;
  EXPECT_EQ(replay.get(site->traits().home).result_int(), 303);
  // Another sign-in of the same account gets another token.
  WebBrowser again = signedIn();
  EXPECT_NE(again.cookies[sessionCookie()], session);
}

TEST_P(WebSecurity, SignOutEndsTheSessionOnTheServer) {
  WebBrowser b = signedIn();
  const std::string cookie = b.cookies[sessionCookie()];
  ASSERT_FALSE(cookie.empty());
  const auto res = b.post(site->traits().signOut, formBody({{"csrf", csrf(b)}}));
  EXPECT_EQ(res.result_int(), 303);
  EXPECT_FALSE(b.cookies.contains(sessionCookie())) << "the cookie is cleared";
  // The old cookie, replayed, is no session: it ended on the server, not only in the browser.
  WebBrowser replay{site->port()};
  replay.cookies[sessionCookie()] = cookie;
  EXPECT_EQ(replay.get(site->traits().home).result_int(), 303);
}

TEST_P(WebSecurity, OversizedOrInvalidFormBodiesAreRefusedWith4xxNever500) {
  const std::size_t limit = site->traits().formBodyLimit;
  ASSERT_GT(limit, 0U);
  auto refused = [](const ClientResponse& res, int status, const std::string& says = {}) {
    EXPECT_EQ(res.result_int(), status) << res.body().substr(0, 500);
    if (!says.empty()) {
      EXPECT_TRUE(has(res.body(), says)) << res.body().substr(0, 500);
    }
  };
  // The sign-in form, before any session exists.
  WebBrowser anon{site->port()};
  const std::string formToken = csrfField(anon.get(site->traits().signIn).body());
  const std::string signInPath = site->traits().signIn;
  refused(
      anon.post(
          signInPath,
          formBody({{"csrf", formToken}, {"email", site->traits().email}, {"password", std::string(limit + 1, 'x')}})),
      413);
  refused(anon.post(signInPath, "csrf=" + formToken + "&email=a%FF%40example.org&password=x"), 400,
          "field email is not valid UTF-8");
  refused(anon.post(signInPath, "csrf=" + formToken + "&email=a%C0%AF%40example.org&password=x"), 400,
          "field email is not valid UTF-8");
  refused(anon.post(signInPath, "csrf=" + formToken + "&%FF=1&email=a%40example.org&password=x"), 400,
          "a field name is not valid UTF-8");
  refused(anon.post(signInPath, "csrf=" + formToken + "&email=%zz&password=x"), 400, "malformed %-escape");
  refused(anon.post(signInPath, "csrf=" + formToken + "&email=\xFF&password=x"), 400, "field email is not valid UTF-8");

  // Every form of a signed-in user.
  WebBrowser b = signedIn();
  const std::string token = csrf(b);
  const std::string before = site->state();
  for (const auto& f : site->forms()) {
    SCOPED_TRACE(f.target);
    auto fields = f.fields;
    fields.emplace_back("csrf", token);
    const std::string body = formBody(fields);
    refused(b.post(f.target, body + "&pad=" + std::string(limit, 'x')), 413);
    refused(b.post(f.target, body + "&note=caf%C3"), 400, "field note is not valid UTF-8");
    refused(b.post(f.target, body + "&%ED%A0%80=1"), 400, "a field name is not valid UTF-8");
    refused(b.post(f.target, body + "&note=%4"), 400, "malformed %-escape");
  }
  EXPECT_EQ(site->state(), before);
  EXPECT_EQ(b.get(site->traits().home).result_int(), 200);
}

}  // namespace attendance::testing::web_security
