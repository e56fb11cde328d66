#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <attendance/support/result.hpp>

// Pure text helpers for the admin pages and the participant pages (apps/backend/src/web): HTML escaping, the tiny
// template language of assets/*.html, form and cookie parsing.
namespace attendance::admin_web {

// Escapes & < > " ' so the text is safe in element content and in quoted attributes.
void appendEscaped(std::string& out, std::string_view text);
[[nodiscard]] std::string escape(std::string_view text);

// Values for a template. `{{name}}` inserts the escaped value, `{{{name}}}`
// inserts it raw (only for fragments this program built with escape()).
// A placeholder without a value is a programming error: render() throws
// std::logic_error so a typo fails the tests instead of shipping an empty slot.
using TemplateValues = std::vector<std::pair<std::string_view, std::string_view>>;
[[nodiscard]] std::string renderTemplate(std::string_view tpl, const TemplateValues& values);

// application/x-www-form-urlencoded body -> fields ('+' is a space, %XX decoded).
// Repeated names keep the first value. Fails (errc::invalid_argument, the message
// saying what for a 400) on a malformed escape or on a name or value that is not UTF-8 ("field
// name is not valid UTF-8"): every field ends up in queries, and PostgreSQL refuses
// invalid UTF-8 with an error.
using FormFields = std::map<std::string, std::string, std::less<>>;
[[nodiscard]] Outcome<FormFields> parseForm(std::string_view body);
[[nodiscard]] std::string formValue(const FormFields& form, std::string_view name);

// Value of cookie `name` in a Cookie header, or empty.
[[nodiscard]] std::string_view cookieValue(std::string_view cookieHeader, std::string_view name);

// Messages for refused form fields, by field name ("ends": "The end must not be before the start.").
using FieldErrors = std::map<std::string, std::string, std::less<>>;

// One field of a form: label, input and, when it was refused (its name in
// `errors`), the message right after the input, tied to it by aria-describedby.
// `input` is the raw attribute text after the name ("type=\"email\" required");
// `value` is escaped. Shared by the admin console and the participant pages.
[[nodiscard]] std::string formField(std::string_view id, std::string_view name, std::string_view label,
                                    std::string_view input, std::string_view value, const FieldErrors* errors);

// A Set-Cookie value: `name=value; Path=/; Max-Age=…; HttpOnly; SameSite=…` (+ `; Secure`).
// One format for the admin console's and the participant pages' cookies.
[[nodiscard]] std::string setCookieValue(std::string_view name, std::string_view value, std::int64_t maxAge,
                                         std::string_view sameSite, bool secure);

// A message box at the top of a page (role=status, or alert for an error); `text` is escaped.
enum class FlashKind { ok, error, warn };
[[nodiscard]] std::string flash(FlashKind kind, std::string_view text);

// The fixed notices a page shows after a redirect, addressed by code in `?notice=`: each app has its table
// (admin pages.cpp, participant_pages.cpp); an unknown code shows nothing, so no input is ever echoed.
struct Notice {
  std::string_view code;
  FlashKind kind;
  std::string_view text;
};
[[nodiscard]] std::string noticeFor(std::span<const Notice> notices, std::string_view code);

// Percent-encodes for a URL query value or path segment.
[[nodiscard]] std::string urlEncode(std::string_view text);

}  // namespace attendance::admin_web
