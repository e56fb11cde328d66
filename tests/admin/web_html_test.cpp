// Pure helpers: escaping, templates, forms, cookies and the embedded assets.
#include <gtest/gtest.h>

#include <stdexcept>

#include "web/assets.hpp"
#include "web/html.hpp"
#include "web/pages.hpp"

namespace attendance::admin_web {
namespace {

TEST(Html, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(escape("Zoë Ångström"), "Zoë Ångström");
}

TEST(Html, TemplateEscapesDoubleBracesAndKeepsTripleRaw) {
  EXPECT_EQ(renderTemplate("<p>{{name}}</p>{{{raw}}}", {{"name", "<b>"}, {"raw", "<i>ok</i>"}}),
            "<p>&lt;b&gt;</p><i>ok</i>");
  EXPECT_THROW((void)renderTemplate("{{missing}}", {}), std::logic_error);
  EXPECT_THROW((void)renderTemplate("{{open", {}), std::logic_error);
}

// The sentence a refused form gives, for the 400 page.
std::string refusal(std::string_view body) {
  auto f = parseForm(body);
  return f ? std::string{"(accepted)"} : f.error().message;
}

TEST(Html, ParsesUrlEncodedForms) {
  auto parsed = parseForm("email=a%40b.org&password=p+w%26d&empty=&flag&name=Zo%C3%AB");
  ASSERT_TRUE(parsed);
  const FormFields& f = *parsed;
  EXPECT_EQ(formValue(f, "email"), "a@b.org");
  EXPECT_EQ(formValue(f, "password"), "p w&d");
  EXPECT_EQ(formValue(f, "empty"), "");
  EXPECT_EQ(formValue(f, "flag"), "");
  EXPECT_EQ(formValue(f, "name"), "Zo\xC3\xAB");
  EXPECT_EQ(formValue(f, "absent"), "");
  EXPECT_EQ(refusal("a=%4"), "field a has a malformed %-escape");
  EXPECT_EQ(refusal("a=%zz"), "field a has a malformed %-escape");
  EXPECT_EQ(refusal("%z=1"), "the form has a malformed %-escape in a field name");
}

TEST(Html, FormFieldsMustBeUtf8) {
  for (const char* value : {"%FF", "abc%C3", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "\xFF"}) {
    EXPECT_EQ(refusal(std::string("csrf=x&email=") + value), "field email is not valid UTF-8") << value;
  }
  EXPECT_EQ(refusal("csrf=x&%FF=1"), "a field name is not valid UTF-8");
  std::string longName(100, 'n');
  longName += "=%FF";
  EXPECT_EQ(refusal(longName), "field " + std::string(64, 'n') + "... is not valid UTF-8");
}

TEST(Html, FindsCookies) {
  EXPECT_EQ(cookieValue("a=1; attendance_session=xyz; b=2", "attendance_session"), "xyz");
  EXPECT_EQ(cookieValue("xattendance_session=no", "attendance_session"), "");
  EXPECT_EQ(cookieValue("", "a"), "");
}

TEST(Html, UrlEncodesReservedCharacters) { EXPECT_EQ(urlEncode("a b/<c>&é"), "a%20b%2F%3Cc%3E%26%C3%A9"); }

TEST(Assets, AreEmbeddedWithTypesAndVersion) {
  const auto* css = assets::find("app.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->contentType, "text/css; charset=utf-8");
  EXPECT_NE(css->body.find("--accent"), std::string_view::npos);
  ASSERT_NE(assets::find("app.js"), nullptr);
  ASSERT_NE(assets::find("layout.html"), nullptr);
  EXPECT_EQ(assets::find("nope.css"), nullptr);
  EXPECT_EQ(assets::version().size(), 12U);
}

TEST(Pages, EscapeUserStringsInEveryPage) {
  core::EventSummary e;
  e.id = "ev-1";
  e.name = "<script>alert(1)</script>";
  e.venue = "\"><img src=x>";
  const std::string html = pages::events({e}, std::chrono::system_clock::now(), "tok\"en");
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img src=x>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("value=\"tok&quot;en\""), std::string::npos);

  pages::ParticipantsView pv;
  core::UserRow p;
  p.id = "u1";
  p.displayName = "<b onmouseover=x>";
  p.email = "e@x.org";
  pv.page.rows.push_back(p);
  pv.page.total = 1;
  pv.search = "\"><script>";
  const std::string list = pages::participants(pv, "t");
  EXPECT_EQ(list.find("<b onmouseover"), std::string::npos);
  EXPECT_EQ(list.find("\"><script>"), std::string::npos);
}

TEST(Pages, NoticesAreFixedTextOnly) {
  EXPECT_NE(noticeFor(pages::notices(), "event-created").find("Event created."), std::string::npos);
  EXPECT_EQ(noticeFor(pages::notices(), "<script>"), "");
}

}  // namespace
}  // namespace attendance::admin_web
